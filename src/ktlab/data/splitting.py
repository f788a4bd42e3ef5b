"""Seeded train/validation/test splits that keep every group (a learner, a question, a topic) whole."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from ktlab.data.schema import SPLIT_COLUMN, SPLIT_NAMES
from ktlab.errors import DataValidationError
from ktlab.utils.text import shorten


def split_groups(groups: np.ndarray, val_fraction: float, test_fraction: float, seed: int) -> np.ndarray:
    """``"train"``, ``"val"`` or ``"test"`` for each element of ``groups``, every group in one split.

    scikit-learn's ``GroupShuffleSplit`` draws the test groups (``ceil(test_fraction x groups)``), then the
    validation groups among the rest, both seeded with ``seed``; the result depends on the data and the
    seed only, whatever order the elements come in. A split is drawn only while at least two groups are
    left to draw from, so too few groups leave a split empty (the caller says so) rather than fail here.
    """
    names, codes = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    label = np.full(len(names), "train", dtype=object)
    rest = np.arange(len(names))
    if test_fraction > 0 and len(rest) > 1:
        keep, held = next(
            GroupShuffleSplit(1, test_size=test_fraction, random_state=seed).split(rest, groups=rest)
        )
        label[rest[held]] = "test"
        rest = rest[keep]
    if val_fraction > 0 and len(rest) > 1:
        share = val_fraction / (1.0 - test_fraction)
        keep, held = next(GroupShuffleSplit(1, test_size=share, random_state=seed).split(rest, groups=rest))
        label[rest[held]] = "val"
    return label[codes]


def group_folds(groups: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """The fold (``0..n_folds-1``) of each element of ``groups``, every group whole in one fold.

    For question-held-out evaluation: pass one group key per question (for example its sorted skill set,
    so questions written from one template never sit on both sides of a fold). scikit-learn's
    ``GroupKFold(shuffle=True)`` balances the folds' sizes over shuffled groups, seeded with ``seed``.
    """
    values = np.asarray(groups).astype(str)
    n_groups = len(np.unique(values))
    if n_folds < 2 or n_groups < n_folds:
        raise ValueError(f"{n_folds} folds need at least {max(n_folds, 2)} groups; there are {n_groups}")
    fold = np.empty(len(values), dtype=np.int64)
    splitter = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for index, (_, held) in enumerate(splitter.split(values, groups=values)):
        fold[held] = index
    return fold


def split_students(
    student_ids: np.ndarray, val_fraction: float, test_fraction: float, seed: int
) -> dict[str, set]:
    """Assign learners (never rows) to train/val/test (seeded; see :func:`split_groups`)."""
    unique = pd.unique(np.asarray(student_ids).astype(str))
    label = split_groups(unique, val_fraction, test_fraction, seed)
    return {name: set(unique[label == name]) for name in ("test", "val", "train")}


def split_from_column(frame: pd.DataFrame, source: str) -> dict[str, set]:
    """The released split of a table with a ``split`` column; a learner must sit in one split only."""
    per_learner = frame.groupby("student_id", sort=False)[SPLIT_COLUMN].agg(["nunique", "first"])
    mixed = per_learner.index[per_learner["nunique"] > 1]
    if len(mixed):
        learner = mixed[0]
        values = sorted(frame.loc[frame["student_id"] == learner, SPLIT_COLUMN].unique())
        raise DataValidationError(
            f"{source}, column '{SPLIT_COLUMN}': learner {shorten(repr(learner))} has answers in the splits "
            f"{', '.join(values)} ({len(mixed)} learner(s) in all); learners, never answers, are split, so "
            "give each learner one split value."
        )
    return {name: set(per_learner.index[per_learner["first"] == name]) for name in SPLIT_NAMES}
