"""A small interaction table that shows every column of the schema (``scripts/make_template.py`` writes it).

Three learners, each in one split of the optional ``split`` column, so that ``python train.py data=csv
data.path=<template>`` runs as is, with a warning that its splits are far too small for their AUC to mean
anything (see :mod:`ktlab.data.split_sizes`); a file without that column is split at random and needs more
learners.
"""

from __future__ import annotations

import pandas as pd

from ktlab.data.schema import INTERACTION_COLUMNS, SPLIT_COLUMN

#: student_id, t, skill_id, correct, difficulty, adjustment, time_spent, motivation, anxiety_level,
#: phase_type, split
ROWS: list[tuple] = [
    ("alice", 0, "fractions", 1, 0.5, 0, 31.5, 0.8, 0.2, "hub", "train"),
    ("alice", 1, "fractions", 1, 0.5, 0, 22.0, 0.8, 0.2, "lecon", "train"),
    ("alice", 2, "fractions", 0, 0.6, 1, 48.2, 0.75, 0.25, "exploration", "train"),
    ("alice", 3, "decimals", 1, 0.5, 0, 19.7, 0.8, 0.2, "synthese", "train"),
    ("bob", 0, "fractions", 0, 0.5, 0, 55.0, 0.5, 0.6, "hub", "val"),
    ("bob", 1, "fractions", 0, 0.5, 0, 61.3, 0.45, 0.65, "lecon", "val"),
    ("bob", 2, "fractions", 0, 0.5, 0, 70.1, 0.4, 0.7, "exploration", "val"),
    ("bob", 3, "fractions", 1, 0.4, -1, 40.8, 0.45, 0.65, "defi", "val"),
    ("carol", 0, "decimals", 1, 0.5, 0, 25.2, 0.7, 0.3, "hub", "test"),
    ("carol", 1, "decimals", 0, 0.6, 1, 44.0, 0.65, 0.35, "lecon", "test"),
    ("carol", 2, "fractions", 1, 0.5, 0, 30.9, 0.7, 0.3, "exploration", "test"),
]
COLUMNS: list[str] = [*INTERACTION_COLUMNS, SPLIT_COLUMN]

GUIDE = """Columns (one row per answer):
  student_id     learner id (text)
  t              order of the learner's answers (number, unique per learner)
  skill_id       skill id (text)
  correct        1 right, 0 wrong
  difficulty     difficulty of the item, in [0.2, 0.9]
  adjustment     difficulty change applied before this step: -1, 0 or 1
  time_spent     seconds spent answering (> 0)
  motivation     in [0, 1]
  anxiety_level  in [0, 1]
  phase_type     hub, exploration, lecon, synthese or defi
  split          optional: train, val or test per learner (without it, learners are split at random)
Optional too: problem_id (an item id, with data.item_features=[skill_id,problem_id]).
Context columns can be left out if the run drops them from data.context_features / data.query_features."""


def template_frame() -> pd.DataFrame:
    """The template rows as a frame with the schema's column names."""
    return pd.DataFrame(ROWS, columns=COLUMNS)
