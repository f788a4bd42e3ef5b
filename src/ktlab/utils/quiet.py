"""Keeping a run's console to ktlab's own lines and real warnings.

Lightning and its dependencies print, on every run, lines that say nothing about the run: advertising
tips, "GPU available: False" on a CPU machine, a notice that the configured model-summary callback
replaces its default one, a deprecation inside torch's ``_pytree`` that Lightning triggers, and a warning
about the logging interval on small data (ktlab logs once per epoch, so the interval does not apply).
Only those exact messages are dropped; every other warning still shows.
"""

from __future__ import annotations

import logging
import warnings

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
