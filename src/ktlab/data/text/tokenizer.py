"""Tokenizers for question texts: trained on the question bank, or a pretrained model's; encoded once, cached.

The tokenizer is the fitted state of the text data and travels in the checkpoint as plain data: its
``tokenizers`` JSON string (``Tokenizer.to_str()``) and the names of its special tokens. A trained one is
a WordPiece model over the training questions' texts whose pre-tokenizer splits numbers into single digits
(so the size of a number shows as its count of digit tokens) and that wraps each text as
``[CLS] ... [SEP]``. A pretrained one is the fast tokenizer of a Hugging Face checkpoint (a hub name or a
local directory).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from ktlab.errors import KtlabError

log = logging.getLogger(__name__)

SPECIAL_TOKENS: dict[str, str] = {
    "pad_token": "[PAD]",
    "unk_token": "[UNK]",
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "mask_token": "[MASK]",
}


class PretrainedModelError(KtlabError):
    """A pretrained model or tokenizer cannot be found (offline without a cache, a wrong name or folder)."""


def offline_hint(name: str) -> str:
    return (
        f"cannot load the pretrained model {name!r}: it is neither a local directory nor in the Hugging Face "
        f"cache{' and HF_HUB_OFFLINE=1 forbids downloading it' if os.environ.get('HF_HUB_OFFLINE') == '1' else ''}. "
        "Download it once with network access (e.g. `huggingface-cli download " + name + "`), point "
        "model.pretrained at a local directory holding config.json, the weights and the tokenizer files, or "
        "drop model.pretrained to train the small ModernBERT built from config."
    )


def train_tokenizer(texts: Sequence[str], vocab_size: int = 1000, lowercase: bool = True) -> dict[str, Any]:
    """Train a WordPiece tokenizer on ``texts``; returns its state (JSON string and special tokens)."""
    tokenizer = Tokenizer(models.WordPiece(unk_token=SPECIAL_TOKENS["unk_token"]))
    steps = [normalizers.NFKC(), *([normalizers.Lowercase()] if lowercase else [])]
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.BertPreTokenizer(), pre_tokenizers.Digits(individual_digits=True)]
    )
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS.values()), show_progress=False
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    cls, sep = SPECIAL_TOKENS["cls_token"], SPECIAL_TOKENS["sep_token"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{cls} $A {sep}",
        special_tokens=[(cls, tokenizer.token_to_id(cls)), (sep, tokenizer.token_to_id(sep))],
    )
    tokenizer.decoder = decoders.WordPiece()
    return {"json": tokenizer.to_str(), "special_tokens": dict(SPECIAL_TOKENS), "pretrained": None}


def pretrained_tokenizer(name: str) -> dict[str, Any]:
    """The state of a pretrained model's fast tokenizer (a hub name, found in the cache, or a directory).

    Raises:
        PretrainedModelError: it cannot be found (within seconds offline: nothing waits on the network).
    """
    from transformers import AutoTokenizer

    try:
        hf = AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError) as err:
        log.debug("loading the tokenizer of %s failed: %s", name, err)
        raise PretrainedModelError(offline_hint(name)) from None
    special = {key: getattr(hf, key) for key in SPECIAL_TOKENS if getattr(hf, key, None) is not None}
    return {"json": hf.backend_tokenizer.to_str(), "special_tokens": special, "pretrained": name}


def load_tokenizer(state: Mapping[str, Any]) -> Tokenizer:
    """The tokenizer of a state (no padding, no truncation: those are set per use)."""
    tokenizer = Tokenizer.from_str(state["json"])
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def special_ids(state: Mapping[str, Any]) -> dict[str, int]:
    """``{"pad_token_id": 0, "cls_token_id": 2, ...}`` of a tokenizer state."""
    tokenizer = Tokenizer.from_str(state["json"])
    return {f"{key}_id": int(tokenizer.token_to_id(token)) for key, token in state["special_tokens"].items()
            if tokenizer.token_to_id(token) is not None}  # fmt: skip


def hf_tokenizer(state: Mapping[str, Any]):
    """A ``transformers`` fast tokenizer of a state (what an exported model is saved with)."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=load_tokenizer(state), **state["special_tokens"])


def _read_cache(path: Path, n_texts: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The ``(ids, offsets)`` of a token cache file, or None (with a warning) when it is damaged."""
    try:
        with np.load(path) as cached:
            ids, offsets = cached["ids"], cached["offsets"]
        fits = offsets.ndim == 1 and len(offsets) == n_texts + 1 and ids.ndim == 1 and offsets[-1] == len(ids)
        problem = None if fits else "its arrays do not fit the texts"
    except (
        Exception
    ) as err:  # a truncated or overwritten .npz raises zipfile, OSError, ValueError, EOFError...
        problem = f"{type(err).__name__}: {str(err)[:120]}"
    if problem is None:
        return ids, offsets
    log.warning("%s: damaged token cache (%s); rebuilding it", path, problem)
    return None


def encode_texts(
    state: Mapping[str, Any], texts: Sequence[str], max_length: int, cache_dir: str | Path | None = None,
    template: str = "",
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Token ids of every text, truncated to ``max_length``, as a flat array and per-text offsets.

    Each text is encoded once; with ``cache_dir`` the result is cached in an ``.npz`` file keyed by the
    tokenizer, the template, ``max_length`` and the texts, so a rerun reads it back. A cache file that
    cannot be read or does not fit the texts (a damaged or truncated file) is rebuilt, with a warning.

    Returns:
        ``(ids, offsets)``: text ``i`` is ``ids[offsets[i]:offsets[i + 1]]``.
    """
    digest = hashlib.sha1()
    for part in (state["json"], template, str(max_length), *texts):
        digest.update(part.encode())
        digest.update(b"\x00")
    path = Path(cache_dir).expanduser() / f"tokens_{digest.hexdigest()[:16]}.npz" if cache_dir else None
    if path is not None and path.exists():
        cached = _read_cache(path, len(texts))
        if cached is not None:
            return cached
    tokenizer = load_tokenizer(state)
    tokenizer.enable_truncation(max_length=max_length)
    encoded = tokenizer.encode_batch(list(texts))
    lengths = np.array([len(e.ids) for e in encoded], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    ids = np.fromiter((i for e in encoded for i in e.ids), dtype=np.int64, count=int(offsets[-1]))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, ids=ids, offsets=offsets)
        tmp.replace(path)
        log.info("tokenized %d questions -> %s", len(texts), path)
    return ids, offsets
