"""Seconds of each training epoch, without its validation pass, logged as ``time/train_epoch_s``.

Lightning's ``Timer`` callback keeps the total time per stage only; the benchmark tables need the time of
every epoch (in ``csv/metrics.csv``), so this callback measures from the epoch start to the start of the
validation pass that closes it (or to the epoch end when there is none). With ``path``, the list of every
epoch's seconds is also written there as JSON after each epoch (what the benchmark scripts read).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import lightning as L


class EpochTime(L.Callback):
    """Log the wall-clock seconds of each training epoch's batches (``time/train_epoch_s``)."""

    def __init__(self, path: str | None = None) -> None:
        self.path = Path(path) if path else None
        self._start: float | None = None
        self._seconds: float | None = None
        self.seconds: list[float] = []  # every epoch's, in order

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start, self._seconds = time.perf_counter(), None

    def _stop(self) -> None:
        if self._start is not None and self._seconds is None:
            self._seconds = time.perf_counter() - self._start

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._stop()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._stop()
        if self._seconds is not None:
            self.seconds.append(self._seconds)
            if self.path is not None and trainer.is_global_zero:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.path.write_text(json.dumps(self.seconds))
            pl_module.log(
                "time/train_epoch_s", self._seconds, on_epoch=True, sync_dist=True
            )  # mean of processes
