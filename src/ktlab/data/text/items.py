"""Field-tested questions with a measured success rate, for direct difficulty regression (``data=item_difficulty``).

One row per question::

    question_title, option_a, option_b [, option_c, option_d, option_e] [, correct_option], success_rate
    [, problem_id] [, skills] [, topic_name, subject_name, axis_name] [, n_answers]

(``problem_id`` may be named ``question_id``, the original notebook's name: see
:data:`~ktlab.data.text.schema.NOTEBOOK_COLUMNS`.)

``success_rate`` (the column ``rate_column`` names) is the question's observed share of right answers, in
[0, 1]; ``correct_option`` the key's letter; ``skills`` the question's skills joined by ``|`` (they become
``topic_name``, ``"; "``-joined, where the file has none, and ``skill_set``, the group of the
question-held-out folds). Missing label columns read ``unknown``.

:class:`ItemFileSource` serves the questions as an :class:`~ktlab.data.text.sources.AnswerLog` whose
``target`` is ``success_rate``: one "answer" per question, its rate in ``correct``, no student. The
text students' DataModule and module then train a regression of the rate (see
:mod:`ktlab.models.text_module`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ktlab.data.io import read_table
from ktlab.data.schema import describe_value, where
from ktlab.data.text.schema import (
    KEY_COLUMN,
    LABEL_COLUMNS,
    NOTEBOOK_COLUMNS,
    OPTION_COLUMNS,
    validate_questions,
)
from ktlab.data.text.sources import AnswerLog
from ktlab.errors import DataValidationError
from ktlab.utils.text import shorten

log = logging.getLogger(__name__)

ITEM_REQUIRED: tuple[str, ...] = ("question_title", "option_a", "option_b")
ITEM_OPTIONAL: tuple[str, ...] = (
    "problem_id",
    *OPTION_COLUMNS[2:],
    KEY_COLUMN,
    "skills",
    *LABEL_COLUMNS,
    "n_answers",
)


class ItemFileSource:
    """Questions with their observed success rates in a CSV, TSV or Parquet file (module docstring).

    Args:
        path: the file.
        rate_column: the column holding each question's success rate.
        ignore_columns: columns beyond the layout to leave out; any other unknown column is refused.
    """

    def __init__(
        self, path: str | Path, rate_column: str = "success_rate", ignore_columns: Sequence[str] = ()
    ) -> None:
        self.path = Path(path).expanduser()
        self.name = str(self.path)
        self.rate_column = rate_column
        self.ignore_columns = [str(c) for c in ignore_columns]

    def _check_columns(self, frame: pd.DataFrame) -> None:
        missing = [c for c in (*ITEM_REQUIRED, self.rate_column) if c not in frame.columns]
        notebook = [old for old, new in NOTEBOOK_COLUMNS.items() if new in ITEM_OPTIONAL]
        known = {*ITEM_REQUIRED, *ITEM_OPTIONAL, *notebook, self.rate_column, *self.ignore_columns}
        unknown = [str(c) for c in frame.columns if c not in known]
        if missing or unknown:
            problem = f"lacks the column(s) {', '.join(missing)}" if missing else ""
            if unknown:
                problem += ("; " if problem else "") + f"has unknown column(s) {shorten(', '.join(unknown))}"
            aliases = ", ".join(f"{NOTEBOOK_COLUMNS[old]} may be named {old}" for old in notebook)
            raise DataValidationError(
                f"{self.path}, line 1 (the header): {problem}. A question file for difficulty regression has "
                f"{', '.join(ITEM_REQUIRED)}, {self.rate_column} (the observed success rate, 0 to 1) and "
                f"optionally {', '.join(ITEM_OPTIONAL)} ({aliases}); pass data.source.rate_column=<column> "
                "for another rate column, or data.source.ignore_columns=[...] to leave columns out."
            )

    @staticmethod
    def complete_questions(frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with the columns the text family reads that a question file may leave out: ``skill_set``
        and ``topic_name`` from ``skills``, ``unknown`` labels, empty ``option_c``/``option_d``."""
        frame = frame.reset_index(drop=True).copy()
        skills = frame["skills"] if "skills" in frame else pd.Series("", index=frame.index)
        parts = (
            skills.fillna("")
            .astype(str)
            .str.split("|")
            .map(lambda s: sorted({x.strip() for x in s if x.strip()}))
        )
        frame["skill_set"] = parts.str.join("|")
        if "topic_name" not in frame:
            frame["topic_name"] = parts.str.join("; ")
        for column in LABEL_COLUMNS:
            text = frame[column].fillna("").astype(str).str.strip() if column in frame else ""
            frame[column] = pd.Series(text, index=frame.index).mask(lambda t: t == "", "unknown")
        for column in OPTION_COLUMNS[2:4]:
            if column not in frame:
                frame[column] = ""
        return frame

    def load(self) -> AnswerLog:
        frame, lines = read_table(self.path)
        if len(frame) == 0:
            raise DataValidationError(
                f"{self.path} holds no rows: it needs a header and one row per question."
            )
        self._check_columns(frame)
        raw = frame[self.rate_column].reset_index(drop=True)
        rate = pd.to_numeric(raw, errors="coerce")
        bad = np.flatnonzero((rate.isna() | (rate < 0) | (rate > 1)).to_numpy())
        if len(bad):
            raise DataValidationError(
                f"{where(str(self.path), int(bad[0]), lines)}, column '{self.rate_column}': "
                f"{describe_value(raw.iloc[bad[0]])} is not a success rate between 0 and 1 ({len(bad)} such "
                "row(s)); give each question its share of right answers."
            )
        questions = validate_questions(self.complete_questions(frame), self.name, line_offset=lines,
                                       extra=["skill_set"])  # fmt: skip
        dup = questions["problem_id"].duplicated().to_numpy()
        if dup.any():
            row = int(np.flatnonzero(dup)[0])
            raise DataValidationError(
                f"{where(self.name, row, lines)}: question {questions['problem_id'].iloc[row]!r} appears twice; "
                "give each question one row (its success rate over all its answers)."
            )
        answers = pd.DataFrame({
            "answer_id": questions["problem_id"].to_numpy(), "student_id": "", "problem_id": questions["problem_id"],
            "correct": rate.to_numpy(dtype=np.float32), "topic_name": questions["topic_name"],
            "subject_name": questions["subject_name"], "skill_set": questions["skill_set"],
        })  # fmt: skip
        return AnswerLog(answers, questions, target="success_rate")
