"""Lightning's CSV logger, made to continue a resumed run's ``metrics.csv`` instead of starting it over.

Lightning's ``CSVLogger`` deletes an existing ``metrics.csv`` when it opens its folder, so a run resumed into
its own folder (``ckpt_path=last hydra.run.dir=<run dir>``) would keep only the epochs trained after the
resume. :class:`CSVLogger` keeps the rows of the epochs the resumed checkpoint holds (those of later,
unfinished epochs and of an earlier test are dropped: the resumed run logs them again) and appends to them.
A run that does not resume starts the file afresh, as Lightning's does.
"""

from __future__ import annotations

import csv
import os
from typing import Any

from lightning.pytorch.loggers import CSVLogger as LightningCSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment

from ktlab.utils.logging import get_logger

log = get_logger(__name__)


class _ContinuingWriter(ExperimentWriter):
    """An experiment writer that keeps the rows of ``metrics.csv`` up to epoch ``keep_epochs_until``."""

    def __init__(self, log_dir: str, keep_epochs_until: int | None) -> None:
        self._keep_epochs_until = keep_epochs_until
        super().__init__(log_dir=log_dir)

    def _check_log_dir_exists(self) -> None:
        if self._keep_epochs_until is None or not os.path.isfile(self.metrics_file_path):
            super()._check_log_dir_exists()
            return
        with open(self.metrics_file_path, newline="") as file:
            reader = csv.DictReader(file)
            header = list(reader.fieldnames or [])
            rows = [row for row in reader if _epoch(row) <= self._keep_epochs_until]
        with open(self.metrics_file_path, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)
        # Lightning's writer appends to a file it knows the columns of, and rewrites it when new ones come.
        self.metrics_keys = header
        log.info("continuing %s (%d earlier rows kept)", self.metrics_file_path, len(rows))


def _epoch(row: dict[str, Any]) -> float:
    """A row's epoch; a row without one counts as after every epoch (it is dropped)."""
    try:
        return float(row.get("epoch") or "inf")
    except ValueError:
        return float("inf")


class CSVLogger(LightningCSVLogger):
    """Lightning's ``CSVLogger`` (same arguments) that continues the file of a resumed run.

    ``train.py`` calls :meth:`continue_from` with the resumed checkpoint's epoch before anything is logged.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._keep_epochs_until: int | None = None

    def continue_from(self, epoch: int) -> None:
        """Keep the rows of epochs ``0..epoch`` already in ``metrics.csv`` (call before the first log)."""
        self._keep_epochs_until = epoch

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        """The writer (Lightning's, keeping the earlier rows when continuing a run)."""
        if self._experiment is not None:
            return self._experiment
        self._fs.makedirs(self.root_dir, exist_ok=True)
        self._experiment = _ContinuingWriter(log_dir=self.log_dir, keep_epochs_until=self._keep_epochs_until)
        return self._experiment
