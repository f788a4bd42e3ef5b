"""OLI Engineering Statics 2011 (``AllData_student_step_2011F.csv``), read as pyKT's
``statics2011_preprocess.py`` reads it.

The skill is the step: ``Problem Name----Step Name``, with ``_`` written ``####`` and ``,`` written
``@@@@`` in both names, as pyKT rewrites them (``data.txt`` uses both as separators); there are no
question ids (line 2 is ``NA``). Key fields ``Problem Name, Step Name, First Transaction Time,
First Attempt``: a row missing one is dropped; a ``hint`` first attempt is dropped; ``correct`` is 1 and
``incorrect`` 0. Each learner's answers are sorted by ``First Transaction Time`` (written
``YYYY/MM/DD HH:MM``; milliseconds on line 5) then by their row in the file. Learners come sorted by
their id (pyKT groups them with pandas' default ``sort=True`` here, unlike its other readers), so the
split that follows draws from the same order as pyKT's. No use time (``NA``).

Differences: the time is read as UTC (pyKT uses the machine's local zone; see
:func:`ktlab.data.pykt.raw.table.millis`); a row without a learner id, or whose first attempt is
neither ``correct``, ``incorrect`` nor ``hint``, is dropped (the release has none; pyKT would group the
first with no learner and write the second's text as the answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ktlab.data.pykt.raw.table import (
    Progress,
    drop_incomplete,
    integer_text,
    keep_01,
    millis,
    read_columns,
    replace_separators,
)

#: Raw column of each field (``problem`` and ``step`` make the skill).
COLUMNS: dict[str, str] = {
    "learner": "Anon Student Id",
    "problem": "Problem Name",
    "step": "Step Name",
    "correct": "First Attempt",
    "order": "First Transaction Time",
}
#: How the first attempt is written.
ANSWERS: dict[str, int] = {"correct": 1, "incorrect": 0}
#: A first attempt that asked for a hint: not an answer.
HINT = "hint"
#: How the times are written.
TIME_FORMAT = "%Y/%m/%d %H:%M"


def read(paths: Sequence[Path], progress: Progress | None = None) -> pd.DataFrame:
    """The kept answers of Statics 2011 (see the module docstring)."""
    path, c = paths[0], COLUMNS
    raw = read_columns(path, list(c.values()), what="Statics 2011 student-step CSV", progress=progress)
    raw = drop_incomplete(raw, list(c.values()), path)
    raw = raw[(raw[c["correct"]] != HINT).to_numpy()]
    raw = keep_01(raw, raw[c["correct"]].map(ANSWERS).astype("Int8"), path, c["correct"])
    skill = replace_separators(raw[c["problem"]]) + "----" + replace_separators(raw[c["step"]])
    start = millis(raw[c["order"]], path, c["order"], TIME_FORMAT)
    return pd.DataFrame(
        {
            "learner": raw[c["learner"]],
            "skills": skill,
            "correct": raw["correct"],
            "order": start,
            "row": raw.index,
            "timestamp": integer_text(start),
        }
    )
