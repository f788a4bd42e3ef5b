"""Test metrics a data protocol adds to a run's own (``test/auc`` ...), chosen by the DataModule.

A DataModule naming a protocol (``protocol_record()["protocol"]``) gets that protocol's metrics after
training's test, computed by the best weights: ``pykt`` adds pyKT's 20 test metrics
(:func:`ktlab.evaluation.pykt.pykt_test_metrics`). Other DataModules add nothing.
"""

from __future__ import annotations

from typing import Any

import torch

from ktlab.evaluation.pykt import pykt_test_metrics


def protocol_record(datamodule: Any) -> dict[str, Any]:
    """What the DataModule says of its protocol (``{}`` for the usual split), for ``metrics.json``."""
    record = getattr(datamodule, "protocol_record", None)
    return {"protocol": record()} if callable(record) else {}


def protocol_test_metrics(model: torch.nn.Module, datamodule: Any) -> dict[str, float | None]:
    """The protocol's own test metrics under ``test/`` (``{}`` when the DataModule names none)."""
    record = protocol_record(datamodule).get("protocol", {})
    if record.get("protocol") == "pykt":
        return pykt_test_metrics(model, datamodule)
    return {}
