"""Keep the best checkpoint only when the monitored metric gains more than ``min_delta``.

pyKT keeps a new best model when the validation AUC beats the kept one by more than 0.001 (Liu et al.,
2022); Lightning's ``ModelCheckpoint`` replaces it at any gain. With ``save_top_k=1``, this one requires
the gain, as ``EarlyStopping(min_delta=...)`` does for patience, so the model kept is the one early
stopping counts from.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint


class GainCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` whose kept best must be beaten by more than ``min_delta`` (``save_top_k=1``)."""

    def __init__(self, *args: Any, min_delta: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.save_top_k != 1:
            raise ValueError(f"GainCheckpoint keeps one checkpoint: save_top_k={self.save_top_k} must be 1")
        self.min_delta = abs(float(min_delta))

    def check_monitor_top_k(self, trainer: L.Trainer, current: torch.Tensor | None = None) -> bool:
        if current is None or not self.best_k_models:
            return super().check_monitor_top_k(trainer, current)
        kept = self.best_k_models[self.kth_best_model_path]
        gain = current - kept if self.mode == "max" else kept - current
        return trainer.strategy.reduce_boolean_decision(bool(gain > self.min_delta))
