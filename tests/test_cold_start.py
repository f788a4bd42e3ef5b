"""The cold-start curve: a prior's weight by the method of moments and the curve's shape on simulated answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ktlab.evaluation.cold_start import ANSWERS_ONLY, cold_start_curve, cold_start_figure, prior_weight


def _answers(n_questions: int = 60, per_question: int = 80, seed: int = 3) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    rates = pd.Series(rng.uniform(0.2, 0.9, n_questions), index=[f"q{i}" for i in range(n_questions)])
    rows = [(q, int(rng.random() < p)) for q, p in rates.items() for _ in range(per_question)]
    return pd.DataFrame(rows, columns=["problem_id", "correct"]), rates


def test_prior_weight_method_of_moments() -> None:
    observed = pd.Series([0.5, 0.5], index=["a", "b"])
    # mse 0.01, mean p(1-p) 0.25: m = 0.25 / 0.01 - 1
    assert prior_weight(pd.Series([0.6, 0.4], index=["a", "b"]), observed) == pytest.approx(24.0)
    # a prior worse than the spread of the rates is still worth one answer
    assert prior_weight(pd.Series([1.0, 0.0], index=["a", "b"]), observed) == 1.0


def test_curve_informative_prior_leads_then_answers_catch_up() -> None:
    answers, rates = _answers()
    rng = np.random.default_rng(0)
    good = (rates + rng.normal(0, 0.05, len(rates))).clip(0, 1)
    noise = pd.Series(rng.uniform(0.2, 0.9, len(rates)), index=rates.index)
    folds = pd.Series(np.arange(len(rates)) % 3, index=rates.index)
    curve = cold_start_curve(answers, {"good": good, "noise": noise}, ks=(0, 5, 40), folds=folds, repeats=3)
    at = curve.set_index(["prior", "k"])
    assert set(curve["prior"]) == {"good", "noise", ANSWERS_ONLY}
    assert at.loc[(ANSWERS_ONLY, 0), "auc"] == pytest.approx(0.5)
    assert np.isnan(at.loc[(ANSWERS_ONLY, 0), "spearman"])
    assert at.loc[("good", 0), "auc"] > at.loc[("noise", 0), "auc"] + 0.05
    assert at.loc[("good", 0), "spearman"] > 0.9
    # answers make up for a missing prior; a good prior keeps its lead at few answers
    assert at.loc[(ANSWERS_ONLY, 40), "auc"] > at.loc[(ANSWERS_ONLY, 5), "auc"] > 0.5
    assert at.loc[("good", 5), "auc"] > at.loc[(ANSWERS_ONLY, 5), "auc"]
    # the noisy prior is given little weight, the good one much
    assert at.loc[("noise", 0), "weight"] < 5 < at.loc[("good", 0), "weight"]
    assert (curve["answers_scored"] == len(answers) - 40 * len(rates)).all()


def test_curve_refuses_bad_input() -> None:
    answers, rates = _answers(n_questions=4, per_question=5)
    with pytest.raises(ValueError, match="more than 10 answers"):
        cold_start_curve(answers, {"p": rates}, ks=(0, 10))
    with pytest.raises(ValueError, match="lack a rate"):
        cold_start_curve(answers, {"p": rates.iloc[:2]}, ks=(0, 1))
    with pytest.raises(ValueError, match=">= 0"):
        cold_start_curve(answers, {"p": rates}, ks=(-1, 1))


def test_figure_draws_each_prior() -> None:
    import matplotlib

    matplotlib.use("Agg")
    answers, rates = _answers(n_questions=10, per_question=20)
    fig = cold_start_figure(cold_start_curve(answers, {"p": rates}, ks=(0, 2), repeats=1))
    assert [len(ax.get_legend_handles_labels()[1]) for ax in fig.axes] == [2, 2]
