"""Point-in-time features: nothing at or after the cut-off is read, every feature reads the history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ktlab.tabular.data import PlatformData, from_frames
from ktlab.tabular.features import FEATURE_NAMES, FeatureEngineering

STATIC = {"hour_of_day", "day_of_week", "grade_level", "learning_style"}


def _pairs(data: PlatformData) -> tuple[np.ndarray, np.ndarray]:
    pairs = data.answers[["user_id", "skill_domain"]].drop_duplicates()
    return pairs["user_id"].to_numpy(), pairs["skill_domain"].to_numpy()


def _cutoff(data: PlatformData) -> pd.Timestamp:
    return data.answers["answered_at"].quantile(0.6).floor("s")


def test_at_least_twenty_documented_features(features: FeatureEngineering) -> None:
    assert len(FEATURE_NAMES) >= 20
    assert features.feature_names == FEATURE_NAMES


def test_no_answer_at_or_after_the_cutoff_is_read(
    platform: PlatformData, features: FeatureEngineering
) -> None:
    at = _cutoff(platform)
    users, domains = _pairs(platform)
    before = features.features_at(platform, users, domains, at)
    # Rewrite everything from the cut-off on, and add answers exactly at the cut-off for every learner.
    answers = platform.answers.copy()
    later = answers["answered_at"] >= at
    answers.loc[later, "is_correct"] = 1 - answers.loc[later, "is_correct"]
    answers.loc[later, "time_taken"] *= 7.0
    answers.loc[later, "difficulty_level"] = 6 - answers.loc[later, "difficulty_level"]
    at_cut = answers.groupby(["user_id", "skill_domain"]).head(1).assign(answered_at=at, t=10_000.0)
    changed = from_frames(pd.concat([answers, at_cut]), platform.learners)
    after = features.features_at(changed, users, domains, at)
    pd.testing.assert_frame_equal(before, after)
    # The same as computing on the history alone.
    history, _ = platform.split_at(at)
    alone = features.features_at(history, users, domains, at)
    pd.testing.assert_frame_equal(before, alone)


def test_answer_features_exclude_simultaneous_answers(features: FeatureEngineering) -> None:
    stamp = pd.Timestamp("2024-09-02 10:00:00")
    answers = pd.DataFrame(
        {
            "user_id": [1, 1, 1],
            "skill_domain": ["addition"] * 3,
            "difficulty_level": [2, 3, 3],
            "is_correct": [1, 0, 1],
            "time_taken": [10.0, 20.0, 30.0],
            "answered_at": [stamp, stamp + pd.Timedelta(seconds=40), stamp + pd.Timedelta(seconds=40)],
            "t": [1.0, 2.0, 3.0],
        }
    )
    X = features.answer_features(from_frames(answers))
    # Answers 2 and 3 share a timestamp: each sees answer 1 only, never the other.
    assert X["dom_n_prior"].tolist() == [0.0, 1.0, 1.0]
    assert X.loc[1].equals(X.loc[2])


def test_every_history_feature_reads_earlier_answers(
    platform: PlatformData, features: FeatureEngineering
) -> None:
    at = _cutoff(platform)
    users, domains = _pairs(platform)
    base = features.features_at(platform, users, domains, at)
    answers = platform.answers
    early = answers["answered_at"] < at
    first_day = answers.groupby("user_id")["answered_at"].transform("min").dt.floor("D") + pd.Timedelta(
        days=1
    )
    keep = ~early | ((np.arange(len(answers)) % 3 != 0) & (answers["answered_at"] >= first_day))
    thinned = answers[keep].copy()
    thinned.loc[thinned["answered_at"] < at, "time_taken"] *= 2.0
    thinned.loc[thinned["answered_at"] < at, "is_correct"] = (
        1 - thinned.loc[thinned["answered_at"] < at, "is_correct"]
    )
    other = features.features_at(from_frames(thinned, platform.learners), users, domains, at)
    for name in FEATURE_NAMES:
        moved = not np.allclose(base[name], other[name])
        assert moved == (name not in STATIC), name


def test_known_values_of_a_constructed_learner(features: FeatureEngineering) -> None:
    start = pd.Timestamp("2024-09-04 10:00:00")  # a Wednesday
    answers = pd.DataFrame(
        {
            "user_id": [5] * 5,
            "skill_domain": ["addition"] * 4 + ["division"],
            "difficulty_level": [1, 2, 3, 4, 2],
            "is_correct": [1, 1, 0, 1, 0],
            "time_taken": [20.0, 20.0, 20.0, 20.0, 40.0],
            "answered_at": [start + pd.Timedelta(minutes=m) for m in (0, 1, 2, 3, 4)],
        }
    )
    learners = pd.DataFrame({"user_id": [5], "grade_level": ["CM1"], "learning_style": ["kinesthetic"]})
    data = from_frames(answers, learners)
    row = features.features_at(data, [5], "addition", start + pd.Timedelta(minutes=10)).iloc[0]
    assert row["dom_n_prior"] == 4 and row["all_n_prior"] == 5
    assert row["dom_success_rate"] == pytest.approx((3 + 1) / (4 + 2))
    assert row["dom_streak"] == 1 and row["dom_error_streak"] == 0
    assert row["strategy_effectiveness"] == pytest.approx((1 + 1) / (1 + 2))
    assert row["cross_domain_avg"] == pytest.approx((0 + 1) / (1 + 2))
    assert row["dom_recent_level"] == pytest.approx(2.5)
    assert row["dom_recent_log_time"] == pytest.approx(np.log(20.0))
    assert row["session_position"] == 5 and row["session_minutes"] == pytest.approx(10.0)
    assert row["days_active"] == 1 and row["dom_n_7d"] == 4
    assert row["hour_of_day"] == 10 and row["day_of_week"] == 2
    assert row["grade_level"] == 4 and row["learning_style"] == 2
    later = features.features_at(data, [5], "addition", start + pd.Timedelta(hours=3)).iloc[0]
    assert later["session_position"] == 0 and later["dom_days_since_last"] == pytest.approx(
        (3 * 60 - 3) / 1440
    )
