"""Fixtures of the tabular tests: a tiny synthetic platform and small fitted models (built once)."""

from __future__ import annotations

import numpy as np
import pytest

from ktlab.tabular.data import PlatformData
from ktlab.tabular.difficulty import DifficultyOptimizer
from ktlab.tabular.features import FeatureEngineering
from ktlab.tabular.labels import next_answer_table, risk_table
from ktlab.tabular.performance import PerformancePredictor
from ktlab.tabular.synthetic import generate_platform

TINY_PLATFORM = {"n_learners": 40, "weeks": 3, "sessions_per_week": 2.0, "seed": 3}


@pytest.fixture(scope="session")
def platform() -> PlatformData:
    return generate_platform(**TINY_PLATFORM)


@pytest.fixture(scope="session")
def features() -> FeatureEngineering:
    return FeatureEngineering()


@pytest.fixture(scope="session")
def difficulty_model(platform: PlatformData, features: FeatureEngineering) -> DifficultyOptimizer:
    table = next_answer_table(platform, features, with_level=True)
    return DifficultyOptimizer(n_estimators=30, n_jobs=1).fit(table.X, table.y)


@pytest.fixture(scope="session")
def performance_model(platform: PlatformData, features: FeatureEngineering) -> PerformancePredictor:
    table = next_answer_table(platform, features, with_level=False)
    risk = risk_table(platform, features, horizons=(3, 7), success_threshold=0.4, every_days=2)
    assert np.unique(risk.y).size == 2
    model = PerformancePredictor(n_estimators=30, min_samples_leaf=5, success_threshold=0.4, n_jobs=1)
    return model.fit(table.X, table.y, risk_X=risk.X, risk_y=risk.y)
