"""Held-out scores of the tabular models, their baselines, the calibration plot and the timeline check.

* Scores: AUC, accuracy, Brier score (scikit-learn) and expected calibration error (torchmetrics,
  15 equal-width bins).
* Baselines on the same rows: the recent success rate alone (``dom_recent_success`` as the score), and a
  logistic regression on the same features (standardized).
* Timeline check: held-out learners are cut at a point in time; the predicted number of exercises to reach
  the target is compared with the number of later answers it took the learner's success rate over the last
  ``recent_window`` domain answers to reach it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ktlab.tabular.data import PlatformData
from ktlab.tabular.performance import PerformancePredictor

log = logging.getLogger(__name__)


def scores(y: np.ndarray, p: np.ndarray, prefix: str) -> dict[str, float]:
    """AUC, accuracy, Brier score and ECE of probabilities ``p`` for labels ``y``."""
    import torch  # torchmetrics pulls in much of torch and transformers: not at import
    from torchmetrics.functional.classification import binary_calibration_error

    y = np.asarray(y).astype(int)
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    ece = binary_calibration_error(torch.as_tensor(p), torch.as_tensor(y), n_bins=15, norm="l1")
    return {
        f"{prefix}/auc": float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan"),
        f"{prefix}/acc": float(accuracy_score(y, p >= 0.5)),
        f"{prefix}/brier": float(brier_score_loss(y, p)),
        f"{prefix}/ece": float(ece),
    }


def baselines(
    X_train: pd.DataFrame, y_train: np.ndarray, X_test: pd.DataFrame, y_test: np.ndarray, prefix: str
) -> dict[str, float]:
    """Scores of the recent-success baseline and of a logistic regression on the same features."""
    out = scores(y_test, X_test["dom_recent_success"].to_numpy(), f"{prefix}/baseline_recent")
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    logistic.fit(X_train.to_numpy(np.float64), y_train)
    out.update(
        scores(
            y_test, logistic.predict_proba(X_test.to_numpy(np.float64))[:, 1], f"{prefix}/baseline_logistic"
        )
    )
    return out


def calibration_plot(
    curves: dict[str, tuple[np.ndarray, np.ndarray]], path: str | Path, n_bins: int = 10
) -> Path:
    """Reliability diagram of each ``name -> (y, p)`` (``sklearn.calibration.calibration_curve``)."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], "k:", label="perfectly calibrated")
    for name, (y, p) in curves.items():
        frac, mean = calibration_curve(y, p, n_bins=n_bins, strategy="quantile")
        ax.plot(mean, frac, "o-", label=name)
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed frequency")
    ax.set_title("Calibration on held-out learners")
    ax.legend(loc="upper left")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def timeline_check(
    model: PerformancePredictor, data: PlatformData, target: float, min_history: int = 10
) -> dict[str, float]:
    """Predicted vs actual exercises to reach ``target`` for held-out learners cut mid-period.

    Returns:
        ``timeline/pairs`` checked, ``timeline/reached_share`` (pairs that reached the target later),
        ``timeline/mae_exercises`` and ``timeline/spearman`` over the pairs that reached it, and
        ``timeline/agreement`` (share where "reached within what is left" matches the prediction).
    """
    answers = data.answers
    start, end = answers["timestamp"].min(), answers["timestamp"].max()
    cut = start + (end - start) / 2
    window = model._feature_engineering().recent_window
    frame = answers.sort_values(["student_id", "skill_id", "timestamp", "t"]).reset_index(drop=True)
    rolling = frame.groupby(["student_id", "skill_id"])["correct"].transform(
        lambda s: s.rolling(window, min_periods=window).mean()
    )
    frame["reached"] = rolling >= target
    frame["later"] = frame["timestamp"] >= cut
    frame["k"] = frame.groupby(["student_id", "skill_id"])["later"].cumsum()
    history = frame[~frame["later"]].groupby(["student_id", "skill_id"]).size()
    later = frame[frame["later"]]
    left = later.groupby(["student_id", "skill_id"]).size()
    first = later[later["reached"]].groupby(["student_id", "skill_id"])["k"].min()
    pairs = history[history >= min_history].index.intersection(left.index)
    if len(pairs) == 0:
        return {"timeline/pairs": 0.0}
    users = pairs.get_level_values(0).to_numpy()
    domains = pairs.get_level_values(1).to_numpy()
    features = model._feature_engineering().features_at(data, users, domains, cut)
    predicted = model.timelines(features, target)
    actual = first.reindex(pairs).to_numpy(dtype=float)
    reached = ~np.isnan(actual)
    pred_n = predicted["exercises_needed"].to_numpy(dtype=float)
    out = {"timeline/pairs": float(len(pairs)), "timeline/reached_share": float(reached.mean())}
    if reached.sum() >= 3:
        out["timeline/mae_exercises"] = float(np.mean(np.abs(pred_n[reached] - actual[reached])))
        out["timeline/spearman"] = float(spearmanr(pred_n[reached], actual[reached]).statistic)
    out["timeline/agreement"] = float(np.mean((pred_n <= left.reindex(pairs).to_numpy()) == reached))
    return out
