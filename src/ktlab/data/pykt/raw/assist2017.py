"""ASSISTments 2017 (``anonymized_full_release_competition_dataset.csv``), read as pyKT's
``assist2017_preprocess.py`` reads it.

Key fields ``studentId, problemId, correct, skill, startTime``: a row missing one is dropped, and so is
a ``correct`` other than 0/1. Each learner's answers are sorted by ``startTime`` (seconds, written as
milliseconds on line 5) then by their row in the file; learners come in order of their first kept
answer. The skill is the ``skill`` name as written (one per row, ``noskill`` included, as pyKT keeps
it); the use time on line 6 is ``timeTaken`` in milliseconds, rounded half to even (Python's
``round(x * 1000)``, which pyKT applies).

Difference: a row without ``timeTaken`` is dropped (pyKT's ``round`` fails on it; the release has none).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ktlab.data.pykt.raw.table import (
    Progress,
    integer_text,
    numbers,
    read_answers,
)

#: Raw column of each field.
COLUMNS: dict[str, str] = {
    "learner": "studentId",
    "question": "problemId",
    "skills": "skill",
    "correct": "correct",
    "order": "startTime",
    "usetime": "timeTaken",
}


def read(paths: Sequence[Path], progress: Progress | None = None) -> pd.DataFrame:
    """The kept answers of ASSISTments 2017 (see the module docstring)."""
    path, c = paths[0], COLUMNS
    raw = read_answers(path, c, what="ASSISTments 2017 competition CSV", progress=progress)
    # pyKT multiplies the whole seconds by 1000 (int(t) * 1000).
    start = np.trunc(numbers(raw[c["order"]], path, c["order"], "seconds since 1970")) * 1000
    taken = numbers(raw[c["usetime"]], path, c["usetime"], "seconds spent")
    return pd.DataFrame(
        {
            "learner": raw[c["learner"]],
            "question": raw[c["question"]],
            "skills": raw[c["skills"]],
            "correct": raw["correct"],
            "order": start,
            "row": raw.index,
            "timestamp": integer_text(start),
            "usetime": integer_text(np.round(taken * 1000)),
        }
    )
