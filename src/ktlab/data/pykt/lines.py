"""Reader of pyKT's 6-line ``data.txt``.

Each learner is six lines: ``uid,seqlen``; the question ids; the concept ids (several concepts of one
question joined by ``_``); the answers (0/1); the timestamps; the use times. A line holding ``NA`` means
the data set has no such field. Learners with fewer than ``min_seq_len`` answers (by their header) are
dropped, as are learners with an answer other than 0/1, as pyKT does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ktlab.data.io import read_text
from ktlab.errors import DataValidationError
from ktlab.utils.logging import get_logger

log = get_logger(__name__)

#: The fields of a learner's lines 2-6, in order.
SEQUENCE_FIELDS: tuple[str, ...] = ("questions", "concepts", "responses", "timestamps", "usetimes")
#: What each of the six lines holds (for error messages).
LAYOUT = "uid,seqlen / question ids / concept ids (joined by _) / answers / timestamps / use times"


@dataclass
class LearnerRecords:
    """The learners of a ``data.txt`` in file order.

    ``learners`` holds one dict per learner: ``uid`` (str) and, for each field the file has, the list of
    its values as written (str). ``fields`` are the sequence fields present (not ``NA``), in
    :data:`SEQUENCE_FIELDS` order.
    """

    learners: list[dict] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    dropped_short: int = 0
    dropped_answers: int = 0


def read_data_txt(path: str | Path, min_seq_len: int = 3) -> LearnerRecords:
    """Read a pyKT ``data.txt`` (see the module docstring).

    Raises:
        DataValidationError: a header without ``uid,seqlen``, a truncated record, or a line whose
            length differs from its header's ``seqlen``.
    """
    path = Path(path)
    lines = read_text(path).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) % 6:
        raise DataValidationError(
            f"{path}: {len(lines)} lines, not a multiple of 6: a pyKT data.txt holds six lines per learner "
            f"({LAYOUT}); the file is truncated or not in this format."
        )
    out = LearnerRecords()
    present: set[str] = set()
    for first in range(0, len(lines), 6):
        header = lines[first].strip().split(",")
        try:
            uid, seq_len = header[0], int(header[1])
        except (IndexError, ValueError):
            raise DataValidationError(
                f"{path}, line {first + 1}: {lines[first].strip()[:80]!r} is not 'uid,seqlen'; a pyKT data.txt "
                f"holds six lines per learner ({LAYOUT})."
            ) from None
        if seq_len < min_seq_len:
            out.dropped_short += 1
            continue
        learner: dict = {"uid": uid}
        bad_answer = False
        for offset, name in enumerate(SEQUENCE_FIELDS, start=1):
            line = lines[first + offset].strip()
            if "NA" in line:
                continue
            values = line.split(",")
            if len(values) != seq_len:
                raise DataValidationError(
                    f"{path}, line {first + offset + 1} ({name} of learner {uid!r}): {len(values)} values, "
                    f"but its header says seqlen {seq_len}."
                )
            if name == "responses" and any(v.strip() not in ("0", "1") for v in values):
                bad_answer = True
            learner[name] = [v.strip() for v in values] if name == "responses" else values
            present.add(name)
        if bad_answer:
            out.dropped_answers += 1
            continue
        out.learners.append(learner)
    out.fields = [name for name in SEQUENCE_FIELDS if name in present]
    missing = [learner["uid"] for learner in out.learners if any(f not in learner for f in out.fields)]
    if missing:
        raise DataValidationError(
            f"{path}: learner {missing[0]!r} has NA in a field other learners have ({len(missing)} such "
            "learner(s)); pyKT's format needs every learner to give the same fields."
        )
    if "responses" not in out.fields:
        raise DataValidationError(f"{path}: no learner has answers (the fourth line of each record).")
    log.info(
        "%s: %d learners kept, %d with fewer than %d answers and %d with answers other than 0/1 dropped",
        path,
        len(out.learners),
        out.dropped_short,
        min_seq_len,
        out.dropped_answers,
    )
    return out


def to_answer_records(records: LearnerRecords) -> pd.DataFrame:
    """The learners as ktlab answer records (:mod:`ktlab.data.schema`).

    One row per learner, answer and concept: a question with several concepts becomes consecutive rows
    sharing ``student_id`` and ``t`` (the answer's position), in the order its concepts are listed, which
    the encoder flags as copies. Columns: ``student_id, t, skill_id, correct`` and ``problem_id`` where
    the file has question ids; a file without concepts uses the question ids as skills.
    """
    rows: dict[str, list] = {"student_id": [], "t": [], "skill_id": [], "correct": [], "problem_id": []}
    has_questions = "questions" in records.fields
    for learner in records.learners:
        skills = learner.get("concepts") or learner["questions"]
        for t, (tags, answer) in enumerate(zip(skills, learner["responses"], strict=True)):
            for skill in tags.split("_"):
                rows["student_id"].append(learner["uid"])
                rows["t"].append(t)
                rows["skill_id"].append(skill)
                rows["correct"].append(int(answer))
                rows["problem_id"].append(learner["questions"][t] if has_questions else None)
    if not has_questions:
        del rows["problem_id"]
    return pd.DataFrame(rows)
