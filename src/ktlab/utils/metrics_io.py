"""Writing a run's final metrics."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def to_floats(metrics: Mapping[str, Any]) -> dict[str, float | None]:
    """Metric tensors and numbers to plain floats, sorted by name; an undefined value (NaN) is None."""
    out: dict[str, float | None] = {}
    for key, value in metrics.items():
        if value is None:  # already undefined (to_floats of to_floats)
            out[key] = None
            continue
        number = float(value.item() if hasattr(value, "item") else value)
        out[key] = number if math.isfinite(number) else None
    return dict(sorted(out.items()))


def write_metrics(path: str | Path, metrics: Mapping[str, Any], **extra: Any) -> Path:
    """Write ``metrics.json``: the metrics as floats (``null`` where undefined), plus extra fields."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**to_floats(metrics), **extra}, indent=2, allow_nan=False) + "\n")
    return path
