"""A callback writing the wall time of each training epoch (for benchmark scripts; see ktlab.benchmark)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from lightning import Callback


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
