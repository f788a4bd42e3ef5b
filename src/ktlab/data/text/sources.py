"""Where answer logs come from: a user's file, or simulated students on a question bank.

A source has a ``name`` and ``load() -> AnswerLog``: the validated answers and the question table (with
the truth columns when the source knows them). A new backend is a new class, never a branch elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from ktlab.checks import Problem, raise_problems
from ktlab.data.io import read_table
from ktlab.data.text.schema import question_table, validate_answers
from ktlab.data.text.students import StudentConfig, simulate_answers

log = logging.getLogger(__name__)

#: Part of the cache key of simulated data: its tables use the answer record's names (student_id,
#: correct, problem_id), so a cache written in the notebook's names is simulated anew, not read.
CACHE_LAYOUT = "record-names"


@dataclass
class AnswerLog:
    """Answers (one row per answer) and questions (one row per question, ``problem_id`` unique).

    ``target`` says what ``correct`` holds: ``answer`` (0/1, one row per answer of a student) or
    ``success_rate`` (one row per question, its observed success rate, no students: see
    :class:`ktlab.data.text.items.ItemFileSource`).
    """

    answers: pd.DataFrame
    questions: pd.DataFrame
    target: str = "answer"


class AnswerSource(Protocol):
    name: str

    def load(self) -> AnswerLog: ...


class QuestionBank(Protocol):
    """A question bank with a known difficulty: ``b_visible``, ``item_effect``, ``difficulty`` columns."""

    name: str

    def key(self) -> str: ...

    def questions(self) -> pd.DataFrame: ...


class AnswerFileSource:
    """An answer log in a CSV, TSV or Parquet file (``data=answers_csv data.path=...``).

    Every cell is read as the text it holds (see :func:`ktlab.data.io.read_table`): options, titles and ids
    reach the model and the splits exactly as written.

    Args:
        path: the file.
        ignore_columns: columns beyond the answer-log layout to leave out; any other unknown column is
            refused (see :func:`~ktlab.data.text.schema.validate_answers`, which also reads the original
            notebook's names: :data:`~ktlab.data.text.schema.NOTEBOOK_COLUMNS`).
    """

    def __init__(self, path: str | Path, ignore_columns: Sequence[str] = ()) -> None:
        self.path = Path(path).expanduser()
        self.name = str(self.path)
        self.ignore_columns = [str(c) for c in ignore_columns]

    def load(self) -> AnswerLog:
        frame, line_offset = read_table(self.path)
        answers = validate_answers(frame, self.name, line_offset=line_offset, ignore=self.ignore_columns)
        return AnswerLog(answers, question_table(answers))


class SimulatedSource:
    """Simulated students answering a question bank (``data=questions_synthetic``), cached as Parquet.

    Args:
        bank: the question bank (:class:`~ktlab.data.text.bank.GeneratedBank` or
            :class:`~ktlab.data.text.eedi.EediBank`).
        students: the parameters of :class:`~ktlab.data.text.students.StudentConfig`.
        cache_dir: where answers and questions are cached, keyed by every parameter (null: no cache).
    """

    def __init__(self, bank: QuestionBank, students: dict[str, Any] | None = None,
                 cache_dir: str | None = None) -> None:  # fmt: skip
        students = dict(students or {})
        raise_problems("data.source.students", StudentConfig.check_args(students))
        self.bank = bank
        self.students = StudentConfig(**students)
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else None
        self.name = f"simulated students on the {bank.name}"

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of ``students`` (named ``students.<key>``)."""
        problems = StudentConfig.check_args(dict(args.get("students") or {}))
        return [Problem(f"students.{p.arg}", p.value, p.requirement) for p in problems]

    def _paths(self) -> tuple[Path, Path] | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha1(
            json.dumps([self.bank.key(), asdict(self.students), CACHE_LAYOUT]).encode()
        ).hexdigest()[:12]
        return self.cache_dir / f"answers_{key}.parquet", self.cache_dir / f"questions_{key}.parquet"

    def _simulate(self) -> AnswerLog:
        answers, questions = simulate_answers(self.bank.questions(), self.students)
        return AnswerLog(answers, questions)

    def prepare(self) -> None:
        """Simulate once and cache (called from ``prepare_data``)."""
        paths = self._paths()
        if paths is None or all(p.exists() for p in paths):
            return
        paths[0].parent.mkdir(parents=True, exist_ok=True)
        data = self._simulate()
        for frame, path in zip((data.answers, data.questions), paths, strict=True):
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            frame.to_parquet(tmp, index=False)
            tmp.replace(path)

    def load(self) -> AnswerLog:
        paths = self._paths()
        if paths is not None and all(p.exists() for p in paths):
            data = AnswerLog(pd.read_parquet(paths[0]), pd.read_parquet(paths[1]))
        else:
            data = self._simulate()
        return AnswerLog(validate_answers(data.answers, self.name), data.questions)
