"""Keeping a run's console to ktlab's own lines and real warnings.

Lightning and its dependencies print, on every run, lines that say nothing about the run: advertising
tips, "GPU available: False" on a CPU machine, a notice that the configured model-summary callback
replaces its default one, a deprecation inside torch's ``_pytree`` that Lightning triggers, and a warning
about the logging interval on small data (ktlab logs once per epoch, so the interval does not apply).
Under DDP, Lightning recommends ``sync_dist=True`` for every epoch-level value ktlab's modules log; those
are the results of torchmetrics' ``compute()``, which already reduces across processes, so that one
recommendation is dropped for the ``train/``, ``val/`` and ``test/`` metrics. Only those exact messages
are dropped; every other warning still shows.

A progress bar is drawn on a terminal only: written into a log file or a pipe, each redraw is a line
(:func:`terminal_progress_bar`).
"""

from __future__ import annotations

import logging
import sys
import warnings
from typing import Any

from lightning.pytorch.callbacks import ProgressBar

#: Starts of the Lightning information lines that are dropped.
_LIGHTNING_NOISE = (
    "💡 Tip:",
    "GPU available:",
    "TPU available:",
    "HPU available:",
    "Trainer already configured with model summary callbacks",
)
_LIGHTNING_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")


class _DropNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.getMessage()).startswith(_LIGHTNING_NOISE)


def quiet_libraries() -> None:
    """Drop the known noise lines and warnings (idempotent; call at the start of an entry point)."""
    for name in _LIGHTNING_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropNoise) for f in logger.filters):
            logger.addFilter(_DropNoise())
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
    warnings.filterwarnings("ignore", message=r".*is smaller than the logging interval.*")
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=r"Precision bf16-mixed is not supported by the model summary.*")
    warnings.filterwarnings(
        "ignore",
        message=r"It is recommended to use `self\.log\('(train|val|test)/[^']*', \.\.\., sync_dist=True\)`",
    )


def on_terminal() -> bool:
    """Whether both standard output and standard error are terminals."""
    return all(stream is not None and stream.isatty() for stream in (sys.stdout, sys.stderr))


def terminal_progress_bar(callbacks: list[Any]) -> tuple[list[Any], dict[str, bool]]:
    """The callbacks without a progress bar, and the Trainer argument that turns Lightning's own off, when
    the output is not a terminal; unchanged (and no argument) on a terminal.
    """
    if on_terminal():
        return callbacks, {}
    return [c for c in callbacks if not isinstance(c, ProgressBar)], {"enable_progress_bar": False}
