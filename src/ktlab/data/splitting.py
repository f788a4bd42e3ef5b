"""Seeded train/validation/test splits that keep every group (a learner, a question, a topic) whole."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import GroupShuffleSplit


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
