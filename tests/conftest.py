"""Shared fixtures: real configs composed with Hydra's compose API, shrunk to tiny data and 1-2 epochs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, open_dict

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "conf"
ASSETS = Path(__file__).resolve().parent / "assets"

#: A classroom small enough for a 2-epoch run in a few seconds; data.max_len < sequence length so
#: windowing is exercised.
TINY_DATA = [
    "data.source.n_students=80",
    "data.source.min_len=12",
    "data.source.max_len=30",
    "data.max_len=16",
    "data.batch_size=16",
    "data.val_fraction=0.2",
    "data.test_fraction=0.2",
]
TINY_MODEL = ["model.net.hidden_dim=16", "model.net.embed_dim=8", "model.net.head_dim=16"]
TINY_TRAINER = ["trainer.max_epochs=2", "trainer.log_every_n_steps=1"]
TINY = TINY_DATA + TINY_MODEL + TINY_TRAINER
_ABSENT = object()


def model_family(option: str) -> str:
    """``"text"`` for a model option of the question-text family (its YAML, or one it extends, builds
    ``TextStudentModule``), else ``"sequence"``."""
    node = OmegaConf.load(CONF_DIR / "model" / f"{option}.yaml")
    if "text_module" in str(node.get("_target_", "")):
        return "text"
    parents = [d for d in node.get("defaults", []) if d != "_self_"]
    return "text" if any(model_family(p) == "text" for p in parents) else "sequence"


def compose_config(config_name: str, overrides: list[str], tmp_path: Path) -> DictConfig:
    """Compose ``conf/<config_name>.yaml`` with overrides, outputs under ``tmp_path``."""
    GlobalHydra.instance().clear()
    out = tmp_path / "run"
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name=config_name,
            overrides=[f"paths.root_dir={tmp_path}", *overrides],
            return_hydra_config=True,
        )
    with open_dict(cfg):
        cfg.paths.output_dir = str(out)
        cfg.hydra.runtime.output_dir = str(out)
        cfg.hydra.runtime.cwd = str(ROOT)
        cfg.hydra.job.num = 0
    HydraConfig.instance().set_config(cfg)
    return cfg


def shrink_network(cfg: DictConfig, overrides: tuple[str, ...] | list[str] = ()) -> None:
    """The tiny sizes of TINY_MODEL, for the settings the configured network has and no override sets."""
    given = {o.split("=", 1)[0].lstrip("+") for o in overrides}
    if OmegaConf.select(cfg, "model.net") is None:  # a family without a `net` node sizes itself
        return
    with open_dict(cfg):
        for item in TINY_MODEL:
            key, value = item.split("=", 1)
            name = key.rsplit(".", 1)[1]
            if key not in given and name in cfg.model.net:
                cfg.model.net[name] = int(value)


@pytest.fixture
def make_cfg(tmp_path: Path) -> Callable[..., DictConfig]:
    """``make_cfg("train", "model=dkt_lstm", ...)``: a tiny composed config writing under tmp_path."""

    def _make(config_name: str = "train", *overrides: str, tiny: bool = True) -> DictConfig:
        extra = list(TINY_DATA + TINY_TRAINER) if tiny and config_name == "train" else []
        if any(o.startswith("data=") and o != "data=synthetic" for o in overrides):
            extra = [o for o in extra if not o.startswith("data.source.")]  # only the generator has these
        if extra:  # shrink only what the composed config has (another model family has other keys)
            plain = compose_config(config_name, list(overrides), tmp_path)
            extra = [
                o
                for o in extra
                if OmegaConf.select(plain, o.split("=", 1)[0], default=_ABSENT) is not _ABSENT
            ]
        cfg = compose_config(config_name, [*extra, *overrides], tmp_path)
        if tiny and config_name == "train":
            shrink_network(cfg, overrides)
        return cfg

    yield _make
    GlobalHydra.instance().clear()


def run_cli(
    *args: str, cwd: Path = ROOT, timeout: int = 600, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run a root script (``train.py``...) or ``-m module`` in a subprocess with the test environment."""
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline", **(env or {})}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    no_cuda = pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
    no_mps = pytest.mark.skip(reason="needs an Apple MPS device")
    has_mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    for item in items:
        if "requires_cuda" in item.keywords and not torch.cuda.is_available():
            item.add_marker(no_cuda)
        if "requires_mps" in item.keywords and not has_mps:
            item.add_marker(no_mps)


def recomputed_test_auc(run_dir: Path) -> float | None:
    """The test AUC of a run's best checkpoint, recomputed by the evaluator from the checkpoint alone.

    Tests compare a run's reported ``test/auc`` with it: a value that merely lies in [0, 1] proves nothing,
    one that equals an independent recomputation proves the run tested the checkpoint it kept, on the
    answers the protocol scores.
    """
    from ktlab.evaluation import Evaluator
    from ktlab.models.checkpoint import load_model, restore_datamodule

    model = load_model(Path(run_dir) / "checkpoints" / "best.ckpt")
    datamodule = restore_datamodule(model)
    datamodule.setup("test")
    return Evaluator().run(model, datamodule.test_dataloader())["auc"]


def tiny_checkpoint(tmp_path: Path) -> Path:
    """The best checkpoint of a tiny default run (the enriched GRU on a small synthetic classroom)."""
    from ktlab.train import train

    cfg = compose_config("train", [*TINY, "test=false"], tmp_path)
    shrink_network(cfg)
    train(cfg)
    return Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt"
