"""Loggers that speak once per run, whatever the number of processes."""

from __future__ import annotations

import logging
from typing import Any

from lightning.fabric.utilities.rank_zero import rank_zero_only


class RankZeroLogger(logging.LoggerAdapter):
    """A module logger whose records below WARNING are emitted by the rank-zero process only.

    Under DDP every process runs the set-up code (data loading, encoding, building the model); their
    information lines are the same, so only rank zero prints them. Warnings and errors come from every
    process, since they may differ. The rank is read from the launcher's environment (``RANK``,
    ``LOCAL_RANK``...), so it is right before the trainer starts too.
    """

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if level < logging.WARNING and getattr(rank_zero_only, "rank", 0) != 0:
            return
        super().log(level, msg, *args, **kwargs)


def get_logger(name: str) -> RankZeroLogger:
    """``logging.getLogger(name)`` wrapped in :class:`RankZeroLogger`."""
    return RankZeroLogger(logging.getLogger(name), {})
