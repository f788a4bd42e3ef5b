"""Running ``train`` in this process with timed epochs (for benchmark scripts that compare configs)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from lightning import Callback
from omegaconf import DictConfig, open_dict

from ktlab.train import train

QUIET = [
    "callbacks.progress_bar=null",
    "callbacks.model_summary=null",
    "logger=csv",
    "+trainer.enable_model_summary=false",
]


def compose_run(overrides: list[str], output_dir: Path) -> DictConfig:
    """The ``train`` config of the project in the current directory (or ``KTLAB_ROOT``), writing into ``output_dir``."""
    root = Path(os.environ.get("KTLAB_ROOT") or os.getcwd())
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(root / "conf"), version_base="1.3"):
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


class EpochTimer(Callback):
    """Writes the wall time of each training epoch (its batches and steps, not validation) to ``path``.

    Args:
        path: a JSON file, rewritten after every epoch.
    """

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.times: list[float] = []
        self._start = 0.0

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        self._start = time.perf_counter()

    def _stop(self) -> None:
        if self._start:
            self.times.append(time.perf_counter() - self._start)
            self._start = 0.0
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.times))

    def on_validation_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        if not trainer.sanity_checking:
            self._stop()

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        self._stop()


def timed_train(overrides: list[str], output_dir: Path) -> tuple[dict[str, float | None], list[float]]:
    """Train and test with ``overrides``; returns the metrics and the training epochs' wall times."""
    path = output_dir / "epoch_times.json"
    timer = ["+callbacks.epoch_timer._target_=ktlab.utils.timing.EpochTimer",
             f"+callbacks.epoch_timer.path={path}"]  # fmt: skip
    with contextlib.redirect_stdout(sys.stderr):  # Lightning's tables; stdout stays for the script's JSON
        metrics = train(compose_run([*overrides, *timer], output_dir))
    return metrics, json.loads(path.read_text())
