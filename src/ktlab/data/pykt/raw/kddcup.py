"""KDD Cup 2010 Algebra 2005-2006 and Bridge to Algebra 2006-2007 (``*_train.txt``, tab-separated), read
as pyKT's ``algebra2005_preprocess.py`` and ``bridge2algebra2006_preprocess.py`` read them.

A question is a step of a problem: ``Problem Name----Step Name``; its skills are the knowledge
components (``KC(Default)`` for Algebra 2005, ``KC(SubSkills)`` for Bridge to Algebra 2006), several
joined by ``~~`` in the file and by ``_`` in ``data.txt``. In names and skills ``_`` becomes ``####``
and ``,`` becomes ``@@@@`` first, as pyKT rewrites them, since ``data.txt`` uses both as separators.
Key fields: the learner, the problem and step names, the skills, ``First Transaction Time`` and
``Correct First Attempt``; a row missing one is dropped, and so is an answer other than 0/1. Each
learner's answers are sorted by ``First Transaction Time`` (milliseconds, written on line 5) then by
their row in the file; learners come in order of their first kept answer; no use time (``NA``).

Differences: the time is read as UTC (see :func:`ktlab.data.pykt.raw.table.millis`); a row missing its
problem or step name is dropped (pyKT's renaming fails on it; the releases have none).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ktlab.data.pykt.raw.table import (
    Progress,
    integer_text,
    millis,
    read_answers,
    replace_separators,
)

#: Raw column of each field, Algebra 2005-2006 (``problem`` and ``step`` make the question).
COLUMNS_ALGEBRA2005: dict[str, str] = {
    "learner": "Anon Student Id",
    "problem": "Problem Name",
    "step": "Step Name",
    "skills": "KC(Default)",
    "correct": "Correct First Attempt",
    "order": "First Transaction Time",
}
#: Raw column of each field, Bridge to Algebra 2006-2007.
COLUMNS_BRIDGE2006: dict[str, str] = {**COLUMNS_ALGEBRA2005, "skills": "KC(SubSkills)"}


def _read(path: Path, c: dict[str, str], what: str, progress: Progress | None) -> pd.DataFrame:
    raw = read_answers(path, c, what=what, sep="\t", progress=progress)
    question = replace_separators(raw[c["problem"]]) + "----" + replace_separators(raw[c["step"]])
    start = millis(raw[c["order"]], path, c["order"], "ISO8601")
    return pd.DataFrame(
        {
            "learner": raw[c["learner"]],
            "question": question,
            "skills": replace_separators(raw[c["skills"]]).str.replace("~~", "_", regex=False),
            "correct": raw["correct"],
            "order": start,
            "row": raw.index,
            "timestamp": integer_text(start),
        }
    )


def read_algebra2005(paths: Sequence[Path], progress: Progress | None = None) -> pd.DataFrame:
    """The kept answers of Algebra 2005-2006 (see the module docstring)."""
    return _read(paths[0], COLUMNS_ALGEBRA2005, "KDD Cup Algebra 2005-2006 train file", progress)


def read_bridge2006(paths: Sequence[Path], progress: Progress | None = None) -> pd.DataFrame:
    """The kept answers of Bridge to Algebra 2006-2007 (see the module docstring)."""
    return _read(paths[0], COLUMNS_BRIDGE2006, "KDD Cup Bridge to Algebra 2006-2007 train file", progress)
