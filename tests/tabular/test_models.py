"""Both models: fit, predict, clone, save/load with metadata, SHAP additivity, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from ktlab.errors import DataValidationError, KtlabError
from ktlab.tabular.data import PlatformData
from ktlab.tabular.difficulty import DifficultyOptimizer
from ktlab.tabular.errors import ModelFileError, NotFittedModelError, TabularError
from ktlab.tabular.explain import ExplainableAI
from ktlab.tabular.features import FeatureEngineering
from ktlab.tabular.io import load_model, save_model
from ktlab.tabular.labels import next_answer_table
from ktlab.tabular.performance import PerformancePredictor


@pytest.fixture(scope="module")
def tables(platform: PlatformData, features: FeatureEngineering) -> dict[str, pd.DataFrame]:
    return {
        "difficulty": next_answer_table(platform, features, True).X,
        "performance": next_answer_table(platform, features, False).X,
    }


@pytest.mark.parametrize("kind", ["difficulty", "performance"])
def test_fit_predict_clone_save_load(
    kind: str,
    tables: dict,
    difficulty_model: DifficultyOptimizer,
    performance_model: PerformancePredictor,
    tmp_path: Path,
) -> None:
    model = difficulty_model if kind == "difficulty" else performance_model
    X = tables[kind].head(200)
    p = model.predict_proba(X)
    assert p.shape == (200, 2) and np.allclose(p.sum(axis=1), 1.0)
    assert set(np.unique(model.predict(X))) <= {0, 1}
    fresh = clone(model)
    assert fresh.get_params() == model.get_params()
    assert not hasattr(fresh, "model_")
    with pytest.raises(NotFittedModelError, match="not trained"):
        fresh.predict_proba(X)
    path = save_model(model, tmp_path / "model.skops", {"test/auc": 0.7})
    loaded, metadata = load_model(path)
    assert np.allclose(loaded.predict_proba(X), p)
    assert metadata["feature_names"] == list(model.feature_names_in_)
    assert metadata["metrics"] == {"test/auc": 0.7}
    assert {"scikit-learn", "xgboost", "shap"} <= set(metadata["versions"])
    assert (tmp_path / "model.json").is_file()


@pytest.mark.parametrize("kind", ["difficulty", "performance"])
def test_refit_drops_what_was_built_from_the_old_model(
    kind: str, tables: dict, difficulty_model: DifficultyOptimizer, performance_model: PerformancePredictor
) -> None:
    model = clone(difficulty_model if kind == "difficulty" else performance_model)
    X = tables[kind].head(400)
    y = (np.arange(len(X)) % 3 == 0).astype(int)
    model.fit(X, y)
    first = model.explainer
    assert model.explainer is first  # built once
    assert "_explainer" not in model.__getstate__()  # never saved
    model.fit(X, 1 - y)
    assert model.explainer is not first


def test_shap_additivity_difficulty(tables: dict, difficulty_model: DifficultyOptimizer) -> None:
    X = tables["difficulty"].head(50)
    values, base = ExplainableAI(difficulty_model).explanation(X)
    total = base + values.sum(axis=1)
    np.testing.assert_allclose(total, difficulty_model.decision_function(X), atol=1e-4)


def test_shap_additivity_performance(tables: dict, performance_model: PerformancePredictor) -> None:
    X = tables["performance"].head(50)
    explainer = ExplainableAI(performance_model)
    values, base = explainer.explanation(X)
    total = base + values.sum(axis=1)
    np.testing.assert_allclose(total, performance_model.predict_proba(X)[:, 1], atol=1e-6)
    explained = explainer.explain(X.head(2), top_k=3)
    first = explained[0]["top_features"]
    assert len(first) == 3 and {f["sign"] for f in first} <= {"+", "-"}
    assert abs(first[0]["contribution"]) >= abs(first[-1]["contribution"])


def test_levels_scored_by_tree_sets_equal_one_predict_call(
    tables: dict, difficulty_model: DifficultyOptimizer, tmp_path: Path
) -> None:
    X = tables["difficulty"].head(300)
    split = difficulty_model._level_split()
    assert split is not None  # the tiny model has trees with and without a split on the level
    assert sum(b.num_boosted_rounds() for b in split) == difficulty_model.n_estimators
    grid = pd.concat([X.assign(target_level=float(level)) for level in range(1, 6)], ignore_index=True)
    expected = difficulty_model.predict_proba(grid)[:, 1].reshape(5, -1).T
    success = difficulty_model.success_by_level(X.drop(columns="target_level"))
    np.testing.assert_allclose(success, expected, rtol=0, atol=1e-6)
    assert np.array_equal(difficulty_model.choose_level(success), difficulty_model.choose_level(expected))
    loaded, _ = load_model(save_model(difficulty_model, tmp_path / "model.skops", {}))
    assert "_level_trees" not in vars(loaded)
    assert np.array_equal(loaded.success_by_level(X), success)


def test_recommendation_uses_the_flow_band(
    platform: PlatformData, difficulty_model: DifficultyOptimizer
) -> None:
    user = platform.answers["student_id"].iloc[0]
    domain = platform.answers["skill_id"].iloc[0]
    rec = difficulty_model.recommend(platform, user, domain)
    assert sorted(rec.success_by_level) == [1, 2, 3, 4, 5] and 1 <= rec.level <= 5
    assert len(rec.reasons) == 3 and all("chance of success" in r for r in rec.reasons)
    success = np.array([[0.95, 0.9, 0.8, 0.6, 0.4], [0.5, 0.4, 0.3, 0.2, 0.1], [0.99, 0.98, 0.97, 0.96, 0.9]])
    assert difficulty_model.choose_level(success).tolist() == [3, 1, 5]
    narrow = clone(difficulty_model).set_params(flow_low=0.55, flow_high=0.65)
    assert narrow.choose_level(success).tolist() == [4, 1, 5]
    assert difficulty_model.feature_importance().index[0] in difficulty_model.feature_names_in_


def test_bad_input_gets_a_clear_error(
    platform: PlatformData,
    tables: dict,
    difficulty_model: DifficultyOptimizer,
    performance_model: PerformancePredictor,
) -> None:
    with pytest.raises(DataValidationError, match=r"lacks feature column.*dom_streak"):
        performance_model.predict_proba(tables["performance"].drop(columns=["dom_streak"]))
    with pytest.raises(TabularError, match=r"Unknown skill domain 'geometry'.*addition"):
        performance_model.identify_at_risk_learners(None, "geometry", 7, platform)
    with pytest.raises(TabularError, match=r"have no answer in 'fractions'.*9999"):
        difficulty_model.recommend(platform, 9999, "fractions")
    with pytest.raises(TabularError, match="flow band"):
        DifficultyOptimizer(flow_low=0.9, flow_high=0.8).fit(
            tables["difficulty"], np.ones(len(tables["difficulty"]))
        )
    with pytest.raises(NotFittedModelError, match="fit"):
        PerformancePredictor().identify_at_risk_learners(None, "addition", 7, platform)
    with pytest.raises(ModelFileError, match="untrained"):
        save_model(DifficultyOptimizer(), "never.skops")
    with pytest.raises(DataValidationError, match=r"missing column.*time_spent"):
        PlatformData(platform.answers.drop(columns=["time_spent"]), platform.learners, "answers.csv")
    broken = platform.answers.copy()
    broken.loc[7, "difficulty_level"] = 9
    with pytest.raises(DataValidationError, match="row 7, column 'difficulty_level': value 9"):
        PlatformData(broken, platform.learners, "answers.csv")


def test_bad_model_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "missing.skops")
    junk = tmp_path / "junk.skops"
    junk.write_text("not a model")
    with pytest.raises(KtlabError, match="not a skops model archive"):
        load_model(junk)


def test_exact_repeats_are_counted_once(platform: PlatformData, caplog: pytest.LogCaptureFixture) -> None:
    answers = platform.answers.drop(columns=["t"])
    repeated = pd.concat([answers, answers.iloc[[3, 3, 10]]], ignore_index=True)
    with caplog.at_level("WARNING", logger="ktlab.tabular.data"):
        data = PlatformData(repeated, platform.learners, "answers.csv")
    assert len(data.answers) == len(answers)
    assert "answers.csv: 3 answer row(s) repeat an earlier row exactly" in caplog.text
    assert f"the first is row {len(answers)}" in caplog.text
    # Equal but for the order (t): two answers, both kept.
    kept = PlatformData(platform.answers.iloc[[0, 0]].assign(t=[1.0, 2.0]), platform.learners, "x")
    assert len(kept.answers) == 2


@pytest.mark.parametrize(
    ("kind", "units"), [("difficulty", "log-odds of success"), ("performance", "probability of success")]
)
def test_shap_summary_is_titled_with_model_and_units(
    kind: str,
    units: str,
    tables: dict,
    difficulty_model: DifficultyOptimizer,
    performance_model: PerformancePredictor,
    tmp_path: Path,
) -> None:
    import matplotlib.pyplot as plt

    model = difficulty_model if kind == "difficulty" else performance_model
    fig = ExplainableAI(model).summary_figure(tables[kind], max_rows=50, name=f"{kind}_model")
    ax = fig.axes[0]
    assert ax.get_title() == f"{kind}_model ({type(model).__name__})\nSHAP values in {units}, 50 rows"
    assert units in ax.get_xlabel()
    plt.close(fig)
    path = ExplainableAI(model).summary_plot(tables[kind], tmp_path / "shap.png", max_rows=50)
    assert path.stat().st_size > 0
