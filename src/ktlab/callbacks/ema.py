"""An exponential moving average of the weights, validated, checkpointed and tested as one model.

Lightning's ``EMAWeightAveraging`` keeps the average beside the model, swaps it in for every validation
pass and writes it as the checkpoint's ``state_dict`` (the raw weights go under ``current_model_state``),
so early stopping, ``best.ckpt``, ``eval.py`` and ``predict.py`` all see the averaged weights. One thing
does not fit ktlab's run: while the callback is attached it puts the raw weights back whenever a checkpoint
is loaded, so the test of ``best.ckpt`` at the end of ``train.py`` would score the raw weights of the best
epoch, not the average that was validated and chosen. :class:`EMA` restores the raw weights only when a
fit resumes.

Settings that freeze the average (a decay of 1 or more, no update step) are refused up front: Lightning
accepts them, and the run would validate, choose and test the untrained initial weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import EMAWeightAveraging
from lightning.pytorch.trainer.states import TrainerFn

from ktlab.checks import Checks, Problem
from ktlab.errors import ConfigError


class EMA(EMAWeightAveraging):
    """Lightning's EMA of the weights (``decay`` per optimizer step); see the module docstring.

    Args:
        decay: weight of the average at each update, in ``[0, 1)`` (0 keeps the latest weights).
        update_every_n_steps: optimizer steps between updates, at least 1.
        update_starting_at_step: first optimizer step to average from (None: from the start).
        update_starting_at_epoch: first epoch to average from (None: from the start).
        **kwargs: the other arguments of Lightning's ``EMAWeightAveraging`` (``device``, ``use_buffers``).

    Raises:
        ConfigError: a setting that would freeze the average, or is not a number of the right kind.
    """

    def __init__(
        self,
        decay: float = 0.999,
        update_every_n_steps: int = 1,
        update_starting_at_step: int | None = None,
        update_starting_at_epoch: int | None = None,
        **kwargs: Any,
    ) -> None:
        args = {
            "decay": decay,
            "update_every_n_steps": update_every_n_steps,
            "update_starting_at_step": update_starting_at_step,
            "update_starting_at_epoch": update_starting_at_epoch,
        }
        problems = self.check_args(args)
        if problems:
            raise ConfigError(
                "Invalid EMA settings: " + "; ".join(p.describe("callbacks.ema.") for p in problems) + "."
            )
        super().__init__(**args, **kwargs)

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The settings that would freeze the average or cannot be used (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.require(
            "decay",
            lambda v: not isinstance(v, bool) and 0.0 <= float(v) < 1.0,
            "must be in [0, 1) (a decay of 1 or more freezes the average at the initial weights)",
        )
        checks.require(
            "update_every_n_steps",
            lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
            "must be an integer >= 1 (0 never updates the average, which keeps the initial weights)",
        )
        checks.integer("update_starting_at_step", 0)
        checks.integer("update_starting_at_epoch", 0)
        return checks.problems

    def on_load_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        if trainer.state.fn == TrainerFn.FITTING:
            super().on_load_checkpoint(trainer, pl_module, checkpoint)
        # Otherwise (test, validate, predict) the checkpoint's state_dict, the average, is already loaded.
