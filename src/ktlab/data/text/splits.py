"""Splitting answer logs: by answer within each student, by question, or by topic.

* ``answer`` (the notebook's split): each student's answers are shuffled and cut into train/val/test,
  so every student and most questions are seen in training;
* ``question``: questions are split, so val/test questions were never seen in training (the difficulty of
  new questions);
* ``topic``: whole topics are held out, a harder generalization;
* ``fold``: question-held-out cross-validation: the questions fall into ``n_folds`` folds, grouped by a
  column (``fold_group``: DBE-KT22's ``skill_set`` keeps questions written for the same skills, near
  duplicates, in one fold), fold ``fold`` is the test split and the validation questions are drawn, whole
  groups again, from the others; over the folds every question is tested exactly once.

Each is seeded and depends on the data only, so the same config gives the same split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ktlab.data.splitting import group_folds, split_groups
from ktlab.errors import ConfigError

SPLIT_BY: tuple[str, ...] = ("answer", "question", "topic", "fold")


def _by_groups(
    groups: pd.Series, val_fraction: float, test_fraction: float, seed: int, what: str
) -> np.ndarray:
    names = groups.astype(str).unique()
    n_test = int(np.ceil(len(names) * test_fraction))
    n_val = int(np.ceil((len(names) - n_test) * val_fraction / (1.0 - test_fraction)))
    if n_test + n_val >= len(names):
        raise ConfigError(
            f"data.split_by={what}: the data has {len(names)} {what}(s), too few to hold out {n_val} for "
            f"validation and {n_test} for testing and keep some for training; use data with more {what}s, "
            "or split by answer (data.split_by=answer)."
        )
    return split_groups(groups.to_numpy(), val_fraction, test_fraction, seed)


def question_folds(
    questions: pd.DataFrame, n_folds: int, seed: int, fold_group: str = "skill_set"
) -> pd.Series:
    """The fold (``0..n_folds-1``) of every ``problem_id`` of ``questions`` (rows may repeat a question).

    Questions sharing their ``fold_group`` value share their fold; without that column, or where it is
    empty, a question is its own group.

    Raises:
        ConfigError: fewer groups than folds.
    """
    table = questions.drop_duplicates("problem_id")
    groups = _groups(table, fold_group)
    try:
        fold = group_folds(groups, n_folds, seed)
    except ValueError:
        raise ConfigError(
            f"data.n_folds={n_folds}: the data has {len(set(groups))} question group(s) by {fold_group}, "
            "too few for that many folds; use fewer folds."
        ) from None
    return pd.Series(fold, index=table["problem_id"].to_numpy(), name="fold")


def _groups(frame: pd.DataFrame, fold_group: str) -> np.ndarray:
    """The fold group of every row: its ``fold_group`` value, else (absent or empty) its question."""
    question = frame["problem_id"].astype(str)
    if fold_group not in frame:
        return question.to_numpy()
    value = frame[fold_group].fillna("").astype(str)
    return ("g:" + value).where(value != "", "q:" + question).to_numpy()


def _by_fold(answers: pd.DataFrame, val_fraction: float, seed: int, fold: int, n_folds: int,
             fold_group: str) -> np.ndarray:  # fmt: skip
    folds = question_folds(answers, n_folds, seed, fold_group)
    if not 0 <= fold < n_folds:
        raise ConfigError(f"data.fold={fold}: must be in 0..{n_folds - 1} (data.n_folds={n_folds}).")
    test = (answers["problem_id"].map(folds) == fold).to_numpy()
    split = np.full(len(answers), "test", dtype=object)
    split[~test] = split_groups(_groups(answers, fold_group)[~test], val_fraction, 0.0, seed)
    return split


def split_answers(
    answers: pd.DataFrame,
    split_by: str,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    fold: int = 0,
    n_folds: int = 5,
    fold_group: str = "skill_set",
) -> np.ndarray:
    """The split (``train``, ``val`` or ``test``) of every answer (``fold``, ``n_folds`` and ``fold_group``
    serve ``split_by="fold"``, whose test share is one fold, not ``test_fraction``)."""
    if split_by == "fold":
        return _by_fold(answers, val_fraction, seed, fold, n_folds, fold_group)
    if split_by == "question":
        return _by_groups(answers["problem_id"], val_fraction, test_fraction, seed, "question")
    if split_by == "topic":
        return _by_groups(answers["topic_name"], val_fraction, test_fraction, seed, "topic")
    key = np.random.default_rng(seed).random(len(answers))
    order = pd.DataFrame({"student": answers["student_id"].to_numpy(), "key": key})
    order = order.sort_values(["student", "key"])
    position = order.groupby("student", sort=False).cumcount().to_numpy()
    size = order.groupby("student", sort=False)["key"].transform("size").to_numpy()
    share = np.empty(len(answers))
    share[order.index.to_numpy()] = position / size
    return np.where(
        share < test_fraction, "test", np.where(share < test_fraction + val_fraction, "val", "train")
    )
