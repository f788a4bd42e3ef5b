"""ExplainableAI: SHAP contributions of either tabular model, in numbers, words and a summary plot.

The contributions come from ``shap.TreeExplainer`` on the fitted trees: log-odds for the XGBoost
difficulty model, probability of success for the RandomForest performance model. In both cases the base
value plus the contributions of a row equals the model's output for that row (SHAP's additivity).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shap

from ktlab.tabular.features import FEATURES

log = logging.getLogger(__name__)


def _label(name: str) -> str:
    if name == "target_level":
        return "the level of the exercise"
    text = FEATURES[name][0] if name in FEATURES else name
    return text.split(":")[0]


def reasons_from(
    names: Sequence[str], values: np.ndarray, contributions: np.ndarray, top_k: int
) -> tuple[list[str], dict[str, float]]:
    """Plain-language reasons for the ``top_k`` largest contributions, and all contributions ranked."""
    order = np.argsort(-np.abs(contributions))
    ranked = {str(names[i]): float(contributions[i]) for i in order}
    reasons = []
    for i in order[:top_k]:
        effect = "raises" if contributions[i] > 0 else "lowers"
        reasons.append(
            f"{_label(str(names[i])).capitalize()} is {values[i]:.3g}: this {effect} the chance of success."
        )
    return reasons, ranked


class ExplainableAI:
    """SHAP explanations of a fitted :class:`DifficultyOptimizer` or :class:`PerformancePredictor`.

    Args:
        model: the fitted model (anything with ``explainer``, ``explained_model`` and ``feature_names_in_``).
    """

    def __init__(self, model: Any) -> None:
        self.model = model

    def explanation(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``([n, features] contributions, [n] base values)`` toward the positive class (success)."""
        result = self.model.explainer(self.model._matrix(X))
        values, base = np.asarray(result.values), np.asarray(result.base_values)
        if values.ndim == 3:  # a forest explains each class; keep the positive one
            values, base = values[..., 1], base[..., 1]
        return values, base

    def shap_values(self, X: pd.DataFrame) -> np.ndarray:
        """``[n, features]`` contributions toward the positive class."""
        return self.explanation(X)[0]

    @property
    def expected_value(self) -> float:
        """The base value the contributions start from (the model's mean output)."""
        base = np.atleast_1d(np.asarray(self.model.explainer.expected_value, dtype=float))
        return float(base[-1])

    def explain(self, X: pd.DataFrame, top_k: int = 5) -> list[dict[str, Any]]:
        """For each row: the ``top_k`` features with their value, contribution and sign, and the reasons."""
        contributions, base = self.explanation(X)
        values = self.model._matrix(X)
        names = list(self.model.feature_names_in_)
        out = []
        for row in range(values.shape[0]):
            reasons, _ = reasons_from(names, values[row], contributions[row], top_k)
            order = np.argsort(-np.abs(contributions[row]))[:top_k]
            out.append(
                {
                    "base_value": float(base[row]),
                    "top_features": [
                        {
                            "feature": names[i],
                            "value": float(values[row, i]),
                            "contribution": float(contributions[row, i]),
                            "sign": "+" if contributions[row, i] > 0 else "-",
                        }
                        for i in order
                    ],
                    "reasons": reasons,
                }
            )
        return out

    def summary_figure(
        self, X: pd.DataFrame, max_rows: int = 2000, seed: int = 0, name: str | None = None
    ) -> plt.Figure:
        """SHAP's beeswarm summary of up to ``max_rows`` rows of ``X``, titled with the model and the units.

        Args:
            X: the rows to explain.
            max_rows: rows drawn at most (seeded).
            seed: the seed of the draw.
            name: the model's name in the title (its config name, e.g. ``performance_rf``), beside its class.
        """
        if len(X) > max_rows:
            X = X.sample(max_rows, random_state=seed)
        names = list(self.model.feature_names_in_)
        frame = X[names]
        units = self.model.shap_units
        shap.summary_plot(self.shap_values(frame), frame, show=False, max_display=15)
        fig = plt.gcf()
        fig.set_size_inches(8, 6)
        kind = type(self.model).__name__
        label = f"{name} ({kind})" if name else kind
        ax = fig.axes[0]
        ax.set_title(f"{label}\nSHAP values in {units}, {len(frame):,} rows", fontsize=11)
        ax.set_xlabel(f"SHAP value (change of the {units} from the base value)")
        fig.tight_layout()
        return fig

    def summary_plot(
        self, X: pd.DataFrame, path: str | Path, max_rows: int = 2000, seed: int = 0, name: str | None = None
    ) -> Path:
        """Write :meth:`summary_figure` to ``path`` (PNG)."""
        fig = self.summary_figure(X, max_rows, seed, name)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        plt.close("all")
        log.info("SHAP summary plot written to %s", path)
        return path
