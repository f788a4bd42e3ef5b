"""Running ``train`` in this process, quietly and with timed epochs (for benchmark scripts comparing configs).

An entry point like :mod:`ktlab.train`, on whose :func:`~ktlab.train.train` it builds; the epoch timer it
adds is :class:`ktlab.callbacks.epoch_time.EpochTime`, writing every epoch's seconds to a JSON file.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from ktlab.train import train
from ktlab.utils.resources import config_dir

QUIET = [
    "callbacks.progress_bar=null",
    "callbacks.model_summary=null",
    "logger=csv",
    "+trainer.enable_model_summary=false",
]


def compose_run(overrides: list[str], output_dir: Path) -> DictConfig:
    """ktlab's ``train`` config with ``overrides``, writing into ``output_dir``.

    The project root (``paths.root_dir``: ``data/`` and ``logs/``) is ``KTLAB_ROOT``, else the current
    directory; the configs are ktlab's own (:func:`ktlab.utils.resources.config_dir`).
    """
    root = Path(os.environ.get("KTLAB_ROOT") or os.getcwd())
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose(
            "train", overrides=[f"paths.root_dir={root}", *QUIET, *overrides], return_hydra_config=True
        )
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
        cfg.hydra.runtime.output_dir = str(output_dir)
        cfg.hydra.runtime.cwd = str(root)
        cfg.hydra.job.num = 0
    HydraConfig.instance().set_config(cfg)
    return cfg


def timed_train(overrides: list[str], output_dir: Path) -> tuple[dict[str, float | None], list[float]]:
    """Train and test with ``overrides``; returns the metrics and the training epochs' wall times."""
    path = output_dir / "epoch_times.json"
    timer = ["+callbacks.epoch_timer._target_=ktlab.callbacks.epoch_time.EpochTime",
             f"+callbacks.epoch_timer.path={path}"]  # fmt: skip
    with contextlib.redirect_stdout(sys.stderr):  # Lightning's tables; stdout stays for the script's JSON
        metrics = train(compose_run([*overrides, *timer], output_dir))
    return metrics, json.loads(path.read_text())
