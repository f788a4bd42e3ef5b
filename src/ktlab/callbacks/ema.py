"""An exponential moving average of the weights, validated, checkpointed and tested as one model.

Lightning's ``EMAWeightAveraging`` keeps the average beside the model, swaps it in for every validation
pass and writes it as the checkpoint's ``state_dict`` (the raw weights go under ``current_model_state``),
so early stopping, ``best.ckpt``, ``eval.py`` and ``predict.py`` all see the averaged weights. One thing
does not fit ktlab's run: while the callback is attached it puts the raw weights back whenever a checkpoint
is loaded, so the test of ``best.ckpt`` at the end of ``train.py`` would score the raw weights of the best
epoch, not the average that was validated and chosen. :class:`EMA` restores the raw weights only when a
fit resumes.
"""

from __future__ import annotations

from typing import Any

import lightning as L
from lightning.pytorch.callbacks import EMAWeightAveraging
from lightning.pytorch.trainer.states import TrainerFn


class EMA(EMAWeightAveraging):
    """Lightning's EMA of the weights (``decay`` per optimizer step); see the module docstring."""

    def on_load_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        if trainer.state.fn == TrainerFn.FITTING:
            super().on_load_checkpoint(trainer, pl_module, checkpoint)
        # Otherwise (test, validate, predict) the checkpoint's state_dict, the average, is already loaded.
