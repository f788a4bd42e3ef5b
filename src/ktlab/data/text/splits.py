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

from ktlab.data.splitting import split_groups
from ktlab.errors import ConfigError

SPLIT_BY: tuple[str, ...] = ("answer", "question", "topic")


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
