"""The fairness audit finds a built-in disparity and reports none without one; bias detection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ktlab.tabular.difficulty import DifficultyOptimizer
from ktlab.tabular.fairness import bias_detection, fairness_audit
from ktlab.tabular.features import FeatureEngineering
from ktlab.tabular.labels import next_answer_table
from ktlab.tabular.synthetic import generate_platform

MANY_LEARNERS = {"n_learners": 450, "weeks": 1, "sessions_per_week": 2.0, "seed": 11}


@pytest.fixture(scope="module", params=[0.0, -1.0], ids=["none", "built_in"])
def case(request: pytest.FixtureRequest) -> tuple[float, object]:
    data = generate_platform(**MANY_LEARNERS, disparity_logit=request.param)
    return request.param, next_answer_table(data, FeatureEngineering(), with_level=True)


def test_audit_of_the_true_probabilities(case: tuple[float, object]) -> None:
    disparity, table = case
    report = fairness_audit(
        table.y,
        table.p_true,
        table.sensitive["learning_style"].rename("learning_style"),
        learner_ids=table.student_id,
    )
    assert set(report.by_group.index) == {"visual", "auditory", "kinesthetic"}
    assert {"auc", "accuracy", "selection_rate", "base_rate"} <= set(report.by_group.columns)
    assert report.disparity_found == (disparity != 0.0), report.assessment
    if disparity:
        assert "kinesthetic" in report.assessment and report.demographic_parity_difference > 0.15
    else:
        assert report.assessment.startswith("no disparity found")
    assert 0.0 <= report.score <= 1.0 and "permutation p-value" in report.to_table()


def test_bias_detection_sees_the_model_use_the_sensitive_feature(case: tuple[float, object]) -> None:
    disparity, table = case
    model = DifficultyOptimizer(n_estimators=40, n_jobs=1).fit(table.X, table.y)
    result = bias_detection(model, table.X.head(3000), "learning_style", n_repeats=2)
    if disparity:
        assert result["mean_abs_change"] > 0.03
    else:
        assert result["mean_abs_change"] < 0.02
    assert 0.0 <= result["flip_rate"] <= 1.0


def test_audit_of_a_fair_and_an_unfair_constructed_model() -> None:
    rng = np.random.default_rng(0)
    group = pd.Series(np.repeat(["a", "b"], 2000), name="g")
    y = rng.integers(0, 2, 4000)
    fair = np.where(y == 1, 0.7, 0.3) + rng.normal(0, 0.05, 4000)
    unfair = fair - np.where(group == "b", 0.3, 0.0)
    assert not fairness_audit(y, fair, group).disparity_found
    report = fairness_audit(y, unfair, group)
    assert report.disparity_found and "'b'" in report.assessment
    assert report.equalized_odds_difference > 0.5


@pytest.mark.parametrize(
    ("groups", "why"),
    [
        (["unknown"] * 400, "no learner has a recorded g (all are 'unknown')"),
        (["visual"] * 400, "the one group 'visual'"),
        (["visual"] * 300 + ["unknown"] * 100, "the one group 'visual'"),
    ],
    ids=["all_unknown", "one_group", "one_group_and_unknown"],
)
def test_audit_of_one_group_cannot_be_judged(groups: list[str], why: str) -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    p = np.where(y == 1, 0.7, 0.3)
    report = fairness_audit(y, p, pd.Series(groups, name="g"), learner_ids=np.arange(400) // 4)
    assert not report.judged and not report.disparity_found
    assert report.assessment.startswith("cannot be judged") and why in report.assessment
    assert "100 learners, 400 rows" in report.assessment
    assert "no disparity" not in report.to_table()
    assert np.isnan(report.score) and report.to_dict()["score"] is None


def test_group_counts_print_as_integers() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 300)
    groups = pd.Series(np.repeat(["a", "b", "c"], 100), name="g")
    table = fairness_audit(y, rng.random(300), groups, n_permutations=10).to_table()
    rows = [line.split() for line in table.splitlines() if line.split()[:1] in (["a"], ["b"], ["c"])]
    assert [row[1] for row in rows] == ["100", "100", "100"], table
