"""pyKT 0.0.38's side of ``scripts/bench_zoo.py``: its networks, their sizes, its batch layout and its
training step, timed on batches that ktlab's DataModules make.

pyKT is never a dependency: ``import_pykt`` puts the folder holding the unpacked package
(``pip install --no-deps --target /tmp/pykt pykt-toolkit==0.0.38``) on ``sys.path``. The size tables and
the mappings between pyKT's constructor arguments and ktlab's ``model.net`` settings are plain data and
functions, usable (and tested) without pyKT.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

#: Models pyKT 0.0.38 has, by ktlab's model name: pyKT's model name (``net.model_name``) and class.
PYKT_MODELS: dict[str, tuple[str, str]] = {
    "dkt": ("dkt", "pykt.models.dkt.DKT"),
    "dkt_plus": ("dkt+", "pykt.models.dkt_plus.DKTPlus"),
    "sakt": ("sakt", "pykt.models.sakt.SAKT"),
    "akt": ("akt", "pykt.models.akt.AKT"),
    "dkvmn": ("dkvmn", "pykt.models.dkvmn.DKVMN"),
    "saint": ("saint", "pykt.models.saint.SAINT"),
}

#: Where :data:`PYKT_DEFAULT_SIZES` come from. The 0.0.38 wheel ships no configuration file (its
#: ``configs`` package holds only ``que_type_models``); pyKT's repository keeps them in
#: ``configs/kt_config.json``, and its constructors' defaults fill the arguments that file leaves out.
PYKT_SIZES_SOURCE = (
    "pyKT's configs/kt_config.json (github.com/pykt-team/pykt-toolkit, commit 071ca661; not in the 0.0.38 "
    "wheel) per-model entries, learning_rate left out; arguments it omits take the 0.0.38 constructors' "
    "defaults (dkt+ dropout 0.1; akt final_fc_dim 512, num_attn_heads 8, l2 1e-5) and seq_len its "
    "train_config's 200. pyKT's examples/wandb_<model>_train.py scripts pass their own command-line "
    "defaults instead, which differ for some models (e.g. SAINT n_blocks 4)."
)

#: pyKT's default constructor arguments per model (:data:`PYKT_SIZES_SOURCE`), without ``num_c``/``num_q``.
PYKT_DEFAULT_SIZES: dict[str, dict[str, Any]] = {
    "dkt": {"emb_size": 200, "dropout": 0.1},
    "dkt_plus": {"emb_size": 200, "lambda_r": 0.2, "lambda_w1": 1.0, "lambda_w2": 10.0, "dropout": 0.1},
    "dkvmn": {"dim_s": 200, "size_m": 50, "dropout": 0.2},
    "sakt": {"seq_len": 200, "emb_size": 256, "num_attn_heads": 8, "dropout": 0.2, "num_en": 1},
    "saint": {"seq_len": 200, "emb_size": 256, "num_attn_heads": 8, "dropout": 0.2, "n_blocks": 2},
    "akt": {
        "d_model": 256,
        "n_blocks": 1,
        "dropout": 0.05,
        "d_ff": 256,
        "final_fc_dim": 512,
        "num_attn_heads": 8,
        "l2": 1e-5,
    },
}

#: pyKT's training batch size on its protocol: train_config's 256, and 64 for the models pyKT's
#: examples/wandb_train.py lowers it for ("because of OOM"); ktlab's models of the same families follow.
PYKT_PROTOCOL_BATCH: dict[str, int] = {
    name: 64 for name in ("sakt", "akt", "dkvmn", "saint", "simplekt", "sparsekt_topk", "sparsekt_soft")
}

#: Each pyKT argument and the ``model.net`` settings of ktlab's network that take its value.
_PYKT_TO_KTLAB: dict[str, dict[str, tuple[str, ...]]] = {
    "dkt": {"emb_size": ("embed_dim", "hidden_dim"), "dropout": ("dropout",)},
    "dkt_plus": {
        "emb_size": ("embed_dim", "hidden_dim"),
        "dropout": ("dropout",),
        "lambda_r": ("lambda_r",),
        "lambda_w1": ("lambda_w1",),
        "lambda_w2": ("lambda_w2",),
    },
    # pyKT's DKVMN has one width for keys, values and the summary layer (f_layer: 2 dim_s -> dim_s)
    "dkvmn": {
        "dim_s": ("key_dim", "value_dim", "summary_dim"),
        "size_m": ("memory_size",),
        "dropout": ("dropout",),
    },
    "sakt": {
        "emb_size": ("dim",),
        "num_attn_heads": ("n_heads",),
        "num_en": ("n_blocks",),
        "dropout": ("dropout",),
    },
    # pyKT's SAINT: feed-forward layers as wide as the model (transformer_FFN), attention dropout = dropout
    "saint": {
        "emb_size": ("dim", "ff_dim"),
        "num_attn_heads": ("n_heads",),
        "n_blocks": ("n_blocks",),
        "dropout": ("dropout", "attention_dropout"),
    },
    "akt": {
        "d_model": ("dim",),
        "d_ff": ("ff_dim",),
        "final_fc_dim": ("head_dim",),
        "num_attn_heads": ("n_heads",),
        "n_blocks": ("n_blocks",),
        "dropout": ("dropout", "attention_dropout"),
        "l2": ("rasch_l2",),
    },
}

#: pyKT arguments with no ktlab counterpart: passed as they are, noted beside the sizes.
_PYKT_ONLY = {"seq_len": "pyKT's positional table length (ktlab's networks take model.net.max_len)"}


def ktlab_net_overrides(model: str, pykt_sizes: Mapping[str, Any]) -> dict[str, Any]:
    """``model.net`` settings giving ktlab's ``model`` the sizes of pyKT's constructor ``pykt_sizes``."""
    mapping = _PYKT_TO_KTLAB[model]
    out: dict[str, Any] = {}
    for arg, value in pykt_sizes.items():
        if arg in _PYKT_ONLY:
            continue
        if arg not in mapping:
            raise KeyError(f"{model}: no ktlab setting for pyKT's {arg}")
        for key in mapping[arg]:
            out[key] = value
    return out


def pykt_sizes_from_ktlab(model: str, net: Mapping[str, Any], seq_len: int = 200) -> tuple[dict, list[str]]:
    """pyKT's constructor arguments closest to ktlab's ``model.net`` settings ``net``, and a note for each
    setting pyKT cannot take (a width it ties to another, a setting it has not): ``(sizes, mismatches)``."""
    sizes: dict[str, Any] = {}
    notes: list[str] = []
    for arg, keys in _PYKT_TO_KTLAB[model].items():
        given = [key for key in keys if key in net]
        if not given:
            continue
        # the first ktlab key sets pyKT's value; the others must agree, or pyKT cannot match them
        primary = given[0]
        if model == "dkvmn" and arg == "dim_s":
            primary = "value_dim"  # the memory's state: pyKT's one width follows the values
        sizes[arg] = net[primary]
        for key in given:
            if net[key] != sizes[arg]:
                notes.append(
                    f"ktlab {key}={net[key]}, pyKT {arg}={sizes[arg]}: pyKT ties {', '.join(keys)} together"
                )
    if model in ("sakt", "saint"):
        sizes["seq_len"] = seq_len
    if model == "sakt" and net.get("attention_dropout", net.get("dropout")) != net.get("dropout"):
        notes.append(
            f"ktlab attention_dropout={net['attention_dropout']}, pyKT drops attention weights at "
            f"dropout={net.get('dropout')}"
        )
    if model == "dkvmn" and "init_std" in net:
        notes.append(f"ktlab memories N(0, {net['init_std']}), pyKT's kaiming_normal_")
    return sizes, notes


def import_pykt(folder: str | Path) -> bool:
    """Put ``folder`` (holding the unpacked ``pykt`` package) on ``sys.path``; False if it has none."""
    if not (Path(folder) / "pykt").is_dir():
        return False
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return True


def build_pykt_net(model: str, n_skills: int, sizes: Mapping[str, Any]) -> torch.nn.Module:
    """pyKT's network for ``model`` over ``n_skills`` concepts and no question ids (``import_pykt`` first).

    pyKT's constructors print (SAINT its sizes): their output goes to stderr, never into the JSON."""
    import importlib

    import pykt.models  # noqa: F401  (the package must import before its modules)

    module, cls = PYKT_MODELS[model][1].rsplit(".", 1)
    net_class = getattr(importlib.import_module(module), cls)
    with contextlib.redirect_stdout(sys.stderr):
        if model == "akt":
            return net_class(n_skills, 0, **sizes)
        if model == "saint":
            return net_class(0, n_skills, **sizes)
        return net_class(n_skills, **sizes)


