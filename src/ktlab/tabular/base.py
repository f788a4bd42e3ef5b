"""What the two tabular models share: input checks, the fitted check and the cached SHAP explainer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shap

from ktlab.errors import DataValidationError
from ktlab.tabular.data import PlatformData
from ktlab.tabular.errors import NotFittedModelError, TabularError
from ktlab.tabular.features import FeatureEngineering


class TreeModelMixin:
    """Mixin of the tabular estimators (each sets ``feature_names_in_`` and ``model_`` in ``fit``)."""

    feature_names_in_: np.ndarray
    #: Attributes built from the fitted model on first use: never saved, dropped by every ``fit``.
    _caches: tuple[str, ...] = ("_explainer",)

    def _drop_caches(self) -> None:
        for name in self._caches:
            self.__dict__.pop(name, None)

    def _check_fitted(self, what: str = "predict") -> None:
        if not hasattr(self, "model_"):
            raise NotFittedModelError(
                f"This {type(self).__name__} is not trained: call fit (or load a saved model with "
                f"ktlab.tabular.io.load_model) before {what}."
            )

    def _matrix(self, X: pd.DataFrame | np.ndarray, names: np.ndarray | None = None) -> np.ndarray:
        """The model's input columns of ``X`` as a float matrix, refusing missing columns."""
        names = self.feature_names_in_ if names is None else names
        if isinstance(X, pd.DataFrame):
            missing = [c for c in names if c not in X.columns]
            if missing:
                raise DataValidationError(
                    f"{type(self).__name__}: the input lacks feature column(s) {', '.join(missing)}; build "
                    "inputs with FeatureEngineering (see docs/tabular.md)."
                )
            return X[list(names)].to_numpy(np.float64)
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(names):
            raise DataValidationError(
                f"{type(self).__name__}: expected {len(names)} feature columns, got shape {X.shape}."
            )
        return X

    def _feature_engineering(self) -> FeatureEngineering:
        return self.features if self.features is not None else FeatureEngineering()  # type: ignore[attr-defined]

    def _pair_features(
        self, data: PlatformData, student_ids: list[Any], domain: str, at: pd.Timestamp | None
    ) -> tuple[pd.DataFrame, pd.Timestamp]:
        """Features of learners in one domain at ``at`` (default: just after the last answer).

        Raises:
            TabularError: unknown domain, or a learner without answers in the domain before ``at``.
        """
        data.check_domain(domain)
        at = data.end() if at is None else pd.Timestamp(at)
        before = data.answers[(data.answers["timestamp"] < at) & (data.answers["skill_id"] == domain)]
        have = set(before["student_id"].unique())
        lacking = [u for u in student_ids if u not in have]
        if lacking:
            shown = ", ".join(str(u) for u in lacking[:10]) + (" ..." if len(lacking) > 10 else "")
            raise TabularError(
                f"{len(lacking)} learner(s) have no answer in '{domain}' before {at} in {data.source}: {shown}. "
                "A prediction needs at least one earlier answer in the domain; leave them out."
            )
        return self._feature_engineering().features_at(data, student_ids, domain, at), at

    @property
    def explainer(self) -> shap.TreeExplainer:
        """A SHAP TreeExplainer of the fitted trees (built once, not saved with the model)."""
        self._check_fitted("explaining")
        cached = self.__dict__.get("_explainer")
        if cached is None:
            cached = shap.TreeExplainer(self.explained_model)  # type: ignore[attr-defined]
            self.__dict__["_explainer"] = cached
        return cached

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key not in self._caches}


def check_labels(y: np.ndarray, who: str, what: str = "answers") -> None:
    """Refuse training labels of one class: a classifier of success needs right and wrong examples."""
    y = np.asarray(y)
    classes = np.unique(y)
    if classes.size < 2:
        held = f"all labelled {classes[0]}" if classes.size else "none"
        raise TabularError(
            f"{who}.fit: {len(y)} training {what} and {classes.size} label class ({held}); a classifier "
            "needs both classes (0 and 1). Train on more data, or on data with both outcomes."
        )


def check_columns(X: pd.DataFrame, required: list[str], who: str) -> None:
    """Refuse a training frame without the required columns."""
    if not isinstance(X, pd.DataFrame):
        raise TabularError(f"{who}.fit needs a DataFrame of named features, got {type(X).__name__}.")
    missing = [c for c in required if c not in X.columns]
    if missing:
        raise DataValidationError(f"{who}.fit: the training frame lacks column(s) {', '.join(missing)}.")
