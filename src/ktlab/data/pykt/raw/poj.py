"""POJ (Peking University Online Judge submissions, ``poj_log.csv``), read as pyKT's ``poj_preprocess.py``
reads it.

The problem is the skill (there are no question ids: line 2 is ``NA``). Key fields ``User, Problem,
Result, Submit Time``: a row missing one is dropped; only the judge's verdicts are kept (``Accepted`` is
1; ``Wrong Answer``, ``Compile Error``, ``Time Limit Exceeded``, ``Memory Limit Exceeded``, ``Runtime
Error``, ``Output Limit Exceeded``, ``Presentation Error``, ``System Error`` and ``Validator Error`` are
0; ``Waiting``, ``Running & Judging``, ``Compiling`` and anything else are dropped). Each learner's
submissions are sorted by ``Submit Time`` (``YYYY-MM-DD HH:MM:SS``, milliseconds on line 5) then by their
row in the file; learners come in order of their first kept submission; no use time (``NA``).

Difference: the time is read as UTC (see :func:`ktlab.data.pykt.raw.table.millis`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ktlab.data.pykt.raw.table import Progress, drop_incomplete, integer_text, keep_01, millis, read_columns

#: Raw column of each field.
COLUMNS: dict[str, str] = {
    "learner": "User",
    "skills": "Problem",
    "correct": "Result",
    "order": "Submit Time",
}
#: The verdicts kept, and the answer each one counts as.
VERDICTS: dict[str, int] = {
    "Accepted": 1,
    **dict.fromkeys(
        (
            "Wrong Answer",
            "Compile Error",
            "Time Limit Exceeded",
            "Memory Limit Exceeded",
            "Runtime Error",
            "Output Limit Exceeded",
            "Presentation Error",
            "System Error",
            "Validator Error",
        ),
        0,
    ),
}
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def read(paths: Sequence[Path], progress: Progress | None = None) -> pd.DataFrame:
    """The kept submissions of POJ (see the module docstring)."""
    path, c = paths[0], COLUMNS
    raw = read_columns(path, list(c.values()), what="POJ submission log CSV", progress=progress)
    raw = drop_incomplete(raw, list(c.values()), path)
    raw = keep_01(raw, raw[c["correct"]].map(VERDICTS).astype("Int8"), path, c["correct"])
    start = millis(raw[c["order"]], path, c["order"], TIME_FORMAT)
    return pd.DataFrame(
        {
            "learner": raw[c["learner"]],
            "skills": raw[c["skills"]],
            "correct": raw["correct"],
            "order": start,
            "row": raw.index,
            "timestamp": integer_text(start),
        }
    )
