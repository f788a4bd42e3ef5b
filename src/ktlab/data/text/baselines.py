"""Baselines for the success rate of new questions, fitted on the training answers only.

* :func:`topic_rate`: the training success rate of the question's topic (else its subject, else all);
* :class:`TextRidge`: TF-IDF features of the question's text and a ridge regression on the training
  questions' observed success rates (weighted by their numbers of answers), a scikit-learn ``Pipeline``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline


def topic_rate(train_answers: pd.DataFrame, questions: pd.DataFrame) -> np.ndarray:
    """Training success rate of each question's topic, falling back to its subject, then to all answers."""
    overall = float(train_answers["is_correct"].mean())
    rate = pd.Series(np.nan, index=questions.index)
    for column in ("topic_name", "subject_name"):
        means = train_answers.groupby(column)["is_correct"].mean()
        rate = rate.fillna(questions[column].map(means))
    return rate.fillna(overall).to_numpy(dtype=float)


def observed_rates(answers: pd.DataFrame) -> pd.DataFrame:
    """``success_rate`` and ``n_answers`` per ``question_id`` of an answer log."""
    grouped = answers.groupby("question_id")["is_correct"]
    return pd.DataFrame({"success_rate": grouped.mean(), "n_answers": grouped.size()})


class TextRidge:
    """TF-IDF of the question text plus ridge regression on observed success rates.

    Args:
        alpha: the ridge penalty.
        ngram_range: word n-grams of the TF-IDF features.
    """

    def __init__(self, alpha: float = 1.0, ngram_range: tuple[int, int] = (1, 2)) -> None:
        self.alpha = alpha
        self.ngram_range = ngram_range

    def fit(self, texts: Sequence[str], rates: np.ndarray, weights: np.ndarray | None = None) -> TextRidge:
        self.pipeline_ = Pipeline(
            [("tfidf", TfidfVectorizer(ngram_range=self.ngram_range, sublinear_tf=True)),
             ("ridge", Ridge(alpha=self.alpha))]
        )  # fmt: skip
        self.pipeline_.fit(list(texts), rates, ridge__sample_weight=weights)
        return self

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.pipeline_.predict(list(texts))
