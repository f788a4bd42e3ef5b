"""The one line a training run ends with: its best epoch, why it stopped, its test metrics, its files.

Epochs are counted from 1 here, as in ``curves.png`` and the per-epoch lines of ``train.log`` (Lightning's
``epoch`` column in ``csv/metrics.csv`` counts from 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import lightning as L
import torch


def stop_reason(trainer: L.Trainer) -> str:
    """Why the fit ended, in words: early stopping, ``max_epochs``, an interruption or another limit."""
    epochs = trainer.current_epoch  # finished epochs when the fit is over
    stopper = trainer.early_stopping_callback
    if stopper is not None and stopper.stopped_epoch > 0 and stopper.stopped_epoch + 1 == epochs:
        return (
            f"early stopping at epoch {epochs} ({stopper.monitor} did not improve for {stopper.patience} "
            "validations)"
        )
    if trainer.interrupted:
        return f"interrupted in epoch {epochs + 1}"
    if trainer.max_epochs is not None and trainer.max_epochs >= 0 and epochs >= trainer.max_epochs:
        return f"max_epochs={trainer.max_epochs} reached"
    return f"stopped after epoch {epochs} (max_steps or max_time reached)"


def best_epoch(checkpoint: str | Path | None) -> int | None:
    """The epoch (from 1) a checkpoint was written after, read without loading its weights into memory."""
    if not checkpoint or not Path(checkpoint).is_file():
        return None
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # an unreadable file has no epoch to report; the test of it reports the problem
        return None
    epoch = state.get("epoch") if isinstance(state, dict) else None
    return int(epoch) + 1 if isinstance(epoch, int) else None


def _best_score(trainer: L.Trainer) -> str:
    for callback in trainer.checkpoint_callbacks:
        monitor = getattr(callback, "monitor", None)
        score = getattr(callback, "best_model_score", None)
        if monitor and score is not None:
            return f", {monitor} {float(score):.4f}"
    return ""


def fit_summary(trainer: L.Trainer, checkpoint: str | None) -> str:
    """The best epoch (and its score) and why the fit stopped; call it before testing (a test restores the
    callbacks' state from the checkpoint it tests, early stopping's too)."""
    epoch = best_epoch(checkpoint)
    best = (
        f"best epoch {epoch} of {trainer.current_epoch}{_best_score(trainer)}" if epoch else "no best epoch"
    )
    return f"{best}; stopped: {stop_reason(trainer)}"


def summary_line(fit: str | None, metrics: Mapping[str, float | None], output_dir: str | Path) -> str:
    """One line: the :func:`fit_summary` (None when nothing was fitted), the test metrics, where the files are."""
    parts = [fit] if fit else []
    tests = {k.split("/", 1)[1]: v for k, v in metrics.items() if k.startswith("test/")}
    if tests:
        shown = ", ".join(f"{k} {'n/a' if v is None else f'{v:.4f}'}" for k, v in tests.items())
        parts.append(f"test {shown}")
    parts.append(f"files in {output_dir} (metrics.json, curves.png, checkpoints/)")
    return "Run finished: " + "; ".join(parts)
