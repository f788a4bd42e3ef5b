"""DifficultyOptimizer: XGBoost on the chance of success at each level 1-5, served through a flow band.

Training label: one row per answer, ``correct`` of that answer; inputs: the point-in-time features of
the learner in the domain just before it, plus the level the answer was served at (``target_level``).
Serving evaluates the model at the five levels with the same features and picks the level whose predicted
success falls in the flow band ``[flow_low, flow_high]`` (the middle of the band when several do; the
level closest to the band when none does): hard enough to stretch, easy enough to keep going.

Scoring the five levels: about half of the trees never split on the level, so they give the same leaf at
every level. :meth:`DifficultyOptimizer.success_by_level` runs those trees once per row and only the others
once per row and level (the level-free margin enters as the base margin), on one float32 grid (XGBoost
reads features as float32 anyway). The probabilities equal those of one ``predict_proba`` call over the
five rows up to float32 rounding of the margin sum (its order changes; a few 1e-7 at most).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from xgboost import Booster, XGBClassifier

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.tabular.base import TreeModelMixin, check_columns, check_labels
from ktlab.tabular.data import PlatformData
from ktlab.tabular.errors import TabularError
from ktlab.tabular.explain import reasons_from
from ktlab.tabular.features import FEATURE_NAMES, FeatureEngineering

log = logging.getLogger(__name__)

LEVELS = np.arange(1, 6)
LEVEL_COLUMN = "target_level"
#: The attribute caching the two tree sets of :meth:`DifficultyOptimizer.success_by_level` (not saved).
LEVEL_SPLIT_CACHE = "_level_trees"


def _uses_feature(tree: dict[str, Any], feature: int) -> bool:
    """Whether a tree of XGBoost's JSON model splits on ``feature`` (a leaf's left child is -1)."""
    return any(
        index == feature and left != -1
        for index, left in zip(tree["split_indices"], tree["left_children"], strict=True)
    )


def _tree_subset(model: dict[str, Any], keep: list[bool], nthread: int) -> Booster:
    """A booster of the kept trees of a JSON gbtree model (one tree per round), in their order."""
    subset = json.loads(json.dumps(model))
    trees_model = subset["learner"]["gradient_booster"]["model"]
    trees = [tree for tree, kept in zip(trees_model["trees"], keep, strict=True) if kept]
    for i, tree in enumerate(trees):
        tree["id"] = i
    trees_model["trees"] = trees
    trees_model["tree_info"] = [0] * len(trees)
    trees_model["iteration_indptr"] = list(range(len(trees) + 1))
    trees_model["gbtree_model_param"]["num_trees"] = str(len(trees))
    booster = Booster(model_file=bytearray(json.dumps(subset).encode()))
    booster.set_param({"nthread": nthread})
    return booster


@dataclass
class Recommendation:
    """The level to serve a learner next in one domain, and why.

    Attributes:
        student_id: the learner.
        domain: the skill domain.
        level: the recommended level (1-5).
        success_by_level: the predicted success at each level.
        reasons: plain-language reasons from the SHAP contributions at the recommended level.
        contributions: those contributions (feature -> log-odds), largest first.
    """

    student_id: Any
    domain: str
    level: int
    success_by_level: dict[int, float]
    reasons: list[str]
    contributions: dict[str, float]


class DifficultyOptimizer(TreeModelMixin, ClassifierMixin, BaseEstimator):
    """XGBoost model of success given the learner's features and the level (see the module docstring).

    Args:
        n_estimators, max_depth, learning_rate, subsample, colsample_bytree, min_child_weight: XGBoost's.
        flow_low, flow_high: the flow band of predicted success.
        n_reasons: reasons given with a recommendation.
        features: the feature builder of :meth:`recommend` (default settings when None).
        n_jobs, random_state: threads and seed.
    """

    _caches = (*TreeModelMixin._caches, LEVEL_SPLIT_CACHE)
    #: What the SHAP contributions of :attr:`explained_model` add up to (plot titles and axes).
    shap_units = "log-odds of success"

    def __init__(
        self,
        n_estimators: int = 200,
        max_depth: int = 4,
        learning_rate: float = 0.1,
        subsample: float = 0.9,
        colsample_bytree: float = 0.9,
        min_child_weight: float = 5.0,
        flow_low: float = 0.70,
        flow_high: float = 0.85,
        n_reasons: int = 3,
        features: FeatureEngineering | None = None,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.flow_low = flow_low
        self.flow_high = flow_high
        self.n_reasons = n_reasons
        self.features = features
        self.n_jobs = n_jobs
        self.random_state = random_state

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the settings (see :mod:`ktlab.checks`); ``fit`` and the config check call it."""
        checks = Checks(args)
        for name in ("n_estimators", "max_depth"):
            checks.integer(name, 1)
        checks.integer("n_reasons", 0)
        checks.integer("n_jobs")
        checks.integer("random_state")
        checks.require("learning_rate", lambda v: not isinstance(v, bool) and v > 0, "must be a number > 0")
        for name in ("subsample", "colsample_bytree"):
            checks.require(name, lambda v: not isinstance(v, bool) and 0 < v <= 1, "must be in (0, 1]")
        checks.at_least("min_child_weight", 0.0)
        for name in ("flow_low", "flow_high"):
            checks.require(name, lambda v: not isinstance(v, bool) and 0 < v < 1, "must be in (0, 1)")
        return checks.problems

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> DifficultyOptimizer:
        """Fit on point-in-time features plus ``target_level``; ``y`` is 1 for a right answer."""
        raise_problems(type(self).__name__, self.check_args(self.get_params(deep=False)))
        if not 0.0 < self.flow_low < self.flow_high < 1.0:
            raise TabularError(
                f"flow_low={self.flow_low}, flow_high={self.flow_high}: the flow band needs "
                "0 < flow_low < flow_high < 1, e.g. 0.70 and 0.85."
            )
        columns = [c for c in FEATURE_NAMES if c in X.columns] + [LEVEL_COLUMN]
        check_columns(X, [LEVEL_COLUMN], type(self).__name__)
        check_labels(y, type(self).__name__)
        self.feature_names_in_ = np.array(columns, dtype=object)
        self.n_features_in_ = len(columns)
        self.model_ = XGBClassifier(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            learning_rate=self.learning_rate,
            subsample=self.subsample,
            colsample_bytree=self.colsample_bytree,
            min_child_weight=self.min_child_weight,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            tree_method="hist",
            eval_metric="logloss",
        )
        self.model_.fit(self._matrix(X), np.asarray(y))
        self.classes_ = self.model_.classes_
        self._drop_caches()
        return self

    @property
    def explained_model(self) -> XGBClassifier:
        """The trees SHAP explains (contributions in log-odds)."""
        return self.model_

    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """``[n, 2]`` probabilities of a wrong and a right answer."""
        self._check_fitted()
        return self.model_.predict_proba(self._matrix(X))

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """1 where success is predicted more likely than not."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def decision_function(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The log-odds of success (what the SHAP contributions add up to)."""
        self._check_fitted()
        return self.model_.predict(self._matrix(X), output_margin=True)

    def _level_split(self) -> tuple[Booster, Booster] | None:
        """The trees that never split on the level and those that do, as two boosters (built once).

        None when one of the two sets is empty (or the model is not one tree per round): then one booster
        does it all.
        """
        cached = self.__dict__.get(LEVEL_SPLIT_CACHE)
        if cached is None:
            model = json.loads(self.model_.get_booster().save_raw("json"))
            trees_model = model["learner"]["gradient_booster"]["model"]
            level = len(self.feature_names_in_) - 1
            uses = [_uses_feature(tree, level) for tree in trees_model["trees"]]
            single = trees_model["gbtree_model_param"].get("num_parallel_tree", "1") == "1"
            cached = (None,)
            if single and 0 < sum(uses) < len(uses):
                free = _tree_subset(model, [not u for u in uses], self.n_jobs)
                cached = (free, _tree_subset(model, uses, self.n_jobs))
                log.debug("scoring levels: %d of %d trees split on the level", sum(uses), len(uses))
            self.__dict__[LEVEL_SPLIT_CACHE] = cached
        return None if cached[0] is None else cached

    def success_by_level(self, features: pd.DataFrame) -> np.ndarray:
        """``[n, 5]`` predicted success at levels 1-5 for rows of point-in-time features."""
        self._check_fitted()
        base = self._matrix(features, self.feature_names_in_[:-1])
        n, k = base.shape
        grid = np.empty((n, LEVELS.size, k + 1), dtype=np.float32)
        grid[:, :, :k] = base[:, None, :]
        grid[:, :, k] = LEVELS
        flat = grid.reshape(n * LEVELS.size, k + 1)
        split = self._level_split()
        # inplace_predict skips the DMatrix the sklearn wrapper builds per call.
        if split is None:
            return self.model_.get_booster().inplace_predict(flat).reshape(n, LEVELS.size)
        free, by_level = split
        margin = free.inplace_predict(np.ascontiguousarray(grid[:, 0, :]), predict_type="margin")
        success = by_level.inplace_predict(flat, base_margin=np.repeat(margin, LEVELS.size))
        return success.reshape(n, LEVELS.size)

    def choose_level(self, success: np.ndarray) -> np.ndarray:
        """The level of each row of ``[n, 5]`` success chances, by the flow band (module docstring)."""
        middle = (self.flow_low + self.flow_high) / 2
        inside = (success >= self.flow_low) & (success <= self.flow_high)
        distance = np.where(
            inside,
            np.abs(success - middle),
            1.0 + np.maximum(self.flow_low - success, success - self.flow_high),
        )
        return LEVELS[np.argmin(distance, axis=1)]

    def recommend_features(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Levels and ``[n, 5]`` success chances for many (learner, domain) feature rows at once."""
        success = self.success_by_level(features)
        return self.choose_level(success), success

    def recommend(
        self, data: PlatformData, student_id: Any, domain: str, at: pd.Timestamp | None = None
    ) -> Recommendation:
        """The level to serve ``student_id`` next in ``domain``, with reasons.

        Raises:
            TabularError: unknown domain, or no answer of the learner in the domain before ``at``.
            NotFittedModelError: the model is not trained.
        """
        self._check_fitted("recommending")
        features, _ = self._pair_features(data, [student_id], domain, at)
        return self.recommend_row(features, student_id, domain)

    def recommend_row(
        self, features: pd.DataFrame, student_id: Any = None, domain: str = ""
    ) -> Recommendation:
        """A recommendation from one row of features (the warm path of a serving process)."""
        levels, success = self.recommend_features(features)
        level = int(levels[0])
        row = features.iloc[[0]].assign(**{LEVEL_COLUMN: float(level)})
        values = self._matrix(row)
        contributions = np.asarray(self.explainer.shap_values(values))[0]
        reasons, ranked = reasons_from(self.feature_names_in_, values[0], contributions, self.n_reasons)
        return Recommendation(
            student_id=student_id,
            domain=domain,
            level=level,
            success_by_level={int(lv): float(p) for lv, p in zip(LEVELS, success[0], strict=True)},
            reasons=reasons,
            contributions=ranked,
        )

    def feature_importance(self) -> pd.Series:
        """XGBoost's gain-based importance per feature, largest first."""
        self._check_fitted("reading feature importance")
        values = self.model_.feature_importances_
        return pd.Series(values, index=list(self.feature_names_in_)).sort_values(ascending=False)
