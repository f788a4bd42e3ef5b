"""Splitting answer logs: by answer within each student, by question, or by topic.

* ``answer`` (the notebook's split): each student's answers are shuffled and cut into train/val/test,
  so every student and most questions are seen in training;
* ``question``: questions are split, so val/test questions were never seen in training (the difficulty of
  new questions);
* ``topic``: whole topics are held out, a harder generalization.

Each is seeded and depends on the data only, so the same config gives the same split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ktlab.errors import ConfigError

SPLIT_BY: tuple[str, ...] = ("answer", "question", "topic")


def _by_groups(
    groups: pd.Series, val_fraction: float, test_fraction: float, seed: int, what: str
) -> np.ndarray:
    names = np.sort(groups.unique().astype(str))
    order = np.random.default_rng(seed).permutation(len(names))
    n_test = max(1, round(len(names) * test_fraction)) if test_fraction > 0 else 0
    n_val = max(1, round(len(names) * val_fraction)) if val_fraction > 0 else 0
    if n_test + n_val >= len(names):
        raise ConfigError(
            f"data.split_by={what}: the data has {len(names)} {what}(s), too few to hold out {n_val} for "
            f"validation and {n_test} for testing and keep some for training; use data with more {what}s, "
            "or split by answer (data.split_by=answer)."
        )
    label = np.full(len(names), "train", dtype=object)
    label[order[:n_test]] = "test"
    label[order[n_test : n_test + n_val]] = "val"
    return groups.astype(str).map(dict(zip(names, label, strict=True))).to_numpy()


def split_answers(
    answers: pd.DataFrame, split_by: str, val_fraction: float, test_fraction: float, seed: int
) -> np.ndarray:
    """The split (``train``, ``val`` or ``test``) of every answer."""
    if split_by == "question":
        return _by_groups(answers["question_id"], val_fraction, test_fraction, seed, "question")
    if split_by == "topic":
        return _by_groups(answers["topic_name"], val_fraction, test_fraction, seed, "topic")
    key = np.random.default_rng(seed).random(len(answers))
    order = pd.DataFrame({"user": answers["user_id"].to_numpy(), "key": key}).sort_values(["user", "key"])
    position = order.groupby("user", sort=False).cumcount().to_numpy()
    size = order.groupby("user", sort=False)["key"].transform("size").to_numpy()
    share = np.empty(len(answers))
    share[order.index.to_numpy()] = position / size
    return np.where(
        share < test_fraction, "test", np.where(share < test_fraction + val_fraction, "val", "train")
    )
