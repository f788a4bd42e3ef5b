"""A second model family, unrelated to knowledge tracing, that passes through ktlab's data-to-model contract.

Points in a plane labelled by which side of a line they fall; the DataModule fits a standardization
(its fitted state) and the module a logistic regression. Nothing in ``train.py``, ``eval.py`` or the
checkpoint loader knows this family.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from lightning import LightningDataModule, LightningModule
from torch.utils.data import DataLoader, TensorDataset
from torchmetrics import MeanMetric

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.models.checkpoint import mark_checkpoint
from ktlab.models.kt_module import plain, stage_metrics
from ktlab.models.optim import configure_optimization


class PointsDataModule(LightningDataModule):
    """Random points, labelled ``x0 + x1 > 1`` with label noise; split 60/20/20."""

    def __init__(self, n_points: int = 600, seed: int = 0, batch_size: int = 64, fitted_state=None) -> None:
        super().__init__()
        raise_problems("PointsDataModule", self.check_args({"n_points": n_points, "batch_size": batch_size}))
        self.n_points, self.seed, self.batch_size = n_points, seed, batch_size
        self.state = dict(fitted_state) if fitted_state else None
        self.splits: dict[str, TensorDataset] = {}

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        checks = Checks(args)
        checks.integer("n_points", 10)
        checks.integer("batch_size", 1)
        return checks.problems

    def setup(self, stage: str | None = None) -> None:
        rng = np.random.default_rng(self.seed)
        x = rng.normal(1.0, 2.0, size=(self.n_points, 2)).astype(np.float32)
        y = ((x.sum(axis=1) > 2.0) ^ (rng.random(self.n_points) < 0.1)).astype(np.float32)
        cut = [int(self.n_points * 0.6), int(self.n_points * 0.8)]
        parts = dict(zip(("train", "val", "test"), np.split(np.arange(self.n_points), cut), strict=True))
        if self.state is None:
            train = x[parts["train"]]
            self.state = {"mean": train.mean(axis=0).tolist(), "std": train.std(axis=0).tolist()}
        scaled = (x - np.array(self.state["mean"], dtype=np.float32)) / np.array(
            self.state["std"], dtype=np.float32
        )
        self.splits = {
            name: TensorDataset(torch.from_numpy(scaled[idx]), torch.from_numpy(y[idx]))
            for name, idx in parts.items()
        }

    def model_inputs(self) -> dict[str, Any]:
        return {"dims": {"n_features": 2}, "state": self.state}

    def dataloader(self, split: str, shuffle: bool | None = None) -> DataLoader:
        return DataLoader(self.splits[split], batch_size=self.batch_size, shuffle=bool(shuffle))

    def train_dataloader(self) -> DataLoader:
        return self.dataloader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self.dataloader("val")

    def test_dataloader(self) -> DataLoader:
        return self.dataloader("test")


class PointsModule(LightningModule):
    """Logistic regression on the points, with ktlab's metric collections and optimizer builder."""

    def __init__(self, optimizer: Mapping[str, Any], inputs: Mapping[str, Any], name: str = "points",
                 data: Mapping[str, Any] | None = None) -> None:  # fmt: skip
        super().__init__()
        self.save_hyperparameters({"optimizer": plain(optimizer), "inputs": plain(inputs), "name": name,
                                   "data": plain(data)})  # fmt: skip
        self.net = torch.nn.Linear(inputs["dims"]["n_features"], 1)
        self.val_metrics, self.test_metrics = stage_metrics("val"), stage_metrics("test")
        self.val_loss, self.test_loss = MeanMetric(), MeanMetric()

    def _loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = batch
        logits = self.net(x).squeeze(-1)
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, y), logits

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        loss, _ = self._loss(batch)
        self.log("train/loss", loss, on_step=False, on_epoch=True)
        return loss

    def _evaluate(self, batch, metrics, loss_metric) -> None:
        loss, logits = self._loss(batch)
        metrics.update(torch.sigmoid(logits), batch[1].long())
        loss_metric.update(loss)

    def validation_step(self, batch, batch_idx: int) -> None:
        self._evaluate(batch, self.val_metrics, self.val_loss)

    def test_step(self, batch, batch_idx: int) -> None:
        self._evaluate(batch, self.test_metrics, self.test_loss)

    def on_validation_epoch_end(self) -> None:
        self.log_dict({**self.val_metrics.compute(), "val/loss": self.val_loss.compute()})
        self.val_metrics.reset()
        self.val_loss.reset()

    def on_test_epoch_end(self) -> None:
        self.log_dict({**self.test_metrics.compute(), "test/loss": self.test_loss.compute()})
        self.test_metrics.reset()
        self.test_loss.reset()

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        mark_checkpoint(checkpoint, self)

    def configure_optimizers(self) -> Any:
        return configure_optimization(self, self.hparams.optimizer)
