"""What a finished training run hands to its registry (see ``conf/registry``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass
class RunRecord:
    """A finished training run.

    Attributes:
        name: the model's name (``model.name`` in config, e.g. ``dkt_gru``).
        metrics: final metrics, e.g. ``{"test/auc": 0.81, "val/auc": 0.82}``.
        checkpoint_path: the best checkpoint (or the last one when none was judged best).
        config: the composed, resolved run config.
        output_dir: the run directory.
        kind: the model's class, when the config's targets do not name it (a scikit-learn estimator).
    """

    name: str
    metrics: dict[str, float]
    checkpoint_path: str | None
    config: dict[str, Any]
    output_dir: str
    kind: str | None = None


class RunRegistry(Protocol):
    """Anything that stores finished runs; ``train.py`` calls ``record`` once per run, on rank 0."""

    def record(self, run: RunRecord) -> None: ...
