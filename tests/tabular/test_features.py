"""Point-in-time features: nothing at or after the cut-off is read, every feature reads the history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ktlab.tabular import features as features_module
from ktlab.tabular.data import PlatformData, from_frames
from ktlab.tabular.features import FEATURE_NAMES, FeatureEngineering

STATIC = {"hour_of_day", "day_of_week", "grade_level", "learning_style"}


def _pairs(data: PlatformData) -> tuple[np.ndarray, np.ndarray]:
    pairs = data.answers[["student_id", "skill_id"]].drop_duplicates()
    return pairs["student_id"].to_numpy(), pairs["skill_id"].to_numpy()


def _cutoff(data: PlatformData) -> pd.Timestamp:
    return data.answers["timestamp"].quantile(0.6).floor("s")


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
    later = answers["timestamp"] >= at
    answers.loc[later, "correct"] = 1 - answers.loc[later, "correct"]
    answers.loc[later, "time_spent"] *= 7.0
    answers.loc[later, "difficulty_level"] = 6 - answers.loc[later, "difficulty_level"]
    at_cut = answers.groupby(["student_id", "skill_id"]).head(1).assign(timestamp=at, t=10_000.0)
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
            "student_id": [1, 1, 1],
            "skill_id": ["addition"] * 3,
            "difficulty_level": [2, 3, 3],
            "correct": [1, 0, 1],
            "time_spent": [10.0, 20.0, 30.0],
            "timestamp": [stamp, stamp + pd.Timedelta(seconds=40), stamp + pd.Timedelta(seconds=40)],
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
    early = answers["timestamp"] < at
    first_day = answers.groupby("student_id")["timestamp"].transform("min").dt.floor("D") + pd.Timedelta(
        days=1
    )
    keep = ~early | ((np.arange(len(answers)) % 3 != 0) & (answers["timestamp"] >= first_day))
    thinned = answers[keep].copy()
    thinned.loc[thinned["timestamp"] < at, "time_spent"] *= 2.0
    thinned.loc[thinned["timestamp"] < at, "correct"] = 1 - thinned.loc[thinned["timestamp"] < at, "correct"]
    other = features.features_at(from_frames(thinned, platform.learners), users, domains, at)
    for name in FEATURE_NAMES:
        moved = not np.allclose(base[name], other[name])
        assert moved == (name not in STATIC), name


def test_known_values_of_a_constructed_learner(features: FeatureEngineering) -> None:
    start = pd.Timestamp("2024-09-04 10:00:00")  # a Wednesday
    answers = pd.DataFrame(
        {
            "student_id": [5] * 5,
            "skill_id": ["addition"] * 4 + ["division"],
            "difficulty_level": [1, 2, 3, 4, 2],
            "correct": [1, 1, 0, 1, 0],
            "time_spent": [20.0, 20.0, 20.0, 20.0, 40.0],
            "timestamp": [start + pd.Timedelta(minutes=m) for m in (0, 1, 2, 3, 4)],
        }
    )
    learners = pd.DataFrame({"student_id": [5], "grade_level": ["CM1"], "learning_style": ["kinesthetic"]})
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


#: Per feature, the sum over the answer features of the tiny platform and the sum weighted by
#: ``row % 7 + 1`` (which moves when rows swap), as computed in one pass over all answers before the
#: features were computed block by block.
ONE_PASS_SUMS: dict[str, tuple[float, float]] = {
    "dom_n_prior": (43653.0, 175096.0),
    "dom_success_rate": (1412.9547885091451, 5644.260427292945),
    "dom_recent_success": (1436.0073232323232, 5731.72702020202),
    "dom_recent_log_time": (10243.653245992526, 40961.159152711625),
    "dom_streak": (3378.0, 13377.0),
    "dom_error_streak": (2749.0, 11004.0),
    "dom_trend_7d": (51.101846078556484, 187.92789390017475),
    "dom_trend_30d": (-10.545211490854964, -47.2395727070554),
    "dom_n_7d": (29951.0, 119720.0),
    "dom_n_30d": (43653.0, 175096.0),
    "dom_velocity": (32.05948773448774, 117.94552669552672),
    "dom_days_since_last": (13022.741113541666, 52219.580094432866),
    "dom_recent_level": (10092.74484126984, 40331.260317460314),
    "dom_level_score": (4524.537301587302, 18012.299603174604),
    "strategy_effectiveness": (1394.2201417037422, 5573.731024077862),
    "dom_time_trend": (64.36345539469394, 268.36677413246645),
    "all_n_prior": (116939.0, 467796.0),
    "all_success_rate": (1402.6125543231306, 5601.209794972756),
    "all_recent_success": (1430.2671476786027, 5709.100173128385),
    "cross_domain_avg": (1369.5604809388487, 5472.098832536816),
    "all_mean_log_time": (10261.376741580356, 41014.69515679918),
    "session_position": (18584.0, 73793.0),
    "session_minutes": (15055.690466666667, 59705.21543333333),
    "session_success_rate": (1465.1808290694512, 5843.455962291062),
    "fatigue_slowdown": (41.51010712697864, 127.55690174270381),
    "hour_of_day": (41601.0, 166180.0),
    "day_of_week": (8907.0, 35653.0),
    "days_active": (10399.0, 41634.0),
    "days_since_first": (21199.095807002315, 84976.01783320602),
    "days_since_last_any": (2958.733766840278, 11526.71693023148),
    "grade_level": (9929.0, 39682.0),
    "learning_style": (2386.0, 9539.0),
}


def test_answer_features_keep_their_one_pass_values(
    platform: PlatformData, features: FeatureEngineering
) -> None:
    X = features.answer_features(platform)
    assert len(X) == 2847 and (X.dtypes == np.float64).all()
    weight = np.arange(len(X)) % 7 + 1
    for name, (total, weighted) in ONE_PASS_SUMS.items():
        assert X[name].sum() == pytest.approx(total, rel=1e-12, abs=1e-9), name
        assert (X[name] * weight).sum() == pytest.approx(weighted, rel=1e-12, abs=1e-9), name


@pytest.mark.parametrize("block_answers", [1, 97, 1000])
def test_blocks_of_learners_give_bit_identical_features(
    platform: PlatformData, features: FeatureEngineering, monkeypatch: pytest.MonkeyPatch, block_answers: int
) -> None:
    answers = platform.answers
    users, domains = _pairs(platform)
    first = answers["student_id"].iloc[0]
    # Unknown learner, unknown domain, a time before every answer; queries out of learner order.
    users = np.concatenate([users[::-1], [99_999, first, first]])
    domains = np.concatenate([domains[::-1], ["addition", "geometry", "addition"]])
    start, end = answers["timestamp"].min(), answers["timestamp"].max()
    at = [start + (end - start) * ((i * 37) % 101 / 100) for i in range(users.size)]
    at[-1] = start - pd.Timedelta(days=3)
    one_pass = features.answer_features(platform), features.features_at(platform, users, domains, at)
    assert len(answers) < features_module.BLOCK_ANSWERS  # the reference is one block
    monkeypatch.setattr(features_module, "BLOCK_ANSWERS", block_answers)
    blocked = features.answer_features(platform), features.features_at(platform, users, domains, at)
    for expected, got in zip(one_pass, blocked, strict=True):
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
