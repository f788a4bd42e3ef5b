"""What each model trains on and how it is scored, so that the entry point knows no model.

A task builds the training tables from platform data, fits the model on the training learners' rows and
scores it on the held-out learners' rows (``model.labels`` in ``conf/tabular/model/*.yaml``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from ktlab.tabular.data import PlatformData
from ktlab.tabular.evaluate import baselines, scores, timeline_check
from ktlab.tabular.features import FeatureEngineering
from ktlab.tabular.labels import Table, next_answer_table, risk_table

log = logging.getLogger(__name__)

Curves = dict[str, tuple[np.ndarray, np.ndarray]]


class NextAnswerTask:
    """Predict each answer from the point-in-time features before it (optionally with its level).

    Args:
        with_level: the model also reads the level of the answer (``target_level``).
    """

    def __init__(self, with_level: bool = True) -> None:
        self.with_level = with_level

    def tables(self, data: PlatformData, features: FeatureEngineering) -> dict[str, Table]:
        """The tables of the task, by name (``next`` is the one audited and explained)."""
        return {"next": next_answer_table(data, features, self.with_level)}

    def fit(self, model: Any, train: dict[str, Table]) -> Any:
        """Fit ``model`` on the training rows."""
        return model.fit(train["next"].X, train["next"].y)

    def evaluate(
        self, model: Any, train: dict[str, Table], test: dict[str, Table], test_data: PlatformData
    ) -> tuple[dict[str, float], Curves]:
        """Held-out scores beside the baselines and the oracle, and the curves of the calibration plot."""
        table = test["next"]
        p = model.predict_proba(table.X)[:, 1]
        metrics = scores(table.y, p, "test")
        columns = list(model.feature_names_in_)
        metrics.update(
            baselines(train["next"].X[columns], train["next"].y, table.X[columns], table.y, "test")
        )
        curves: Curves = {
            "model": (table.y, p),
            "recent success rate": (table.y, table.X["dom_recent_success"].to_numpy()),
        }
        if table.p_true is not None:
            metrics.update(
                {
                    k.replace("test/", "test/oracle_"): v
                    for k, v in scores(table.y, table.p_true, "test").items()
                }
            )
        metrics["test/rows"] = float(len(table.y))
        return metrics, curves


class PerformanceTask(NextAnswerTask):
    """The next answer without its level, plus the at-risk label and the mastery-timeline check.

    Args:
        horizons: the horizons (days) of the at-risk examples.
        success_threshold: the success rate below which a window is at risk.
        min_window_answers, min_history, every_days: see :func:`ktlab.tabular.labels.risk_table`.
        timeline_target: the target proficiency of the timeline check.
    """

    def __init__(
        self,
        horizons: Sequence[int] = (3, 7, 14),
        success_threshold: float = 0.6,
        min_window_answers: int = 3,
        min_history: int = 5,
        every_days: int = 3,
        timeline_target: float = 0.8,
    ) -> None:
        super().__init__(with_level=False)
        self.horizons = list(horizons)
        self.success_threshold = success_threshold
        self.min_window_answers = min_window_answers
        self.min_history = min_history
        self.every_days = every_days
        self.timeline_target = timeline_target

    def tables(self, data: PlatformData, features: FeatureEngineering) -> dict[str, Table]:
        out = super().tables(data, features)
        out["risk"] = risk_table(
            data,
            features,
            self.horizons,
            self.success_threshold,
            self.min_window_answers,
            self.min_history,
            self.every_days,
        )
        return out

    def fit(self, model: Any, train: dict[str, Table]) -> Any:
        return model.fit(train["next"].X, train["next"].y, risk_X=train["risk"].X, risk_y=train["risk"].y)

    def evaluate(
        self, model: Any, train: dict[str, Table], test: dict[str, Table], test_data: PlatformData
    ) -> tuple[dict[str, float], Curves]:
        metrics, curves = super().evaluate(model, train, test, test_data)
        risk = test["risk"]
        if len(risk.y):
            p = np.concatenate(
                [model.risk_scores(risk.X[risk.X["horizon_days"] == h], h) for h in model.horizons_]
            )
            y = np.concatenate([risk.y[risk.X["horizon_days"].to_numpy() == h] for h in model.horizons_])
            metrics.update(scores(y, p, "test/risk"))
            metrics["test/risk_rows"] = float(len(y))
            metrics["test/risk_base_rate"] = float(np.mean(y))
        metrics.update(timeline_check(model, test_data, self.timeline_target))
        return metrics, curves
