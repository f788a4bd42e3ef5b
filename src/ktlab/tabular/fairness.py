"""Fairness audit (fairlearn) and bias detection by permuting a sensitive feature.

The audit groups predictions by a sensitive attribute with ``fairlearn.metrics.MetricFrame`` (per-group
AUC, accuracy, selection rate = share predicted to succeed, base rate = share that did) and reports
fairlearn's demographic-parity and equalized-odds differences. The overall score is
``1 - max(dp_difference, eo_difference)``. Small groups differ by chance, so the audit also asks how often
a difference this large appears when the group labels are shuffled across learners (a permutation test;
each learner keeps one label for all their rows): a disparity is reported when the largest difference is
at least ``tolerance`` and the permutation p-value is below ``alpha``; the assessment then names the group
with the lowest selection rate. With fewer than two known groups (one group, or every learner ``unknown``)
nothing can be compared: the report says the audit cannot be judged, and why. A disparity in the data itself
(one group succeeds less often at equal skill) shows as a demographic-parity difference of a calibrated
model: the audit reports what the predictions do to groups, whatever the cause.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    equalized_odds_difference,
    selection_rate,
)
from sklearn.metrics import accuracy_score, roc_auc_score

#: The group of learners whose attribute is not recorded; it is not a group to compare others with.
UNKNOWN = "unknown"


def _auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    return float(roc_auc_score(y_true, y_score)) if len(np.unique(y_true)) == 2 else float("nan")


@dataclass
class FairnessReport:
    """The audit of one sensitive attribute."""

    attribute: str
    by_group: pd.DataFrame
    demographic_parity_difference: float
    equalized_odds_difference: float
    score: float
    p_value: float
    disparity_found: bool
    assessment: str
    judged: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready content (undefined numbers of an audit that cannot be judged are null)."""

        def number(value: float) -> float | None:
            return None if np.isnan(value) else value

        return {
            "attribute": self.attribute,
            "by_group": json.loads(self.by_group.to_json(orient="index")),
            "judged": self.judged,
            "demographic_parity_difference": number(self.demographic_parity_difference),
            "equalized_odds_difference": number(self.equalized_odds_difference),
            "score": number(self.score),
            "p_value": number(self.p_value),
            "disparity_found": self.disparity_found,
            "assessment": self.assessment,
        }

    def to_table(self) -> str:
        """A readable table with the differences and the assessment (group counts as integers)."""
        table = self.by_group.round(3).astype({"count": int})
        lines = [f"Fairness audit by {self.attribute}", table.to_string(), ""]
        if not self.judged:
            lines.append(self.assessment)
            return "\n".join(lines)
        lines.append(f"demographic parity difference: {self.demographic_parity_difference:.3f}")
        lines.append(f"equalized odds difference:     {self.equalized_odds_difference:.3f}")
        lines.append(f"permutation p-value:           {self.p_value:.3f}")
        lines.append(f"score: {self.score:.3f} - {self.assessment}")
        return "\n".join(lines)


def fairness_audit(
    y_true: np.ndarray,
    y_prob: np.ndarray,
    sensitive: pd.Series,
    threshold: float = 0.5,
    tolerance: float = 0.05,
    learner_ids: np.ndarray | None = None,
    alpha: float = 0.05,
    n_permutations: int = 200,
    seed: int = 0,
) -> FairnessReport:
    """Audit predicted success probabilities across the groups of ``sensitive`` (module docstring).

    Args:
        y_true, y_prob: labels and predicted success probabilities.
        sensitive: the group of each row.
        threshold: probability from which a row counts as selected (predicted to succeed).
        tolerance: the smallest difference reported as a disparity.
        learner_ids: the learner of each row, for the permutation test (each row its own when None).
        alpha: the p-value below which a difference is not put down to chance.
        n_permutations: shuffles of the permutation test.
        seed: its seed.
    """
    y_true = np.asarray(y_true).astype(int)
    y_prob = np.asarray(y_prob, dtype=float)
    y_hat = (y_prob >= threshold).astype(int)
    groups = pd.Series(np.asarray(sensitive), name=sensitive.name or "group")
    hard = MetricFrame(
        metrics={"count": count, "accuracy": accuracy_score, "selection_rate": selection_rate},
        y_true=y_true,
        y_pred=y_hat,
        sensitive_features=groups,
    )
    soft = MetricFrame(
        metrics={
            "auc": _auc,
            "base_rate": lambda t, p: float(np.mean(t)),
            "mean_predicted": lambda t, p: float(np.mean(p)),
        },
        y_true=y_true,
        y_pred=y_prob,
        sensitive_features=groups,
    )
    by_group = pd.concat([hard.by_group, soft.by_group], axis=1)
    by_group["count"] = by_group["count"].astype(int)
    known = [str(g) for g in by_group.index if str(g) != UNKNOWN]
    if len(known) < 2:
        return _not_judged(str(groups.name), by_group, known, learner_ids)
    dpd = float(demographic_parity_difference(y_true, y_hat, sensitive_features=groups))
    eod = float(equalized_odds_difference(y_true, y_hat, sensitive_features=groups))
    worst = max(dpd, eod)
    learners = np.arange(len(y_true)) if learner_ids is None else np.asarray(learner_ids)
    p_value = _permutation_p_value(y_true, y_hat, groups.to_numpy(), learners, worst, n_permutations, seed)
    found = worst >= tolerance and p_value < alpha
    if found:
        low = by_group["selection_rate"].astype(float).idxmin()
        assessment = (
            f"disparity found: group '{low}' is predicted to succeed least often "
            f"(difference {worst:.3f} >= tolerance {tolerance})"
        )
    else:
        assessment = (
            f"no disparity found (largest difference {worst:.3f}; tolerance {tolerance}, permutation "
            f"p-value {p_value:.3f})"
        )
    return FairnessReport(str(groups.name), by_group, dpd, eod, 1.0 - worst, p_value, found, assessment)


