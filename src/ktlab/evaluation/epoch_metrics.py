"""The metrics a LightningModule logs per epoch (torchmetrics, so they reduce across DDP processes).

They compute what :func:`ktlab.evaluation.binary_scores` computes on a table of answers (a test checks that
training's test and the :class:`~ktlab.evaluation.Evaluator` agree), each defined here once for both model
families: the sequence models use :func:`stage_metrics` and :class:`DefinedAUROC`, the question-text
students :class:`StageMetrics`, which adds the weighted F1 and the loss.
"""

from __future__ import annotations

from typing import Any

import torch
from torchmetrics import MeanMetric, MeanSquaredError, MetricCollection
from torchmetrics.classification import BinaryAccuracy, BinaryAUROC, BinaryCalibrationError, MulticlassF1Score
from torchmetrics.utilities import dim_zero_cat

from ktlab.evaluation.metrics import ECE_BINS


class DefinedAUROC(BinaryAUROC):
    """Exact ROC AUC that is NaN, not 0, when the epoch's answers hold a single class.

    torchmetrics returns 0 with a warning there; an undefined AUC must not read as the worst possible one
    (``metrics.json`` then writes ``null``).
    """

    def compute(self) -> torch.Tensor:
        empty = isinstance(self.target, list) and not self.target  # a list before synchronization
        target = torch.zeros(0) if empty else dim_zero_cat(self.target)
        if target.numel() == 0 or bool(target.min() == target.max()):
            return torch.tensor(float("nan"))
        return super().compute()


def predicted_right(p: torch.Tensor) -> torch.Tensor:
    """0/1 predictions of success probabilities: ``p >= 0.5`` counts as right, as in ``binary_scores``."""
    return (p >= 0.5).long()


class HalfRightAccuracy(BinaryAccuracy):
    """Accuracy that counts a probability of exactly 0.5 as a prediction of a right answer.

    torchmetrics thresholds with ``p > 0.5``; :func:`ktlab.evaluation.binary_scores` and pyKT's ``acc``
    keys use ``p >= 0.5``. A model that answers 0.5 exactly (the skill rate on a skill's first answer)
    would otherwise report two different accuracies for one run.
    """

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        super().update(predicted_right(preds), target)


def stage_metrics(stage: str) -> MetricCollection:
    """``<stage>/auc`` (exact, from every answer of the epoch) and ``<stage>/acc`` (``p >= 0.5`` counts as right); the
    test stage adds ``test/brier`` and ``test/ece`` (as :func:`ktlab.evaluation.binary_scores` defines
    them: the mean squared error of the probabilities, and the 15-bin L1 calibration error)."""
    metrics: dict[str, Any] = {
        "auc": DefinedAUROC(validate_args=False),
        "acc": HalfRightAccuracy(validate_args=False),
    }
    if stage == "test":
        metrics["brier"] = MeanSquaredError()
        metrics["ece"] = BinaryCalibrationError(n_bins=ECE_BINS, norm="l1", validate_args=False)
    return MetricCollection(metrics, prefix=f"{stage}/")


def weighted_f1() -> MulticlassF1Score:
    """F1 of each class weighted by its support: equal to scikit-learn's ``average="weighted"``."""
    return MulticlassF1Score(num_classes=2, average="weighted", validate_args=False)


class StageMetrics(torch.nn.Module):
    """The metrics of one stage, computed over all its answers of an epoch.

    Args:
        stage: ``train``, ``val`` or ``test`` (the prefix of the metric names).
    """

    def __init__(self, stage: str) -> None:
        super().__init__()
        self.stage = stage
        self.scores = stage_metrics(stage)  # auc, acc
        self.f1 = weighted_f1()
        self.loss = MeanMetric()
        self.oracle = DefinedAUROC()

    def update(
        self, loss: torch.Tensor, p: torch.Tensor, answers: torch.Tensor, p_true: torch.Tensor
    ) -> None:
        self.loss.update(loss, weight=len(answers))
        self.scores.update(p, answers)
        self.f1.update(predicted_right(p), answers)
        known = torch.isfinite(p_true)
        if self.stage != "train" and bool(known.any()):
            self.oracle.update(p_true[known], answers[known])

    def compute(self) -> dict[str, torch.Tensor]:
        values = {**self.scores.compute(), f"{self.stage}/loss": self.loss.compute(),
                  f"{self.stage}/f1_weighted": self.f1.compute()}  # fmt: skip
        if self.oracle.update_called:
            values[f"{self.stage}/oracle_auc"] = self.oracle.compute()
        return values

    def reset(self) -> None:
        for metric in (self.scores, self.f1, self.loss, self.oracle):
            metric.reset()
