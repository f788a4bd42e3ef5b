"""Training tables: features and labels of the next-answer and at-risk tasks, and the split by learner.

* Next answer (both models): one row per answer, the features as known just before it (strictly earlier
  answers only), the label ``correct`` of that answer. The difficulty model also reads the level of the
  answer (``target_level``, known before answering); the performance model does not.
* At risk (performance model): cut-offs at midnight every ``every_days`` days of each (learner, domain);
  for each horizon ``h`` the label is 1 when the success rate of the learner's answers in the domain in
  ``[T, T + h days)`` is below ``success_threshold``. Windows with fewer than ``min_window_answers`` answers
  are left out (no evidence either way), as are cut-offs with fewer than ``min_history`` earlier answers.
  The features are those at ``T`` plus ``horizon_days``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit

from ktlab.tabular.data import PlatformData
from ktlab.tabular.errors import TabularError
from ktlab.tabular.features import FeatureEngineering
from ktlab.tabular.history import DAY_MS, MS, SortedHistory, prefix, window_sum

log = logging.getLogger(__name__)


@dataclass
class Table:
    """Model inputs with their labels and what the evaluation needs beside them.

    Attributes:
        X: the features.
        y: the labels (0/1).
        student_id: the learner of each row (splits and audits are by learner).
        sensitive: the sensitive attributes of each row (``grade_level``, ``learning_style``) as text.
        p_true: the generator's true success probability (next-answer tables of synthetic data only).
    """

    X: pd.DataFrame
    y: np.ndarray
    student_id: np.ndarray
    sensitive: pd.DataFrame
    p_true: np.ndarray | None = None

    def rows(self, mask: np.ndarray) -> Table:
        """The rows where ``mask`` is true."""
        return Table(
            self.X[mask].reset_index(drop=True),
            self.y[mask],
            self.student_id[mask],
            self.sensitive[mask].reset_index(drop=True),
            None if self.p_true is None else self.p_true[mask],
        )


def _sensitive(data: PlatformData, student_ids: np.ndarray) -> pd.DataFrame:
    learners = data.learners.set_index("student_id")
    grade = learners["grade_level"].reindex(student_ids)
    return pd.DataFrame(
        {
            "grade_level": grade.map(lambda g: "unknown" if pd.isna(g) else str(int(g))).to_numpy(),
            "learning_style": learners["learning_style"].reindex(student_ids).fillna("unknown").to_numpy(),
        }
    )


def next_answer_table(data: PlatformData, features: FeatureEngineering, with_level: bool) -> Table:
    """One row per answer: features before it, label = the answer (see the module docstring)."""
    X = features.answer_features(data)
    if with_level:
        X["target_level"] = data.answers["difficulty_level"].to_numpy(np.float64)
    student_ids = data.answers["student_id"].to_numpy()
    p_true = data.answers["p_correct_true"].to_numpy() if "p_correct_true" in data.answers else None
    return Table(
        X, data.answers["correct"].to_numpy(np.int8), student_ids, _sensitive(data, student_ids), p_true
    )


def risk_table(
    data: PlatformData,
    features: FeatureEngineering,
    horizons: Sequence[int] = (3, 7, 14),
    success_threshold: float = 0.6,
    min_window_answers: int = 3,
    min_history: int = 5,
    every_days: int = 3,
) -> Table:
    """At-risk examples: features at midnight cut-offs, label from the future window (module docstring)."""
    answers = data.answers
    pairs = answers.groupby(["student_id", "skill_id"], sort=True)["timestamp"].agg(["min", "max"])
    first_day = pairs["min"].dt.floor("D") + pd.Timedelta(days=1)
    n_cuts = ((pairs["max"] - first_day).dt.days // every_days + 1).clip(lower=0).to_numpy()
    rep = np.repeat(np.arange(len(pairs)), n_cuts)
    step = np.arange(rep.size) - np.repeat(np.cumsum(n_cuts) - n_cuts, n_cuts)
    cut = first_day.to_numpy()[rep] + (step * every_days).astype("timedelta64[D]")
    users = pairs.index.get_level_values(0).to_numpy()[rep]
    domains = pairs.index.get_level_values(1).to_numpy()[rep]
    if rep.size == 0:
        raise TabularError(
            f"{data.source}: no learner has answers on two different days; no at-risk example."
        )

    codes, uniques = pd.factorize(pd.MultiIndex.from_arrays([answers["student_id"], answers["skill_id"]]))
    q_codes = pd.MultiIndex.from_arrays([users, domains])
    q_codes = uniques.get_indexer(q_codes)
    ts = answers["timestamp"].to_numpy("datetime64[ns]").astype(np.int64)
    order = np.lexsort((answers["t"].to_numpy(), ts, codes))
    origin = int(ts.min() // MS)
    span = int(ts.max() // MS - origin + max(horizons) * DAY_MS + 2)
    hist = SortedHistory(codes[order], ts[order], origin, span)
    cc = prefix(answers["correct"].to_numpy(np.float64)[order])
    qt = cut.astype("datetime64[ns]").astype(np.int64)
    g, b = hist.bounds(q_codes, qt)
    X_at = features.features_at(data, users, domains, pd.to_datetime(cut))
    frames, labels, who = [], [], []
    for h in horizons:
        _, end = hist.bounds(q_codes, qt + np.int64(h * DAY_MS) * MS)
        n_window = end - b
        keep = (n_window >= min_window_answers) & (b - g >= min_history)
        rate = window_sum(cc, b, end) / np.maximum(n_window, 1)
        frame = X_at[keep].assign(horizon_days=float(h))
        frames.append(frame)
        labels.append((rate[keep] < success_threshold).astype(np.int8))
        who.append(users[keep])
    X = pd.concat(frames, ignore_index=True)
    student_ids = np.concatenate(who)
    log.info("at-risk table: %d examples over horizons %s", len(X), list(horizons))
    return Table(X, np.concatenate(labels), student_ids, _sensitive(data, student_ids))


def split_learners(student_ids: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learner ids of the training and test sets (learners, never rows, are split)."""
    unique = np.unique(student_ids)
    if unique.size < 2:
        raise TabularError("At least two learners are needed to hold some out for testing.")
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_fraction, random_state=seed)
    train_idx, test_idx = next(splitter.split(unique, groups=unique))
    return unique[train_idx], unique[test_idx]
