"""Platform answers as an interaction table: columns, split column, a CSV the file source accepts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ktlab.data.schema import required_columns
from ktlab.data.sources import FileSource
from ktlab.tabular.data import PlatformData
from ktlab.tabular.errors import TabularError
from ktlab.tabular.interactions import (
    CONTEXT_FEATURES,
    QUERY_FEATURES,
    level_difficulty,
    platform_interactions,
)
from ktlab.tabular.labels import split_learners


def test_platform_answers_become_an_interaction_table(platform: PlatformData, tmp_path: Path) -> None:
    _, test_users = split_learners(platform.answers["student_id"].to_numpy(), 0.2, 7)
    frame = platform_interactions(platform, test_users, val_fraction=0.1, seed=7)
    assert list(frame.columns) == [
        "student_id",
        "t",
        "skill_id",
        "correct",
        "difficulty",
        "time_spent",
        "timestamp",
        "p_correct_true",
        "split",
    ]
    assert len(frame) == len(platform.answers)
    held = frame["student_id"].isin(test_users.astype(str))
    assert (frame.loc[held, "split"] == "test").all() and (frame.loc[~held, "split"] != "test").all()
    per_learner = frame.groupby("student_id")["split"].agg(["nunique", "first"])
    assert (per_learner["nunique"] == 1).all()
    counts = per_learner["first"].value_counts()
    assert counts["test"] == len(test_users) and counts["val"] == round((40 - len(test_users)) * 0.1)
    assert set(frame["skill_id"]) == set(platform.answers["skill_id"])
    assert level_difficulty(np.arange(1, 6)).tolist() == pytest.approx([0.2, 0.375, 0.55, 0.725, 0.9])

    path = tmp_path / "answers.csv"
    frame.to_csv(path, index=False)
    loaded = FileSource(path).load(required_columns(CONTEXT_FEATURES, QUERY_FEATURES))
    assert len(loaded) == len(frame) and set(loaded["split"]) == {"train", "val", "test"}
    assert np.array_equal(loaded["correct"].to_numpy(), frame["correct"].to_numpy())


def test_too_few_learners_are_refused(platform: PlatformData) -> None:
    users = platform.answers["student_id"].unique()
    with pytest.raises(TabularError, match="held out"):
        platform_interactions(platform, [])
    with pytest.raises(TabularError, match="train on"):
        platform_interactions(platform, users[:-1])
