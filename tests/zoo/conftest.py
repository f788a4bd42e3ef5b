"""Fixtures of the benchmark-model tests: tiny runs on the released-format slices of tests/assets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from omegaconf import DictConfig, OmegaConf, open_dict

from tests.conftest import ASSETS, CONF_DIR, compose_config, model_family

#: Slices of the released files, laid out like the released folders (`paths.data_dir=tests/assets/kt`).
KT = ASSETS / "kt"
PID = KT / "assist2009_pid"
#: The 4-line slice with problem ids through its real config, so AKT's Rasch embeddings are exercised.

#: Every sequence-model option (those built on KTLitModule; the question-text family has its own tests).
MODELS = sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml") if model_family(p.stem) == "sequence")
PID_DATA = [
    "data=assist2009_pid",
    f"paths.data_dir={KT}",
    "data.max_len=32",
    "data.batch_size=32",
]
TINY_TRAINER = ["trainer.max_epochs=1", "trainer.log_every_n_steps=1", "callbacks.progress_bar=null"]
SMALL = {"embed_dim": 8, "hidden_dim": 16, "head_dim": 16, "dim": 16, "ff_dim": 16, "n_heads": 2}


def _net_node(option: str) -> dict[str, Any]:
    """The ``net`` node of ``conf/model/<option>.yaml``, merged over those of the options it extends."""
    node = OmegaConf.load(CONF_DIR / "model" / f"{option}.yaml")
    merged = OmegaConf.create()
    for parent in node.get("defaults", []):
        if parent != "_self_":
            merged = OmegaConf.merge(merged, {"net": _net_node(parent)})
    merged = OmegaConf.merge(merged, {"net": node.get("net", {})})
    return OmegaConf.to_container(merged.net)


def net_config(option: str, sizes: Mapping[str, Any]) -> dict[str, Any]:
    """The network config of ``conf/model/<option>.yaml`` (following its defaults), each setting named in
    ``sizes`` replaced by its value there (build it with ``ktlab.models.kt_module.build_network``)."""
    return {key: sizes.get(key, value) for key, value in _net_node(option).items()}


def shrink(cfg: DictConfig) -> DictConfig:
    """Make the configured network tiny, whatever its settings are called."""
    with open_dict(cfg):
        for key, value in SMALL.items():
            if key in cfg.model.net:
                cfg.model.net[key] = value
    return cfg


@pytest.fixture
def tiny_run(tmp_path: Path) -> Callable[..., DictConfig]:
    """``tiny_run("model=akt", ...)``: a composed, shrunk train config on the 4-line slice."""

    def _make(*overrides: str) -> DictConfig:
        return shrink(compose_config("train", [*PID_DATA, *TINY_TRAINER, *overrides], tmp_path))

    return _make
