"""Building callbacks and loggers from their config groups."""

from __future__ import annotations

from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig

from ktlab.utils.logging import get_logger

log = get_logger(__name__)


def instantiate_group(group: DictConfig | None, what: str) -> list[Any]:
    """Instantiate every ``_target_`` node of a config group dict (``callbacks``, ``logger``)."""
    objects: list[Any] = []
    if not group:
        return objects
    for key, node in group.items():
        if isinstance(node, DictConfig) and "_target_" in node:
            log.info("Instantiating %s <%s> (%s)", what, node._target_, key)
            objects.append(instantiate(node))
    return objects
