"""Plots loss and AUC per epoch, train and validation, to ``curves.png`` in the run directory."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from lightning import Callback, LightningModule, Trainer

log = logging.getLogger(__name__)

CURVE_KEYS = ("train/loss", "val/loss", "train/auc", "val/auc")


class LearningCurves(Callback):
    """Records the epoch-level metrics and redraws ``curves.png`` (and ``curves.json``) after each epoch.

    Validation values are read when validation ends (before the epoch's checkpoint is written, so a resumed
    run keeps them); training values when the next epoch starts and when training ends, because the
    LightningModule logs them in its own ``on_train_epoch_end``, which Lightning calls after the callbacks'.
    (A run resumed from a checkpoint written mid-epoch therefore lacks that one epoch's training values.)

    Args:
        output_dir: where the figure goes (the run directory).
        filename: the figure's name.
    """

    def __init__(self, output_dir: str, filename: str = "curves.png") -> None:
        self.output_dir = Path(output_dir)
        self.filename = filename
        self.history: dict[str, list[tuple[int, float]]] = {key: [] for key in CURVE_KEYS}

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking:
            self._record(trainer, trainer.current_epoch, "val/")

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._record(trainer, trainer.current_epoch - 1, "train/")

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._record(trainer, trainer.current_epoch - 1, "train/")

    def _record(self, trainer: Trainer, epoch: int, stage: str) -> None:
        """Keep the ``stage`` values of ``epoch`` found in the trainer's metrics, and redraw."""
        keys = [key for key in CURVE_KEYS if key.startswith(stage) and key in trainer.callback_metrics]
        if epoch < 0 or not keys:
            return
        for key in keys:
            value = trainer.callback_metrics[key]
            if not any(e == epoch for e, _ in self.history[key]):
                self.history[key].append((epoch, float(value)))
        if trainer.is_global_zero:
            self.draw()

    def state_dict(self) -> dict:
        return {"history": {k: [list(p) for p in v] for k, v in self.history.items()}}

    def load_state_dict(self, state_dict: dict) -> None:
        for key, points in state_dict.get("history", {}).items():
            self.history[key] = [(int(e), float(v)) for e, v in points]

    def draw(self) -> Path:
        """Write the figure and the raw numbers; returns the figure's path."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        self.output_dir.mkdir(parents=True, exist_ok=True)
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for ax, metric in zip(axes, ("loss", "auc"), strict=True):
            for stage, style in (("train", "-o"), ("val", "-s")):
                points = self.history[f"{stage}/{metric}"]
                if points:
                    ax.plot(
                        [e + 1 for e, _ in points], [v for _, v in points], style, label=stage, markersize=3
                    )
            ax.set_xlabel("epoch")
            ax.set_ylabel(metric.upper() if metric == "auc" else "BCE loss")
            ax.set_title(f"{metric.upper() if metric == 'auc' else 'Loss'} per epoch")
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        path = self.output_dir / self.filename
        fig.savefig(path, dpi=110)
        plt.close(fig)
        (self.output_dir / "curves.json").write_text(json.dumps(self.history, indent=1))
        return path
