"""Group-keeping splits and folds (ktlab.data.splitting)."""

from __future__ import annotations

import numpy as np
import pytest

from ktlab.data.splitting import group_folds


def test_group_folds_keep_each_group_in_one_fold_and_use_every_fold() -> None:
    groups = np.array([f"skills-{i % 13}" for i in range(200)])
    fold = group_folds(groups, n_folds=5, seed=3)
    assert set(fold.tolist()) == {0, 1, 2, 3, 4}
    for key in np.unique(groups):
        assert len(set(fold[groups == key].tolist())) == 1
    sizes = np.bincount(fold)
    assert sizes.max() - sizes.min() <= 2 * 16  # balanced to within about one group's size


def test_group_folds_depend_on_the_seed_only() -> None:
    groups = np.array([str(i % 20) for i in range(100)])
    assert np.array_equal(group_folds(groups, 4, seed=1), group_folds(groups, 4, seed=1))
    assert not np.array_equal(group_folds(groups, 4, seed=1), group_folds(groups, 4, seed=2))


def test_group_folds_refuse_fewer_groups_than_folds() -> None:
    with pytest.raises(ValueError, match="5 folds need at least 5 groups; there are 3"):
        group_folds(np.array(["a", "b", "c", "a"]), n_folds=5, seed=0)
