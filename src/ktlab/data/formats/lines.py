"""Readers of the line formats the knowledge-tracing literature releases its data sets in.

* **3-line** (the DKT / DKVMN releases): per learner, the number of answers; the comma-separated skill
  (or question) ids in order; the comma-separated answers (1 right, 0 wrong).
* **4-line** (AKT's ``*_pid`` releases): ``learner index,original user id``; problem ids; skill ids;
  answers.

Lines may end with a trailing comma and the file may end with blank lines. Each reader returns a frame
in ktlab's interaction schema (``student_id, t, skill_id, correct`` and ``problem_id`` for the 4-line
format); ``t`` is the answer's position in the learner's sequence. Learners of a 3-line file have no id,
so theirs is ``<file stem>:<record number>``; a 4-line learner keeps its original user id.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ktlab.errors import DataValidationError

log = logging.getLogger(__name__)

#: Lines per learner record of each format.
FORMATS: dict[str, int] = {"3line": 3, "4line": 4}


def _fields(line: str) -> list[str]:
    """The comma-separated values of a line, without the trailing comma some releases write."""
    parts = [p.strip() for p in line.strip().split(",")]
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _record_error(path: Path, line_no: int, what: str) -> DataValidationError:
    return DataValidationError(
        f"{path}, line {line_no}: {what}. A 3-line record is: the number of answers / the skill ids / the "
        "answers (0 or 1); a 4-line record is: learner index,user id / problem ids / skill ids / answers. "
        "Check that the file is complete and that data.source.format names its format."
    )


def read_lines(path: str | Path, fmt: str = "3line") -> pd.DataFrame:
    """Read a 3-line or 4-line file into the interaction schema.

    Args:
        path: the file.
        fmt: ``"3line"`` or ``"4line"``.

    Returns:
        Columns ``student_id, t, skill_id, correct`` (plus ``problem_id`` for ``4line``), one row per answer.

    Raises:
        DataValidationError: the file is missing, empty, or a record is malformed (naming the line).
    """
    path = Path(path).expanduser()
    if fmt not in FORMATS:
        raise DataValidationError(f"{path}: unknown line format {fmt!r}; use one of {', '.join(FORMATS)}.")
    if not path.is_file():
        raise DataValidationError(f"{path}: no such file.")
    lines = path.read_text().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    per = FORMATS[fmt]
    if not lines:
        raise DataValidationError(f"{path}: the file is empty; it needs at least one learner record.")
    if len(lines) % per:
        raise _record_error(
            path,
            len(lines),
            f"the file has {len(lines)} lines, not a multiple of {per} (one record per {per} lines)",
        )
    students, skills, problems, answers = [], [], [], []
    for r in range(len(lines) // per):
        first = r * per  # 0-based index of the record's first line
        head = _fields(lines[first])
        if not head:
            raise _record_error(path, first + 1, "the record's first line is empty")
        if fmt == "3line":
            if len(head) != 1 or not head[0].isdigit():
                raise _record_error(
                    path, first + 1, f"expected the number of answers, found {lines[first]!r}"
                )
            student = f"{path.stem}:{r}"
            expected = int(head[0])
            items = _fields(lines[first + 1])
            problem_ids: list[str] = []
        else:
            student = head[1] if len(head) > 1 else head[0]
            problem_ids = _fields(lines[first + 1])
            items = _fields(lines[first + 2])
            expected = len(problem_ids)
        correct = _fields(lines[first + per - 1])
        counts = {"ids": len(items), "answers": len(correct)}
        if fmt == "4line":
            counts["problem ids"] = len(problem_ids)
        wrong = {k: n for k, n in counts.items() if n != expected}
        if wrong or expected == 0:
            found = ", ".join(f"{n} {k}" for k, n in counts.items())
            raise _record_error(path, first + 1, f"the record holds {found}, expected {expected} of each")
        students.append(np.full(expected, student, dtype=object))
        skills.append(items)
        problems.append(problem_ids)
        answers.append(correct)
    frame = pd.DataFrame(
        {
            "student_id": np.concatenate(students),
            "t": np.concatenate([np.arange(len(a)) for a in answers]),
            "skill_id": np.concatenate(skills).astype(object),
            "correct": pd.to_numeric(pd.Series(np.concatenate(answers)), errors="coerce"),
        }
    )
    if fmt == "4line":
        frame["problem_id"] = np.concatenate(problems).astype(object)
    bad = ~frame["correct"].isin([0, 1])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        record = int(np.searchsorted(np.cumsum([len(a) for a in answers]), row, side="right"))
        value = str(np.concatenate(answers)[row])
        raise _record_error(path, record * per + per, f"answer {value!r} is not 0 or 1")
    frame["correct"] = frame["correct"].astype(np.int8)
    log.info("read %d learners, %d answers from %s (%s)", len(answers), len(frame), path, fmt)
    return frame
