"""Loss and AUC per epoch, train and validation: ``curves.png``, ``curves.json`` and one log line an epoch."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from lightning import Callback, LightningModule, Trainer

log = logging.getLogger(__name__)

CURVE_KEYS = ("train/loss", "val/loss", "train/auc", "val/auc")
#: The AUC of the data's true success probabilities (synthetic data), drawn as a ceiling when known.
ORACLE_KEYS = ("val/oracle_auc", "test/oracle_auc")


class LearningCurves(Callback):
    """Records the epoch-level metrics, logs one line per epoch and redraws ``curves.png`` (and ``curves.json``).

    Validation values are read when validation ends; training values when the epoch's checkpoint is saved
    (Lightning saves it after the LightningModule's ``on_train_epoch_end`` has logged them, which runs after
    the callbacks' own ``on_train_epoch_end``), else when the next epoch starts or training ends. The history
    is part of the checkpoint, so a resumed run draws every epoch. The figure marks the best epoch (by the
    checkpoint callback's monitor when it is drawn here, else by ``val/auc``) and the oracle AUC when the
    data has one; epochs are counted from 1.

    Args:
        output_dir: where the figure goes (the run directory).
        filename: the figure's name.
    """

    def __init__(self, output_dir: str, filename: str = "curves.png") -> None:
        self.output_dir = Path(output_dir)
        self.filename = filename
        self.history: dict[str, list[tuple[int, float]]] = {key: [] for key in CURVE_KEYS + ORACLE_KEYS}
        self.monitor, self.mode = "val/auc", "max"

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        for callback in trainer.checkpoint_callbacks:
            monitor = getattr(callback, "monitor", None)
            if monitor in CURVE_KEYS:
                self.monitor, self.mode = monitor, getattr(callback, "mode", "max")
                break

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking:
            self._record(trainer, trainer.current_epoch, "val/")

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._record(trainer, trainer.current_epoch - 1, "train/")

    def on_save_checkpoint(self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict) -> None:
        progress = trainer.fit_loop.epoch_progress.current
        if (
            progress.processed > progress.completed
        ):  # saved in the epoch-end hooks: this epoch's values are in
            self._record(trainer, trainer.current_epoch, "train/")
            checkpoint.setdefault("callbacks", {})[self.state_key] = self.state_dict()

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._record(trainer, trainer.current_epoch - 1, "train/")

    def on_test_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        value = trainer.callback_metrics.get("test/oracle_auc")
        if value is not None and trainer.is_global_zero:
            self.history["test/oracle_auc"] = [(max(trainer.current_epoch - 1, 0), float(value))]
            self.draw()

    def _record(self, trainer: Trainer, epoch: int, stage: str) -> None:
        """Keep the ``stage`` values of ``epoch`` found in the trainer's metrics, log the epoch, redraw."""
        keys = [
            key
            for key in CURVE_KEYS + ORACLE_KEYS
            if key.startswith(stage) and key in trainer.callback_metrics and not key.startswith("test/")
        ]
        if epoch < 0 or not keys:
            return
        added = False
        for key in keys:
            value = trainer.callback_metrics[key]
            if not any(e == epoch for e, _ in self.history[key]):
                self.history[key].append((epoch, float(value)))
                added = True
        if not trainer.is_global_zero or not added:
            return
        if stage == "train/":
            log.info("%s", self.epoch_line(epoch, trainer.max_epochs))
        self.draw()

    def epoch_line(self, epoch: int, max_epochs: int | None = None) -> str:
        """``epoch 3/10: train loss 0.6412 auc 0.7011 | val loss 0.6301 auc 0.6920 (best)``."""

        def values(stage: str) -> str:
            found = {
                metric: value
                for metric in ("loss", "auc")
                for e, value in self.history[f"{stage}/{metric}"]
                if e == epoch
            }
            return " ".join(f"{metric} {value:.4f}" for metric, value in found.items())

        total = f"/{max_epochs}" if max_epochs and max_epochs > 0 else ""
        line = f"epoch {epoch + 1}{total}: train {values('train') or '-'}"
        if any(e == epoch for e, _ in self.history["val/loss"] + self.history["val/auc"]):
            line += f" | val {values('val')}"
            if self.best_epoch() == epoch:
                line += " (best)"
        return line

    def best_epoch(self) -> int | None:
        """The epoch (from 0) with the best value of the monitored metric; the first of equal ones."""
        points = self.history.get(self.monitor) or []
        if not points:
            return None
        sign = -1.0 if self.mode == "min" else 1.0
        return max(points, key=lambda p: (sign * p[1], -p[0]))[0]

    def state_dict(self) -> dict:
        return {"history": {k: [list(p) for p in v] for k, v in self.history.items()}}

    def load_state_dict(self, state_dict: dict) -> None:
        # Merged, not replaced: Lightning also restores callbacks when it tests best.ckpt after the fit, and
        # the epochs after the best one must stay.
        for key, points in state_dict.get("history", {}).items():
            known = {e for e, _ in self.history.get(key, [])}
            extra = [(int(e), float(v)) for e, v in points if int(e) not in known]
            self.history[key] = sorted(self.history.get(key, []) + extra)

    def figure(self) -> Any:
        """The figure of the history: loss and AUC per epoch, the best epoch and the oracle AUC marked."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        best = self.best_epoch()
        for ax, metric in zip(axes, ("loss", "auc"), strict=True):
            for stage, style in (("train", "-o"), ("val", "-s")):
                points = self.history[f"{stage}/{metric}"]
                if points:
                    ax.plot(
                        [e + 1 for e, _ in points], [v for _, v in points], style, label=stage, markersize=3
                    )
            if metric == "auc":
                self._draw_oracles(ax)
            if best is not None:
                ax.axvline(best + 1, color="tab:green", linestyle=":", label=f"best epoch ({best + 1})")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("epoch")
            ax.set_ylabel(metric.upper() if metric == "auc" else "BCE loss")
            ax.set_title(f"{metric.upper() if metric == 'auc' else 'Loss'} per epoch")
            ax.grid(alpha=0.3)
            ax.legend(fontsize="small")
        fig.tight_layout()
        return fig

    def draw(self) -> Path:
        """Write the figure and the raw numbers; returns the figure's path."""
        fig = self.figure()
        import matplotlib.pyplot as plt

        self.output_dir.mkdir(parents=True, exist_ok=True)
        path = self.output_dir / self.filename
        fig.savefig(path, dpi=110)
        plt.close(fig)
        (self.output_dir / "curves.json").write_text(json.dumps(self.history, indent=1))
        return path

    def _draw_oracles(self, ax: Any) -> None:
        """Horizontal lines at the latest validation and the test oracle AUC, when the data has them."""
        for key, color in zip(ORACLE_KEYS, ("tab:gray", "tab:red"), strict=True):
            points = self.history.get(key) or []
            if points:
                stage = key.split("/", 1)[0]
                value = points[-1][1]
                ax.axhline(value, color=color, linestyle="--", label=f"oracle AUC, {stage} ({value:.3f})")