def to_pykt(batch: dict[str, torch.Tensor], with_problems: bool) -> dict[str, torch.Tensor]:
    """A ktlab batch in pyKT's layout: current steps ``[:, :-1]``, next steps ``[:, 1:]``, 0-based ids.

    ``smasks`` (the rows the loss reads) are the real next steps, and of them those the batch's
    ``select`` flags where it has one (pyKT's ``selectmasks``)."""
    mask = batch["mask"]
    concept = (batch["skill"] - 1).clamp(min=0) * mask
    problem = (batch["problem"] * mask) if with_problems and "problem" in batch else torch.zeros_like(concept)
    answer = batch["correct"] * mask
    zeros = torch.zeros_like(concept)
    scored = mask & batch["select"] if "select" in batch else mask
    return {
        "qseqs": problem[:, :-1], "cseqs": concept[:, :-1], "rseqs": answer[:, :-1], "tseqs": zeros[:, :-1],
        "shft_qseqs": problem[:, 1:], "shft_cseqs": concept[:, 1:], "shft_rseqs": answer[:, 1:],
        "shft_tseqs": zeros[:, 1:], "masks": mask[:, :-1], "smasks": scored[:, 1:],
    }  # fmt: skip


def pykt_predict(net: torch.nn.Module, batch: dict[str, torch.Tensor], with_problems: bool) -> torch.Tensor:
    """pyKT's prediction of steps 1..T-1 (as its evaluation computes it), padded to ``[B, T]``."""
    d = to_pykt(batch, with_problems)
    c, r, cs = d["cseqs"].long(), d["rseqs"].long(), d["shft_cseqs"].long()
    cc = torch.cat([c[:, :1], cs], dim=1)
    cr = torch.cat([r[:, :1], d["shft_rseqs"].long()], dim=1)
    cq = torch.cat([d["qseqs"][:, :1], d["shft_qseqs"]], dim=1).long()
    if net.model_name in ("dkt", "dkt+"):
        y = (net(c, r) * torch.nn.functional.one_hot(cs, net.num_c)).sum(-1)
    elif net.model_name == "sakt":
        y = net(c, r, cs)
    elif net.model_name == "dkvmn":
        y = net(cc, cr)[:, 1:]
    elif net.model_name == "saint":
        y = net(cq, cc, r)[:, 1:]
    else:
        y = net(cc, cr, cq)[0][:, 1:]
    return torch.cat([torch.zeros_like(y[:, :1]), y], dim=1)


def pad_to(batch: dict[str, torch.Tensor], length: int) -> dict[str, torch.Tensor]:
    """``batch`` with every ``[B, L, ...]`` tensor zero-padded (mask False) to ``L = length``."""
    width = batch["mask"].shape[1]
    out = {}
    for key, values in batch.items():
        if values.dim() >= 2 and values.shape[1] == width and length > width:
            pad = torch.zeros((values.shape[0], length - width, *values.shape[2:]), dtype=values.dtype)
            values = torch.cat([values, pad], dim=1)
        out[key] = values
    return out


def pykt_train_seconds(
    net: torch.nn.Module, batches: Iterable[dict[str, torch.Tensor]], optimizer: torch.optim.Optimizer
) -> float:
    """Seconds pyKT's own training step (``pykt.models.train_model.model_forward``: forward and loss,
    then backward and Adam's step, as its ``train_model`` loop does) takes over ``batches``, already in
    pyKT's layout (:func:`to_pykt`)."""
    train_model = sys.modules["pykt.models.train_model"]
    net.train()
    start = time.perf_counter()
    for batch in batches:
        loss = train_model.model_forward(net, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start
