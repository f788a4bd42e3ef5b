"""Real question wording: the Eedi question format, as a question bank for simulated students.

The Eedi files (Kaggle "Eedi - Mining Misconceptions in Mathematics", 2024) hold one row per question
with ``QuestionId, ConstructName, SubjectName, CorrectAnswer, QuestionText, AnswerAText ... AnswerDText``
and no student answers. :func:`read_eedi` maps them to the question columns of ktlab
(``question_title`` = QuestionText, ``option_a..d`` = Answer[A-D]Text, ``topic_name`` = ConstructName,
``subject_name`` = SubjectName: :data:`EEDI_COLUMNS`; ``axis_name`` from the subject, see
:data:`AXIS_KEYWORDS`), and its optional columns (:data:`EEDI_OPTIONAL`) to the record's ``problem_id``
(``eedi`` + QuestionId) and the key's letter ``correct_option`` (CorrectAnswer, lowercased).

:class:`EediBank` gives those questions a difficulty to simulate answers on: its visible part is a
documented function of the text,

    b_visible = 0.4 z(log1p(words)) + 0.4 z(log1p(symbols)) + 0.3 z(log1p(digits)) + subject_effect

(``words`` of the question, ``symbols`` its operators and LaTeX commands, ``digits`` its digits, ``z`` a
standardization over the bank, ``subject_effect`` a seeded normal effect per subject name, which the text
shows), plus an item effect the text does not show, ``hidden_share`` of the variance, as in
:mod:`ktlab.data.text.bank`.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ktlab.checks import Checks, raise_problems
from ktlab.data.io import read_table
from ktlab.data.text.bank import add_item_effect
from ktlab.data.text.schema import validate_questions
from ktlab.errors import DataValidationError

EEDI_COLUMNS: dict[str, str] = {
    "QuestionText": "question_title",
    "AnswerAText": "option_a",
    "AnswerBText": "option_b",
    "AnswerCText": "option_c",
    "AnswerDText": "option_d",
    "ConstructName": "topic_name",
    "SubjectName": "subject_name",
}
#: The optional columns of an Eedi file and what they become (the id gets the prefix ``eedi``).
EEDI_OPTIONAL: dict[str, str] = {"QuestionId": "problem_id", "CorrectAnswer": "correct_option"}
#: Axis of a subject: the first axis one of whose keywords the subject name contains, else "Number".
AXIS_KEYWORDS: dict[str, tuple[str, ...]] = {
    "Algebra": ("algebra", "equation", "expression", "sequence", "graph", "function", "inequalit",
                "formula", "factoris", "expand", "simultaneous", "quadratic", "gradient"),
    "Geometry": ("angle", "shape", "area", "perimeter", "polygon", "triangle", "circle", "quadrilateral",
                 "volume", "transformation", "symmetry", "coordinate", "construct", "bearing", "pythagoras",
                 "trigonometry", "line", "3d", "nets", "reflection", "rotation", "translation"),
    "Statistics": ("data", "probability", "average", "range", "chart", "statistic", "pie", "scatter",
                   "frequency", "venn"),
}  # fmt: skip
_SYMBOLS = re.compile(r"\\[a-zA-Z]+|[+\-×÷=^<>/*]")  # noqa: RUF001 (the sign in the texts)


def axis_of(subject: pd.Series) -> pd.Series:
    """The axis of each subject name (:data:`AXIS_KEYWORDS`)."""
    lower = subject.str.lower()
    axis = pd.Series("Number", index=subject.index, dtype=object)
    for name, words in reversed(list(AXIS_KEYWORDS.items())):
        axis = axis.mask(lower.str.contains("|".join(map(re.escape, words)), regex=True), name)
    return axis


def read_eedi(path: str | Path) -> pd.DataFrame:
    """The questions of an Eedi file (CSV or Parquet) in ktlab's question columns.

    Raises:
        DataValidationError: the file is missing or unreadable, lacks an Eedi column, or has an empty cell.
    """
    raw, line_offset = read_table(path)
    missing = [c for c in EEDI_COLUMNS if c not in raw.columns]
    if missing:
        raise DataValidationError(
            f"{path} lacks the Eedi column(s) {', '.join(missing)}; an Eedi question file has "
            f"{', '.join(EEDI_COLUMNS)} and optionally {' and '.join(EEDI_OPTIONAL)}."
        )
    frame = raw[list(EEDI_COLUMNS)].rename(columns=EEDI_COLUMNS)
    frame["axis_name"] = axis_of(frame["subject_name"].astype(str))
    given = {column: name for column, name in EEDI_OPTIONAL.items() if column in raw}
    if "QuestionId" in given:
        frame[given["QuestionId"]] = "eedi" + raw["QuestionId"].astype(str)
    if "CorrectAnswer" in given:
        frame[given["CorrectAnswer"]] = raw["CorrectAnswer"].astype(str).str.strip().str.lower()
    return validate_questions(frame, str(path), line_offset=line_offset)


def _z(values: pd.Series) -> pd.Series:
    values = np.log1p(values.astype(float))
    sd = float(values.std()) or 1.0
    return (values - values.mean()) / sd


class EediBank:
    """Eedi questions with a documented difficulty (``data.source.bank`` for real wording).

    Args:
        path: an Eedi question file (e.g. ``train.csv`` of the competition).
        n_questions: use the first ``n_questions`` rows (null: all).
        hidden_share: share of the variance of the difficulty that the text does not show.
        seed: seed of the subject and item effects.
    """

    def __init__(
        self, path: str, n_questions: int | None = None, hidden_share: float = 0.2, seed: int = 7
    ) -> None:
        checks = Checks({"n_questions": n_questions, "hidden_share": hidden_share, "seed": seed})
        checks.integer("n_questions", 8)
        checks.in_range("hidden_share", 0.0, 1.0)
        checks.integer("seed", 0)
        raise_problems("data.source.bank", checks.problems)
        self.path = Path(path).expanduser()
        self.n_questions, self.hidden_share, self.seed = n_questions, hidden_share, seed
        self.name = f"Eedi questions of {self.path}"

    def key(self) -> str:
        stat = self.path.stat() if self.path.is_file() else None
        params = {"eedi": str(self.path.resolve()), "size": stat.st_size if stat else None,
                  "mtime": stat.st_mtime if stat else None, "n": self.n_questions,
                  "hidden": self.hidden_share, "seed": self.seed}  # fmt: skip
        return hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]

    def questions(self) -> pd.DataFrame:
        frame = read_eedi(self.path)
        if self.n_questions is not None:
            frame = frame.iloc[: self.n_questions].reset_index(drop=True)
        frame = frame.drop_duplicates("problem_id").reset_index(drop=True)
        text = frame["question_title"]
        rng = np.random.default_rng(self.seed)
        subjects = sorted(frame["subject_name"].unique())
        effect = dict(zip(subjects, rng.normal(0.0, 0.5, size=len(subjects)), strict=True))
        frame["words"] = text.str.split().str.len()
        frame["symbols"] = text.str.count(_SYMBOLS.pattern)
        frame["digits"] = text.str.count(r"\d")
        frame["b_visible"] = (
            0.4 * _z(frame["words"]) + 0.4 * _z(frame["symbols"]) + 0.3 * _z(frame["digits"])
            + frame["subject_name"].map(effect)
        )  # fmt: skip
        frame["b_visible"] -= frame["b_visible"].mean()
        return add_item_effect(frame, self.hidden_share, rng)
