"""At-risk levels and mastery timelines on constructed learners whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ktlab.tabular.data import PlatformData, from_frames
from ktlab.tabular.errors import TabularError
from ktlab.tabular.performance import PerformancePredictor


def _with_constructed(platform: PlatformData) -> tuple[PlatformData, pd.Timestamp]:
    """Learner 901 got every one of 40 answers right over the last 5 days, learner 902 every one wrong."""
    end = platform.answers["timestamp"].max().floor("D")
    times = [
        end - pd.Timedelta(days=5 - d, hours=7) + pd.Timedelta(minutes=m) for d in range(5) for m in range(8)
    ]
    rows = []
    for user, correct in ((901, 1), (902, 0)):
        rows.append(
            pd.DataFrame(
                {
                    "student_id": user,
                    "skill_id": "multiplication",
                    "difficulty_level": 3,
                    "correct": correct,
                    "time_spent": 25.0,
                    "timestamp": times,
                }
            )
        )
    answers = pd.concat([platform.answers, *rows], ignore_index=True)
    return from_frames(answers, platform.learners), end + pd.Timedelta(minutes=1)


def test_risk_levels_of_constructed_learners(
    platform: PlatformData, performance_model: PerformancePredictor
) -> None:
    data, at = _with_constructed(platform)
    table = performance_model.identify_at_risk_learners([901, 902], "multiplication", 7, data, at=at)
    assert table["student_id"].tolist() == [902, 901]  # highest risk first
    by_user = table.set_index("student_id")
    assert by_user.loc[902, "risk_score"] > 0.5 > 0.35 > by_user.loc[901, "risk_score"]
    assert by_user.loc[902, "risk_level"] in {"high", "critical"}
    assert by_user.loc[901, "risk_level"] in {"low", "medium"}
    assert "multiplication" in by_user.loc[902, "recommended_action"]
    everyone = performance_model.identify_at_risk_learners(None, "multiplication", 3, data, at=at)
    assert {901, 902} <= set(everyone["student_id"]) and everyone["risk_score"].is_monotonic_decreasing


def test_risk_level_thresholds(performance_model: PerformancePredictor) -> None:
    levels = performance_model.risk_level(np.array([0.0, 0.24, 0.25, 0.6, 0.75, 1.0]))
    assert levels.tolist() == ["low", "low", "medium", "high", "critical", "critical"]
    with pytest.raises(TabularError, match="trained on horizons \\[3, 7\\]"):
        performance_model.risk_scores(pd.DataFrame(), 30)


def test_timeline_of_constructed_learners(
    platform: PlatformData, performance_model: PerformancePredictor
) -> None:
    data, at = _with_constructed(platform)
    weak = performance_model.predict_mastery_timeline(902, "multiplication", 0.8, data, at=at)
    reached = performance_model.predict_mastery_timeline(901, "multiplication", 0.8, data, at=at)
    assert reached.current_proficiency > weak.current_proficiency
    target = reached.current_proficiency - 0.01
    strong = performance_model.predict_mastery_timeline(901, "multiplication", target, data, at=at)
    assert strong.exercises_needed == 0 and strong.days_needed == 0
    assert weak.exercises_needed > 0 and weak.days_needed > 0
    if weak.reachable:
        assert weak.expected_date >= at.normalize()
    with pytest.raises(TabularError, match=r"target_proficiency=1\.5"):
        performance_model.predict_mastery_timeline(901, "multiplication", 1.5, data, at=at)
    with pytest.raises(TabularError, match="no answer in 'fractions'"):
        performance_model.predict_mastery_timeline(901, "fractions", 0.8, data, at=at)