def _not_judged(
    attribute: str, by_group: pd.DataFrame, known: list[str], learner_ids: np.ndarray | None
) -> FairnessReport:
    """The report of an audit with fewer than two known groups: nothing to compare, nothing found."""
    rows = int(by_group["count"].sum())
    who = f"{rows} rows" if learner_ids is None else f"{len(np.unique(learner_ids))} learners, {rows} rows"
    if known:
        why = f"every learner with a recorded {attribute} is in the one group '{known[0]}'"
    else:
        why = f"no learner has a recorded {attribute} (all are '{UNKNOWN}')"
    assessment = (
        f"cannot be judged: {why} ({who}); a disparity needs at least two groups to compare. Record "
        f"{attribute} for the learners, or audit another attribute."
    )
    nan = float("nan")
    return FairnessReport(attribute, by_group, nan, nan, nan, nan, False, assessment, judged=False)


def _largest_difference(y_true: np.ndarray, y_hat: np.ndarray, codes: np.ndarray, n_groups: int) -> float:
    """max(demographic parity, equalized odds difference) from per-group counts.

    The same quantities as fairlearn's functions, recomputed with ``bincount`` because the permutation
    test needs hundreds of them and MetricFrame takes milliseconds each.
    """
    rates = []
    for mask in (np.ones_like(y_true, dtype=bool), y_true == 1, y_true == 0):
        n = np.bincount(codes[mask], minlength=n_groups)
        hit = np.bincount(codes[mask], weights=y_hat[mask], minlength=n_groups)
        seen = n > 0
        rate = hit[seen] / n[seen]
        rates.append(rate.max() - rate.min() if rate.size else 0.0)
    return float(max(rates[0], max(rates[1], rates[2])))


def _permutation_p_value(
    y_true: np.ndarray,
    y_hat: np.ndarray,
    groups: np.ndarray,
    learners: np.ndarray,
    observed: float,
    n_permutations: int,
    seed: int,
) -> float:
    """Share of learner-level shuffles of the group labels with a difference at least ``observed``."""
    learner_codes, learner_index = pd.factorize(learners)
    group_codes, group_index = pd.factorize(groups)
    per_learner = np.zeros(len(learner_index), dtype=np.int64)
    per_learner[learner_codes] = group_codes
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(n_permutations):
        shuffled = rng.permutation(per_learner)[learner_codes]
        hits += _largest_difference(y_true, y_hat, shuffled, len(group_index)) >= observed - 1e-12
    return (hits + 1) / (n_permutations + 1)


def bias_detection(
    model: Any, X: pd.DataFrame, feature: str, n_repeats: int = 5, seed: int = 0, threshold: float = 0.5
) -> dict[str, float | str]:
    """How much predictions move when ``feature`` is shuffled across rows.

    sklearn's ``permutation_importance`` measures the change of a score; this measures the change of the
    predictions themselves (mean and 95th percentile of ``|p - p_shuffled|``, share of flipped decisions).
    """
    rng = np.random.default_rng(seed)
    base = model.predict_proba(X)[:, 1]
    changes, flips = [], []
    for _ in range(n_repeats):
        shuffled = X.copy()
        shuffled[feature] = rng.permutation(shuffled[feature].to_numpy())
        moved = model.predict_proba(shuffled)[:, 1]
        changes.append(np.abs(moved - base))
        flips.append(np.mean((moved >= threshold) != (base >= threshold)))
    change = np.concatenate(changes)
    return {
        "feature": feature,
        "mean_abs_change": float(change.mean()),
        "p95_abs_change": float(np.quantile(change, 0.95)),
        "flip_rate": float(np.mean(flips)),
    }


def write_reports(
    reports: list[FairnessReport], bias: list[dict[str, Any]], out_dir: str | Path
) -> tuple[Path, Path]:
    """Write ``fairness.json`` and ``fairness.txt`` (the readable tables) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    payload = {"audits": [r.to_dict() for r in reports], "bias_detection": bias}
    json_path = out / "fairness.json"
    json_path.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    text = "\n\n".join(r.to_table() for r in reports)
    text += "\n\nBias detection (predictions when a sensitive feature is shuffled)\n"
    text += pd.DataFrame(bias).round(4).to_string(index=False) + "\n"
    txt_path = out / "fairness.txt"
    txt_path.write_text(text)
    return json_path, txt_path
