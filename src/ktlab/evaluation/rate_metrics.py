"""Epoch metrics of a model that predicts each question's success rate (direct difficulty regression).

Per stage, over every question of the epoch: ``<stage>/loss`` (the mean training loss), ``/rmse`` (of the
predicted against the observed success rate), ``/spearman`` (their rank correlation) and ``/auc``
(:func:`rate_auc`: the AUC of the predicted rates against the answers the observed rates stand for), so
that a checkpoint is chosen on ``val/auc`` as in the rest of ktlab.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score
from torchmetrics import CatMetric, MeanMetric


def rate_auc(predicted: np.ndarray, observed: np.ndarray, weights: np.ndarray | None = None) -> float:
    """ROC AUC of ``predicted`` rates against answers: question ``i`` stands for ``weights[i] x observed[i]``
    right and ``weights[i] x (1 - observed[i])`` wrong answers, all scored ``predicted[i]``.

    It equals the AUC of per-answer predictions that give every answer its question's rate (the score of
    the question-level baselines on held-out answers), with one unit of weight per question by default.
    scikit-learn's ``roc_auc_score`` takes these weights; torchmetrics' AUROC takes none. NaN when every
    observed rate is 0 or every one is 1.
    """
    predicted, observed = np.asarray(predicted, float), np.asarray(observed, float)
    weights = np.ones_like(observed) if weights is None else np.asarray(weights, float)
    labels = np.r_[np.ones_like(observed), np.zeros_like(observed)]
    weight = np.r_[weights * observed, weights * (1.0 - observed)]
    if weight[labels == 1].sum() <= 0 or weight[labels == 0].sum() <= 0:
        return float("nan")
    return float(roc_auc_score(labels, np.r_[predicted, predicted], sample_weight=weight))


class RateMetrics(torch.nn.Module):
    """The metrics of one stage of a success-rate regression (see the module docstring).

    Args:
        stage: ``train``, ``val`` or ``test`` (the prefix of the metric names).
    """

    def __init__(self, stage: str) -> None:
        super().__init__()
        self.stage = stage
        self.loss = MeanMetric()
        self.predicted = CatMetric()
        self.observed = CatMetric()

    def update(
        self, loss: torch.Tensor, p: torch.Tensor, observed: torch.Tensor, p_true: torch.Tensor
    ) -> None:
        """One batch: its loss, predicted and observed rates (``p_true`` is ignored: a rate has no oracle)."""
        self.loss.update(loss, weight=len(observed))
        self.predicted.update(p.float())
        self.observed.update(observed.float())

    def compute(self) -> dict[str, torch.Tensor]:
        p = self.predicted.compute().detach().cpu().numpy().ravel()
        r = self.observed.compute().detach().cpu().numpy().ravel()
        rho = (
            float(spearmanr(p, r).statistic)
            if len(p) > 2 and np.ptp(r) > 0 and np.ptp(p) > 0
            else float("nan")
        )
        values = {"loss": self.loss.compute(), "rmse": float(np.sqrt(np.mean((p - r) ** 2))),
                  "spearman": rho, "auc": rate_auc(p, r)}  # fmt: skip
        return {
            f"{self.stage}/{key}": torch.as_tensor(value, dtype=torch.float32)
            for key, value in values.items()
        }

    def reset(self) -> None:
        for metric in (self.loss, self.predicted, self.observed):
            metric.reset()
