"""How many answers a prior estimate of a new question's success rate is worth: the cold-start curve.

A question enters the bank with a prior estimate of its success rate (from its text, its skills, or
nothing) and then collects answers. After ``k`` answers, the estimate is the beta-binomial posterior mean

    rate(k) = (right answers among the k + m * prior) / (k + m)

where ``m`` is the prior's weight in answers. :func:`cold_start_curve` draws ``k`` answers of each
question at random, scores the question's other answers with ``rate(k)`` and reports, per prior and per
``k``, the ROC AUC of those answers and the Spearman correlation of ``rate(k)`` with each question's
observed success rate. The answers scored are the same for every ``k`` and prior of a draw (each
question's answers after its first ``max(ks)`` in a random order), so the curves compare like with like.
At ``k = 0`` the estimate is the prior itself; a flat prior gives AUC 0.5 there.

``m`` is set from the prior's own error, by the method of moments: with ``v`` the mean squared error of
the prior against the observed rates and ``p`` those rates, a beta prior of weight ``m`` has variance
``p (1 - p) / (m + 1)``, so ``m = mean(p (1 - p)) / v - 1`` (at least 1). With a ``fold`` per question,
the ``m`` used on a fold's questions is computed on the other folds' questions only.

No library computes this curve (it is an empirical-Bayes update with one weight per prior), so it is
written here; the metrics are scikit-learn's and scipy's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

log = logging.getLogger(__name__)

#: The name of the flat prior (answers only) in the curve.
ANSWERS_ONLY = "answers_only"


def prior_weight(prior: pd.Series, observed: pd.Series) -> float:
    """The weight ``m`` (in answers) of ``prior`` by the method of moments (see the module docstring)."""
    both = pd.concat({"prior": prior, "observed": observed}, axis=1).dropna()
    if both.empty:
        raise ValueError("prior_weight needs questions with both a prior and an observed rate")
    mse = float(((both["prior"].clip(0, 1) - both["observed"]) ** 2).mean())
    spread = float((both["observed"] * (1 - both["observed"])).mean())
    return max(1.0, spread / max(mse, 1e-9) - 1.0)


def _weights(priors: pd.DataFrame, observed: pd.Series, folds: pd.Series | None) -> pd.DataFrame:
    """The weight of each prior for each question (out of fold when ``folds`` is given)."""
    weights = pd.DataFrame(index=priors.index, columns=priors.columns, dtype=float)
    groups = [(None, priors.index)] if folds is None else list(folds.groupby(folds).groups.items())
    for fold, questions in groups:
        others = priors.index if fold is None else priors.index.difference(questions)
        for name in priors.columns:
            weights.loc[questions, name] = prior_weight(priors.loc[others, name], observed.loc[others])
    return weights


def cold_start_curve(
    answers: pd.DataFrame,
    priors: Mapping[str, pd.Series],
    ks: Sequence[int] = (0, 1, 2, 5, 10, 20, 50),
    folds: pd.Series | None = None,
    repeats: int = 5,
    seed: int = 0,
    question: str = "problem_id",
    correct: str = "correct",
) -> pd.DataFrame:
    """The cold-start curve of each prior (see the module docstring).

    Args:
        answers: one row per answer, with the ``question`` and ``correct`` (0/1) columns.
        priors: name -> each question's prior success rate (indexed by question); a flat prior
            (``answers_only``) is added.
        ks: the numbers of answers seen.
        folds: each question's fold (indexed by question), to weigh priors out of fold; None: on all.
        repeats: random draws of the answers seen, averaged.
        seed: seed of the draws.
        question: the question column.
        correct: the answer column.

    Returns:
        One row per prior and ``k``: ``prior``, ``k``, ``auc`` and ``spearman`` (means over the draws),
        ``auc_std``, ``weight`` (the prior's mean weight ``m``), ``questions``, ``answers_scored``.

    Raises:
        ValueError: no question has more than ``max(ks)`` answers, or a ``k`` is negative.
    """
    if min(ks) < 0:
        raise ValueError(f"cold_start_curve: ks must be >= 0, got {list(ks)}")
    top = max(ks)
    counts = answers.groupby(question)[correct].size()
    kept = counts.index[counts > top]
    if kept.empty:
        raise ValueError(f"cold_start_curve: no question has more than {top} answers")
    answers = answers[answers[question].isin(kept)]
    observed = answers.groupby(question)[correct].mean()
    table = pd.DataFrame({name: prior.reindex(observed.index) for name, prior in priors.items()})
    missing = table.columns[table.isna().any()].tolist()
    if missing:
        raise ValueError(f"cold_start_curve: priors {missing} lack a rate for some answered questions")
    weights = _weights(table, observed, None if folds is None else folds.reindex(observed.index))
    table[ANSWERS_ONLY] = float(answers[correct].mean())
    # a flat prior ranks every question alike: only the k answers order them
    weights[ANSWERS_ONLY] = 2.0
    q = answers[question].to_numpy()
    y = answers[correct].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    rows: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for _ in range(repeats):
        rank = pd.Series(rng.random(len(answers))).groupby(q).rank(method="first").to_numpy() - 1
        scored = rank >= top
        for k in ks:
            seen = rank < k
            right = pd.Series(y[seen]).groupby(q[seen]).sum().reindex(observed.index, fill_value=0.0)
            for name in table.columns:
                m = weights[name]
                rate = (right + m * table[name]) / (k + m)
                score = rate.reindex(q[scored]).to_numpy()
                auc = roc_auc_score(y[scored], score)
                rho = spearmanr(rate, observed).statistic if rate.nunique() > 1 else np.nan
                rows.setdefault((name, k), []).append((auc, rho))
    out = [
        {
            "prior": name,
            "k": k,
            "auc": float(np.mean([a for a, _ in values])),
            "auc_std": float(np.std([a for a, _ in values])),
            "spearman": float(pd.Series([r for _, r in values], dtype=float).mean()),
            "weight": float(weights[name].mean()),
            "questions": len(observed),
            "answers_scored": int((counts.loc[kept] - top).sum()),
        }
        for (name, k), values in rows.items()
    ]
    log.info("cold-start curve of %d priors over %d questions", len(table.columns), len(observed))
    return pd.DataFrame(out)


def cold_start_figure(curve: pd.DataFrame):  # a matplotlib Figure (matplotlib is imported late)
    """AUC and Spearman against the number of answers seen, one line per prior."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for name, part in curve.groupby("prior", sort=False):
        part = part.sort_values("k")
        x = part["k"] + 0.5  # a log axis that still shows k = 0
        axes[0].errorbar(x, part["auc"], yerr=part["auc_std"], marker="o", ms=3, capsize=2, label=name)
        axes[1].plot(x, part["spearman"], marker="o", ms=3, label=name)
    for ax, label in zip(
        axes, ("AUC of the question's other answers", "Spearman with observed rate"), strict=True
    ):
        ax.set(xscale="log", xlabel="answers seen per question (k + 0.5, log)", ylabel=label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(
        "Cold start: a new question's success rate from its prior and its first k answers", fontsize=9
    )
    fig.tight_layout()
    return fig
