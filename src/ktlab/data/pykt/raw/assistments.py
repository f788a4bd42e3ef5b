"""ASSISTments 2009, 2012 and 2015 raw exports, read as pyKT's ``assist20xx_preprocess`` reads them.

Shared by the three: rows missing a key field are dropped, answers other than 0/1 are dropped, each
learner's answers are sorted by the order column then by their row in the file, learners come in order
of their first kept answer. Ids are written as the file spells them (pyKT reads numeric columns as
numbers, which writes the same text for whole numbers; a column with gaps becomes floats there, so
pyKT would write ``12.0`` where this writes ``12``: the renumbered ids are the same).

ASSISTments 2009 (``skill_builder_data_corrected_collapsed.csv``), pyKT's
``assist2009_preprocess.py``: key fields ``user_id, problem_id, skill_id, correct, order_id``; sorted by
``order_id``; one row per skill tag (a problem of two skills is two rows with one ``order_id``, kept
as they are, as pyKT keeps them); no times (lines 5 and 6 are ``NA``). Difference: a ``correct`` other
than 0/1 is dropped (pyKT keeps whatever the column holds; the release holds only 0 and 1).

ASSISTments 2012 (``2012-2013-data-with-predictions-4-final.csv``), pyKT's ``assist2012_preprocess.py``:
key fields ``user_id, skill_id, start_time, problem_id, correct, ms_first_response``; ``correct`` cut
to a whole number first (pyKT applies ``int``) then kept if 0/1; sorted by ``start_time`` in
milliseconds, written on line 5; ``ms_first_response`` as the use time on line 6. Difference:
``start_time`` is read as UTC (see :func:`ktlab.data.pykt.raw.table.millis`).

ASSISTments 2015 (``2015_100_skill_builders_main_problems.csv``), pyKT's ``assist2015_preprocess.py``:
key fields ``user_id, log_id, sequence_id, correct``; ``correct`` kept if exactly 0 or 1 (partial
credit such as 0.25 is dropped); sorted by ``log_id``; the skill builder (``sequence_id``) is the skill;
no question ids and no times (lines 2, 5 and 6 are ``NA``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ktlab.data.pykt.raw.table import (
    Progress,
    integer_text,
    millis,
    numbers,
    read_answers,
)

#: Raw column of each field, ASSISTments 2009.
COLUMNS_2009: dict[str, str] = {
    "learner": "user_id",
    "question": "problem_id",
    "skills": "skill_id",
    "correct": "correct",
    "order": "order_id",
}
#: Raw column of each field, ASSISTments 2012.
COLUMNS_2012: dict[str, str] = {
    "learner": "user_id",
    "question": "problem_id",
    "skills": "skill_id",
    "correct": "correct",
    "order": "start_time",
    "usetime": "ms_first_response",
}
#: Raw column of each field, ASSISTments 2015.
COLUMNS_2015: dict[str, str] = {
    "learner": "user_id",
    "skills": "sequence_id",
    "correct": "correct",
    "order": "log_id",
}


def read_2009(paths: Sequence[Path], progress: Progress | None = None) -> pd.DataFrame:
    """The kept answers of ASSISTments 2009 (see the module docstring)."""
    path, c = paths[0], COLUMNS_2009
    raw = read_answers(path, c, what="ASSISTments 2009 skill-builder CSV", progress=progress)
    return pd.DataFrame(
        {
            "learner": raw[c["learner"]],
            "question": raw[c["question"]],
            "skills": raw[c["skills"]],
            "correct": raw["correct"],
            "order": numbers(raw[c["order"]], path, c["order"], "the answer's order id"),
            "row": raw.index,
        }
    )


def read_2012(paths: Sequence[Path], progress: Progress | None = None) -> pd.DataFrame:
    """The kept answers of ASSISTments 2012 (see the module docstring)."""
    path, c = paths[0], COLUMNS_2012
    raw = read_answers(path, c, what="ASSISTments 2012-13 CSV", truncate=True, progress=progress)
    start = millis(raw[c["order"]], path, c["order"], "ISO8601")
    return pd.DataFrame(
        {
            "learner": raw[c["learner"]],
            "question": raw[c["question"]],
            "skills": raw[c["skills"]],
            "correct": raw["correct"],
            "order": start,
            "row": raw.index,
            "timestamp": integer_text(start),
            "usetime": raw[c["usetime"]],
        }
    )


def read_2015(paths: Sequence[Path], progress: Progress | None = None) -> pd.DataFrame:
    """The kept answers of ASSISTments 2015 (see the module docstring)."""
    path, c = paths[0], COLUMNS_2015
    raw = read_answers(path, c, what="ASSISTments 2015 skill-builder CSV", progress=progress)
    return pd.DataFrame(
        {
            "learner": raw[c["learner"]],
            "skills": raw[c["skills"]],
            "correct": raw["correct"],
            "order": numbers(raw[c["order"]], path, c["order"], "the answer's log id"),
            "row": raw.index,
        }
    )
