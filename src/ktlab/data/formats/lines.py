"""Readers of the line formats the knowledge-tracing literature releases its data sets in.

* **3-line** (the DKT / DKVMN releases): per learner, the number of answers; the comma-separated skill
  (or question) ids in order; the comma-separated answers (1 right, 0 wrong).
* **4-line** (AKT's ``*_pid`` releases): ``learner index,original user id``; problem ids; skill ids;
  answers.

Lines may end with a trailing comma and the file may end with blank lines; a blank line anywhere else is
refused where it stands, since it shifts every later record. Ids are kept as written (``007`` and ``7`` are two problems).
Each reader returns a frame in ktlab's interaction schema (``student_id, t, skill_id, correct`` and
``problem_id`` for the 4-line format); ``t`` is the answer's position in the learner's sequence. Learners
of a 3-line file have no id, so theirs is ``<file stem>:<record number>``; a 4-line learner keeps its
original user id. The file is UTF-8, or UTF-16 with a byte-order mark (see :func:`ktlab.data.io.read_text`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ktlab.data.io import read_text
from ktlab.errors import DataValidationError

log = logging.getLogger(__name__)

#: Lines per learner record of each format.
FORMATS: dict[str, int] = {"3line": 3, "4line": 4}
#: What each line of a record holds, in order.
LAYOUTS: dict[str, tuple[str, ...]] = {
    "3line": ("the number of answers", "the skill ids", "the answers (0 or 1)"),
    "4line": ("learner index,user id", "the problem ids", "the skill ids", "the answers (0 or 1)"),
}


def _fields(line: str) -> list[str]:
    """The comma-separated values of a line, without the trailing comma some releases write."""
    parts = [p.strip() for p in line.strip().split(",")]
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _record_error(path: Path, line_no: int, what: str, fmt: str) -> DataValidationError:
    layout = " / ".join(LAYOUTS[fmt])
    return DataValidationError(
        f"{path}, line {line_no}: {what}. A {fmt[0]}-line record is: {layout}; check that the file is "
        "complete and that data.source.format names its format (3line or 4line)."
    )


class _Record:
    """The lines of one learner record, checked one by one (``first`` is the file line of its first)."""

    def __init__(self, path: Path, fmt: str, lines: list[str], first: int) -> None:
        self.path, self.fmt, self.lines, self.first = path, fmt, lines, first

    def check_blank(self, offset: int) -> None:
        """Refuse a blank line at ``offset``: it shifts every later record."""
        if offset < len(self.lines) and not self.lines[offset].strip():
            raise self.error(
                offset,
                f"the line is blank, where {LAYOUTS[self.fmt][offset]} of the record starting at line "
                f"{self.first} belong; a record is {len(LAYOUTS[self.fmt])} consecutive lines, so remove "
                "the blank line",
            )

    def check_complete(self) -> None:
        """Refuse blank lines and a record cut short by the end of the file."""
        for offset in range(len(self.lines)):
            self.check_blank(offset)
        per = len(LAYOUTS[self.fmt])
        if len(self.lines) < per:
            raise self.error(
                len(self.lines) - 1,
                f"the file ends inside the record starting at line {self.first}: it has "
                f"{len(self.lines)} of its {per} lines, and line {self.first + len(self.lines)} should hold "
                f"{LAYOUTS[self.fmt][len(self.lines)]}; the file may be cut short",
            )

    def error(self, offset: int, what: str) -> DataValidationError:
        return _record_error(self.path, self.first + offset, what, self.fmt)

    def ids(self, offset: int, expected: int, name: str) -> list[str]:
        """The ids on the record's line ``offset``: ``expected`` of them, none empty."""
        values = _fields(self.lines[offset])
        if len(values) != expected:
            raise self.error(
                offset,
                f"{len(values)} {name}, but the learner's record (from line {self.first}) has {expected} "
                f"answers{self._count_origin()}; each line of a record needs one value per answer",
            )
        if "" in values:
            raise self.error(offset, f"value {values.index('') + 1} of the {name} is empty")
        return values

    def _count_origin(self) -> str:
        if self.fmt == "3line":
            return f" (line {self.first} says so)"
        return f" (line {self.first + 1} lists that many problem ids)"


def read_lines(path: str | Path, fmt: str = "3line") -> pd.DataFrame:
    """Read a 3-line or 4-line file into the interaction schema.

    Args:
        path: the file.
        fmt: ``"3line"`` or ``"4line"``.

    Returns:
        Columns ``student_id, t, skill_id, correct`` (plus ``problem_id`` for ``4line``), one row per answer.

    Raises:
        DataValidationError: the file is missing, empty, not UTF-8, or a record is malformed; the message
            names the file, the line at fault and what it should hold.
    """
    path = Path(path).expanduser()
    if fmt not in FORMATS:
        raise DataValidationError(f"{path}: unknown line format {fmt!r}; use one of {', '.join(FORMATS)}.")
    if not path.is_file():
        raise DataValidationError(f"{path}: no such file.")
    lines = read_text(path).split("\n")  # not splitlines(): line numbers as editors count them
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DataValidationError(f"{path}: the file is empty; it needs at least one learner record.")
    per = FORMATS[fmt]
    students, skills, problems, answers = [], [], [], []
    for r in range(-(-len(lines) // per)):
        record = _Record(path, fmt, lines[r * per : (r + 1) * per], r * per + 1)
        student, expected = _head(record, r)
        record.check_complete()
        problem_ids = record.ids(1, expected, "problem ids") if fmt == "4line" else []
        items = record.ids(per - 2, expected, "skill ids")
        correct = record.ids(per - 1, expected, "answers")
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
        raise _record_error(path, record * per + per, f"answer {value!r} is not 0 or 1", fmt)
    frame["correct"] = frame["correct"].astype(np.int8)
    log.info("read %d learners, %d answers from %s (%s)", len(answers), len(frame), path, fmt)
    return frame


def _head(record: _Record, number: int) -> tuple[str, int]:
    """The learner's id and number of answers, from the record's first line (and its second in 4-line)."""
    record.check_blank(0)
    head = _fields(record.lines[0])
    if record.fmt == "3line":
        if len(head) != 1 or not head[0].isdigit():
            raise record.error(0, f"expected the number of answers, found {record.lines[0].strip()!r}")
        expected = int(head[0])
        student = f"{record.path.stem}:{number}"
    else:
        if not head or "" in head:
            raise record.error(0, f"expected 'learner index,user id', found {record.lines[0].strip()!r}")
        student = head[1] if len(head) > 1 else head[0]
        record.check_blank(1)
        expected = len(_fields(record.lines[1])) if len(record.lines) > 1 else -1
    if expected == 0:
        line = 0 if record.fmt == "3line" else 1
        raise record.error(
            line, "the learner has 0 answers; a record needs at least one answer (remove the record)"
        )
    return student, expected
