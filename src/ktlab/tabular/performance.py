"""PerformancePredictor: RandomForest on the next answer, at-risk learners and mastery timelines.

* Next answer: the probability that the learner's next answer in a domain is right, from the
  point-in-time features (not the level, which the platform picks afterwards). Optional SMOTE
  (imbalanced-learn) oversamples the rarer class while fitting only.
* At risk: a second forest on the at-risk table of :func:`ktlab.tabular.labels.risk_table`: the chance that
  the learner's success rate over the next ``horizon_days`` falls below ``success_threshold``; risk levels
  low / medium / high / critical at ``risk_levels`` and an action per level.
* Mastery timeline: current proficiency = the predicted chance of success on the next answer; exercises
  needed = the gap to the target over the learner's gain per answer (their learning velocity, shrunk toward
  the training population's); days = exercises over their recent pace (domain answers per day).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.tabular.base import TreeModelMixin, check_columns, check_labels
from ktlab.tabular.data import PlatformData
from ktlab.tabular.errors import NotFittedModelError, TabularError
from ktlab.tabular.features import FEATURE_NAMES, FeatureEngineering

log = logging.getLogger(__name__)

RISK_NAMES = ("low", "medium", "high", "critical")
ACTIONS = {
    "low": "Keep the current path; no action needed.",
    "medium": "Review the latest mistakes in {domain} at the current level this week.",
    "high": "Serve {domain} one level lower and plan a short review session within two days.",
    "critical": "Alert the teacher: one-to-one support on the basics of {domain} is needed now.",
}


@dataclass
class MasteryTimeline:
    """When a learner is expected to reach a target proficiency in a domain."""

    student_id: Any
    domain: str
    current_proficiency: float
    target_proficiency: float
    exercises_needed: int
    days_needed: float
    expected_date: pd.Timestamp | None
    reachable: bool


class PerformancePredictor(TreeModelMixin, ClassifierMixin, BaseEstimator):
    """RandomForest models of the next answer and of the at-risk label (see the module docstring).

    Args:
        n_estimators, max_depth, min_samples_leaf, max_features, max_samples: the forests' settings.
        use_smote: oversample the minority class with SMOTE while fitting.
        success_threshold: the success rate below which a learner counts as at risk (the risk label's).
        risk_levels: risk scores from which a learner is medium, high, critical.
        min_gain, max_exercises: floor of the gain per answer and cap of a timeline.
        features: the feature builder (default settings when None).
        n_jobs, random_state: threads and seed.
    """

    #: What the SHAP contributions of :attr:`explained_model` add up to (plot titles and axes).
    shap_units = "probability of success"

    def __init__(
        self,
        n_estimators: int = 150,
        max_depth: int | None = 14,
        min_samples_leaf: int = 20,
        max_features: float | str = 0.4,
        max_samples: float | None = 0.5,
        use_smote: bool = False,
        success_threshold: float = 0.6,
        risk_levels: Sequence[float] = (0.25, 0.5, 0.75),
        min_gain: float = 0.002,
        max_exercises: int = 500,
        features: FeatureEngineering | None = None,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.max_samples = max_samples
        self.use_smote = use_smote
        self.success_threshold = success_threshold
        self.risk_levels = risk_levels
        self.min_gain = min_gain
        self.max_exercises = max_exercises
        self.features = features
        self.n_jobs = n_jobs
        self.random_state = random_state

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the settings (see :mod:`ktlab.checks`); ``fit`` and the config check call it."""
        checks = Checks(args)
        for name in ("n_estimators", "max_depth", "min_samples_leaf", "max_exercises"):
            checks.integer(name, 1)
        checks.integer("n_jobs")
        checks.integer("random_state")
        checks.require(
            "max_features",
            lambda v: v in ("sqrt", "log2") or (isinstance(v, float) and 0 < v <= 1),
            "must be a share of the features in (0, 1], sqrt or log2",
        )
        checks.require(
            "max_samples", lambda v: isinstance(v, float) and 0 < v <= 1, "must be a share in (0, 1] or null"
        )
        checks.require("use_smote", lambda v: isinstance(v, bool), "must be true or false")
        checks.require("success_threshold", lambda v: 0 < v < 1, "must be in (0, 1)")
        checks.require(
            "risk_levels",
            lambda v: len(v) == len(RISK_NAMES) - 1 and 0 < v[0] < v[1] < v[2] < 1,
            "must be three increasing risk scores in (0, 1), e.g. [0.25, 0.5, 0.75]",
        )
        checks.require("min_gain", lambda v: not isinstance(v, bool) and v > 0, "must be a number > 0")
        return checks.problems

    def _forest(self) -> RandomForestClassifier | Pipeline:
        forest = RandomForestClassifier(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features,
            max_samples=self.max_samples,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
        )
        if self.use_smote:
            return Pipeline([("smote", SMOTE(random_state=self.random_state)), ("forest", forest)])
        return forest

    def fit(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        risk_X: pd.DataFrame | None = None,
        risk_y: np.ndarray | None = None,
    ) -> PerformancePredictor:
        """Fit the next-answer forest on ``X, y``, and the at-risk forest on ``risk_X, risk_y`` when given."""
        raise_problems(type(self).__name__, self.check_args(self.get_params(deep=False)))
        check_columns(X, ["dom_velocity", "dom_n_prior", "dom_n_30d"], type(self).__name__)
        check_labels(y, type(self).__name__)
        self._drop_caches()
        self.feature_names_in_ = np.array([c for c in FEATURE_NAMES if c in X.columns], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.model_ = self._forest().fit(self._matrix(X), np.asarray(y))
        self.classes_ = np.unique(np.asarray(y))
        window = self._feature_engineering().recent_window
        seasoned = X["dom_n_prior"].to_numpy() >= 2 * window
        gain = X["dom_velocity"].to_numpy()[seasoned].mean() / window if seasoned.any() else 0.0
        self.gain_per_answer_ = float(max(gain, self.min_gain))
        self.pace_per_day_ = float(max(np.median(X["dom_n_30d"].to_numpy()) / 30.0, 0.1))
        if risk_X is not None and risk_y is not None:
            check_columns(risk_X, ["horizon_days"], type(self).__name__)
            check_labels(risk_y, type(self).__name__, "at-risk examples")
            self.risk_feature_names_ = np.array([*self.feature_names_in_, "horizon_days"], dtype=object)
            self.risk_model_ = self._forest().fit(
                self._matrix(risk_X, self.risk_feature_names_), np.asarray(risk_y)
            )
            self.horizons_ = sorted(float(h) for h in np.unique(risk_X["horizon_days"]))
        return self

    @property
    def explained_model(self) -> RandomForestClassifier:
        """The next-answer forest SHAP explains (contributions in probability of success)."""
        return self.model_[-1] if isinstance(self.model_, Pipeline) else self.model_

    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """``[n, 2]`` probabilities that the next answer is wrong / right."""
        self._check_fitted()
        return self.model_.predict_proba(self._matrix(X))

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """1 where a right next answer is predicted more likely than not."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def risk_scores(self, features: pd.DataFrame, horizon_days: float) -> np.ndarray:
        """Predicted chance of falling below the success threshold over the horizon, per feature row."""
        self._check_fitted("scoring risk")
        if not hasattr(self, "risk_model_"):
            raise NotFittedModelError(
                "This PerformancePredictor has no at-risk model: fit it with risk_X and risk_y (the table of "
                "ktlab.tabular.labels.risk_table), as `python train_tabular.py model=performance_rf` does."
            )
        if not self.horizons_[0] <= horizon_days <= self.horizons_[-1]:
            raise TabularError(
                f"horizon_days={horizon_days}: the at-risk model was trained on horizons "
                f"{[int(h) for h in self.horizons_]} days; ask for one within "
                f"{int(self.horizons_[0])}-{int(self.horizons_[-1])} days or retrain with model.labels.horizons."
            )
        matrix = self._matrix(features.assign(horizon_days=float(horizon_days)), self.risk_feature_names_)
        return self.risk_model_.predict_proba(matrix)[:, 1]

    def risk_level(self, scores: np.ndarray) -> np.ndarray:
        """low / medium / high / critical for each risk score."""
        return np.array(RISK_NAMES, dtype=object)[
            np.searchsorted(np.asarray(self.risk_levels), scores, side="right")
        ]

    def identify_at_risk_learners(
        self,
        student_ids: Sequence[Any] | None,
        domain: str,
        horizon_days: float,
        data: PlatformData,
        at: pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Learners ranked by risk in ``domain`` over the next ``horizon_days`` days.

        Args:
            student_ids: the learners (None: every learner with an answer in the domain before ``at``).
            domain: the skill domain.
            horizon_days: the horizon of the risk, within the trained horizons.
            data: the platform data the features are read from.
            at: the point in time (default: just after the last answer).

        Returns:
            One row per learner: ``student_id``, ``risk_score``, ``risk_level``, ``recommended_action``,
            ``recent_success``, ``n_answers``, highest risk first.
        """
        self._check_fitted("listing learners at risk")
        data.check_domain(domain)
        if student_ids is None:
            cutoff = data.end() if at is None else pd.Timestamp(at)
            seen = data.answers[(data.answers["skill_id"] == domain) & (data.answers["timestamp"] < cutoff)]
            student_ids = sorted(seen["student_id"].unique().tolist())
        features, _ = self._pair_features(data, list(student_ids), domain, at)
        scores = self.risk_scores(features, horizon_days)
        levels = self.risk_level(scores)
        table = pd.DataFrame(
            {
                "student_id": list(student_ids),
                "risk_score": scores,
                "risk_level": levels,
                "recommended_action": [ACTIONS[level].format(domain=domain) for level in levels],
                "recent_success": features["dom_recent_success"].to_numpy(),
                "n_answers": features["dom_n_prior"].astype(int).to_numpy(),
            }
        )
        return table.sort_values("risk_score", ascending=False, kind="stable").reset_index(drop=True)

    def timelines(self, features: pd.DataFrame, target_proficiency: float) -> pd.DataFrame:
        """Vectorized timelines for rows of features: current, exercises_needed, days_needed, reachable."""
        if not 0.0 < target_proficiency < 1.0:
            raise TabularError(f"target_proficiency={target_proficiency}: must be between 0 and 1, e.g. 0.8.")
        current = self.predict_proba(features)[:, 1]
        window = self._feature_engineering().recent_window
        weight = np.minimum(features["dom_n_prior"].to_numpy() / (4.0 * window), 1.0) * 0.5
        own = features["dom_velocity"].to_numpy() / window
        gain = np.maximum(weight * own + (1 - weight) * self.gain_per_answer_, self.min_gain)
        needed = np.where(current >= target_proficiency, 0, np.ceil((target_proficiency - current) / gain))
        reachable = needed <= self.max_exercises
        pace = np.where(
            features["dom_n_30d"].to_numpy() > 0, features["dom_n_30d"].to_numpy() / 30.0, self.pace_per_day_
        )
        return pd.DataFrame(
            {
                "current_proficiency": current,
                "exercises_needed": np.minimum(needed, self.max_exercises).astype(int),
                "days_needed": np.minimum(needed, self.max_exercises) / pace,
                "reachable": reachable,
            }
        )

    def predict_mastery_timeline(
        self,
        student_id: Any,
        domain: str,
        target_proficiency: float,
        data: PlatformData,
        at: pd.Timestamp | None = None,
    ) -> MasteryTimeline:
        """When ``student_id`` reaches ``target_proficiency`` in ``domain`` (see the module docstring)."""
        self._check_fitted("predicting a mastery timeline")
        features, at = self._pair_features(data, [student_id], domain, at)
        row = self.timelines(features, target_proficiency).iloc[0]
        reachable = bool(row["reachable"])
        return MasteryTimeline(
            student_id=student_id,
            domain=domain,
            current_proficiency=float(row["current_proficiency"]),
            target_proficiency=target_proficiency,
            exercises_needed=int(row["exercises_needed"]),
            days_needed=float(row["days_needed"]),
            expected_date=(at + pd.Timedelta(days=float(row["days_needed"]))).normalize()
            if reachable
            else None,
            reachable=reachable,
        )
