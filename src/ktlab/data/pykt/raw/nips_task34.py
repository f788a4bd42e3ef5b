"""NeurIPS 2020 Education Challenge, tasks 3 and 4 (Eedi: ``train_task_3_4.csv`` and its ``metadata/``
folder), read as pyKT's ``nips_task34_preprocess.py`` reads them.

The answers (``train_task_3_4.csv``: ``UserId, QuestionId, AnswerId, IsCorrect``) take their time from
``answer_metadata_task_3_4.csv`` (``AnswerId -> DateAnswered``) and their skills from
``question_metadata_task_3_4.csv`` (``QuestionId -> SubjectId``, a list such as ``[3, 71, 98, 209]``):
the question's subjects of level 3 in ``subject_metadata.csv``, joined by ``_`` in the order pyKT joins
them, which is the iteration order of the Python set ``set(subjects) & level_3`` (not sorted; this
order decides the order of a question's skill rows after expansion). Key fields: the learner, the
question, the answer's time, its skills and ``IsCorrect``; a row missing one is dropped. Each learner's
answers are sorted by ``DateAnswered`` (milliseconds, written on line 5) then by their row in the file;
learners come in order of their first kept answer; no use time (``NA``).

Differences: the time is read as UTC (see :func:`ktlab.data.pykt.raw.table.millis`); an answer whose
question has no subject of level 3 is dropped (pyKT writes an empty skill, which its own split cannot
read back; the release has none); an ``IsCorrect`` other than 0/1 is dropped (the release has none).
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ktlab.data.pykt.raw.table import (
    Progress,
    answers_01,
    drop_incomplete,
    integer_text,
    keep_01,
    millis,
    numbers,
    read_columns,
    where,
)
from ktlab.errors import DataValidationError

log = logging.getLogger(__name__)

#: Raw column of each field of ``train_task_3_4.csv``.
COLUMNS: dict[str, str] = {
    "learner": "UserId",
    "question": "QuestionId",
    "answer": "AnswerId",
    "correct": "IsCorrect",
}
#: The metadata files (in the metadata folder) and the columns read from each.
ANSWER_METADATA = ("answer_metadata_task_3_4.csv", ("AnswerId", "DateAnswered"))
QUESTION_METADATA = ("question_metadata_task_3_4.csv", ("QuestionId", "SubjectId"))
SUBJECT_METADATA = ("subject_metadata.csv", ("SubjectId", "Level"))
#: The subject level read as skills.
SKILL_LEVEL = 3


def metadata_folder(paths: Sequence[Path]) -> Path:
    """The metadata folder: the second path given, else ``metadata/`` beside the answers file."""
    return Path(paths[1]) if len(paths) > 1 else Path(paths[0]).expanduser().parent / "metadata"


def _subjects(text: str, path: Path, row: int) -> list[int]:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = None
    if not isinstance(value, list | tuple) or not all(isinstance(v, int) for v in value):
        raise DataValidationError(
            f"{where(path, row)}, field SubjectId: {text!r} is not a list of subject ids such as "
            "[3, 71, 98, 209]. Pass the question metadata file as released."
        )
    return list(value)


def question_skills(folder: Path) -> dict[int, str]:
    """Each question's level-3 subjects joined by ``_``, in pyKT's order (see the module docstring)."""
    name, columns = SUBJECT_METADATA
    path = folder / name
    subjects = drop_incomplete(read_columns(path, columns, what="subject metadata CSV"), columns, path)
    level = numbers(subjects["Level"], path, "Level", "the subject's level")
    ids = numbers(subjects["SubjectId"], path, "SubjectId", "a subject id")
    level_3 = {int(i) for i in ids[(level == SKILL_LEVEL).to_numpy()]}
    name, columns = QUESTION_METADATA
    path = folder / name
    questions = drop_incomplete(read_columns(path, columns, what="question metadata CSV"), columns, path)
    keys = numbers(questions["QuestionId"], path, "QuestionId", "a question id").astype(np.int64)
    skills: dict[int, str] = {}
    for key, row, text in zip(keys.tolist(), questions.index.tolist(), questions["SubjectId"], strict=True):
        # The order of this set, not sorted: the order pyKT's "_".join(set(...) & level_3) writes.
        skills[key] = "_".join(str(s) for s in set(_subjects(text, path, row)) & level_3)
    return skills


def answer_times(folder: Path, progress: Progress | None = None) -> pd.Series:
    """Each answer's time in milliseconds, indexed by answer id."""
    name, columns = ANSWER_METADATA
    path = folder / name
    answers = read_columns(path, columns, what="answer metadata CSV", progress=progress)
    answers = drop_incomplete(answers, columns, path)
    keys = numbers(answers["AnswerId"], path, "AnswerId", "an answer id").astype(np.int64)
    times = millis(answers["DateAnswered"], path, "DateAnswered", "ISO8601")
    return pd.Series(times.to_numpy(), index=keys.to_numpy()).groupby(level=0).first()


def read(paths: Sequence[Path], progress: Progress | None = None) -> pd.DataFrame:
    """The kept answers of NeurIPS 2020 tasks 3/4 (see the module docstring)."""
    path, c = Path(paths[0]).expanduser(), COLUMNS
    folder = metadata_folder(paths)
    if not folder.is_dir():
        raise DataValidationError(
            f"{folder}: no such folder; pass the metadata folder of the NeurIPS 2020 tasks 3/4 release "
            "(answer_metadata_task_3_4.csv, question_metadata_task_3_4.csv, subject_metadata.csv) as the "
            "second path, or put it beside the answers file as metadata/."
        )
    raw = read_columns(path, list(c.values()), what="NeurIPS 2020 train_task_3_4.csv", progress=progress)
    raw = raw.dropna(subset=[c["answer"], c["question"]])
    answer = numbers(raw[c["answer"]], path, c["answer"], "an answer id").astype(np.int64)
    question = numbers(raw[c["question"]], path, c["question"], "a question id").astype(np.int64)
    times = answer_times(folder).reindex(answer.to_numpy())
    skills = question.map(question_skills(folder)).replace("", np.nan)
    raw = raw.assign(_time=times.to_numpy(), _skills=skills.to_numpy())
    raw = drop_incomplete(raw, [c["learner"], c["correct"], "_time", "_skills"], path)
    raw = keep_01(raw, answers_01(raw[c["correct"]]), path, c["correct"])
    start = raw["_time"].astype(np.int64)
    return pd.DataFrame(
        {
            "learner": raw[c["learner"]],
            "question": raw[c["question"]],
            "skills": raw["_skills"],
            "correct": raw["correct"],
            "order": start,
            "row": raw.index,
            "timestamp": integer_text(start),
        }
    )
