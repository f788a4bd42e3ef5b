"""The metrics of binary answer predictions, each defined once.

AUC is undefined (``None``) when the answers hold one class: an AUC of 0 or 0.5 there would read as a
result. Brier score and expected calibration error (15 equal-width bins, L1, as torchmetrics computes it)
come from scikit-learn and torchmetrics rather than hand-written twins.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import brier_score_loss, roc_auc_score
from torchmetrics.functional.classification import binary_calibration_error

ECE_BINS = 15


def defined_auc(prob: np.ndarray, label: np.ndarray) -> float | None:
    """ROC AUC, or None when the labels hold fewer than two classes."""
    if len(label) == 0 or np.unique(label).size < 2:
        return None
    return float(roc_auc_score(label, prob))


def binary_scores(
    prob: np.ndarray | torch.Tensor, label: np.ndarray | torch.Tensor
) -> dict[str, float | None]:
    """``auc``, ``acc`` (threshold 0.5), ``brier``, ``ece`` and ``answers`` of success probabilities.

    Every value but ``answers`` is None when there are no answers; ``auc`` also when one class.
    """
    p = np.asarray(prob.detach().cpu() if isinstance(prob, torch.Tensor) else prob, dtype=np.float64)
    y = np.asarray(label.detach().cpu() if isinstance(label, torch.Tensor) else label).astype(np.int64)
    if len(y) == 0:
        return {"auc": None, "acc": None, "brier": None, "ece": None, "answers": 0}
    ece = binary_calibration_error(torch.tensor(p), torch.tensor(y), n_bins=ECE_BINS, norm="l1")
    return {
        "auc": defined_auc(p, y),
        "acc": float(np.mean((p >= 0.5) == y)),
        "brier": float(brier_score_loss(y, p, labels=[0, 1])),
        "ece": float(ece),
        "answers": len(y),
    }
