"""Baselines for the success rate of new questions, fitted on the training answers only.

* :func:`topic_rate`: the training success rate of the question's topic (else its subject, else all);
* :func:`skill_mean`: the mean, over the question's skills, of each skill's training success rate;
* :class:`TextRidge`: TF-IDF features of the question's text and a ridge regression on the training
  questions' observed success rates (weighted by their numbers of answers), a scikit-learn ``Pipeline``;
* :class:`TextLogistic`: the same features and a logistic regression on the training answers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline


def topic_rate(train_answers: pd.DataFrame, questions: pd.DataFrame) -> np.ndarray:
    """Training success rate of each question's topic, falling back to its subject, then to all answers."""
    overall = float(train_answers["correct"].mean())
    rate = pd.Series(np.nan, index=questions.index)
    for column in ("topic_name", "subject_name"):
        means = train_answers.groupby(column)["correct"].mean()
        rate = rate.fillna(questions[column].map(means))
    return rate.fillna(overall).to_numpy(dtype=float)


def skill_mean(
    train_answers: pd.DataFrame, questions: pd.DataFrame, column: str = "skill_set", sep: str = "|"
) -> np.ndarray:
    """Each question's predicted success rate: the mean of its skills' training success rates.

    A skill's rate is the share of right answers among the training answers to questions with that skill
    (``column`` holds a question's skills joined by ``sep``, in ``train_answers`` and ``questions``); a
    question none of whose skills was trained on gets the overall training rate.
    """
    overall = float(train_answers["correct"].mean())
    per_answer = train_answers[[column, "correct"]].assign(skill=train_answers[column].str.split(sep))
    rates = per_answer.explode("skill").groupby("skill")["correct"].mean()
    skills = questions[column].str.split(sep).explode()
    mean = skills.map(rates).groupby(level=0).mean()
    return mean.reindex(questions.index).fillna(overall).to_numpy(dtype=float)


def observed_rates(answers: pd.DataFrame) -> pd.DataFrame:
    """``success_rate`` and ``n_answers`` per ``problem_id`` of an answer log."""
    grouped = answers.groupby("problem_id")["correct"]
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


class TextLogistic:
    """TF-IDF of the question text plus logistic regression on the answers (right or wrong).

    Every answer to a question has the same features, so the fit takes each question once per outcome,
    weighted by its numbers of right and wrong answers: the same loss as one row per answer.

    Args:
        C: the inverse of the L2 penalty.
        ngram_range: word n-grams of the TF-IDF features.
    """

    def __init__(self, C: float = 1.0, ngram_range: tuple[int, int] = (1, 2)) -> None:
        self.C = C
        self.ngram_range = ngram_range

    def fit(self, texts: Sequence[str], n_right: np.ndarray, n_wrong: np.ndarray) -> TextLogistic:
        texts = list(texts)
        self.pipeline_ = Pipeline(
            [("tfidf", TfidfVectorizer(ngram_range=self.ngram_range, sublinear_tf=True)),
             ("logistic", LogisticRegression(C=self.C, max_iter=2000))]
        )  # fmt: skip
        labels = np.r_[np.ones(len(texts)), np.zeros(len(texts))]
        weights = np.r_[np.asarray(n_right, float), np.asarray(n_wrong, float)]
        self.pipeline_.fit(texts + texts, labels, logistic__sample_weight=weights)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """The probability of a right answer to each question."""
        return self.pipeline_.predict_proba(list(texts))[:, 1]
