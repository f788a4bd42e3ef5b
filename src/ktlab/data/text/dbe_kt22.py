"""DBE-KT22 (real students answering database-course questions) as an answer log of the text family.

The data set (Abdelrahman, Abdelfattah, Wang and Lin, "DBE-KT22: A Knowledge Tracing Dataset Based on
Online Student Evaluation", arXiv:2208.12651, 2022; research use) holds multiple-choice questions with
their HTML text, 2 to 5 options with one key, and 1 to 4 skills (knowledge components) each, and the
students' answers. ktlab reads the folder layout of its rebuilt copy:

* ``items.csv``: ``question_id, question_rich_text, choices_json`` (``[{"choice_id", "text",
  "is_correct"}]``), ``kc_names`` (skills joined by ``|``), ...;
* ``interactions.csv``: ``student_id, seq_pos, question_id, correct, attempt_no, ...`` (rows whose
  question could not be resolved have an empty ``question_id`` and are dropped).

Both files name a question ``question_id``: it becomes the answer record's ``problem_id``
(:data:`ANSWER_COLUMNS`, the map of :mod:`ktlab.data.formats.dbe_kt22`, the sequence family's reader of the
same files). Questions become the text family's question columns: ``question_title`` is the stem as plain text
(:func:`ktlab.data.text.html.html_to_text`: HTML stripped, entities decoded, images kept as markers),
``option_a..option_e`` the options in their order, ``correct_option`` the key's letter, ``topic_name`` the
skills (sorted, ``"; "``-joined), ``subject_name`` and ``axis_name`` the course. Extra columns:
``skill_set`` (the sorted skills joined by ``|``: questions written for the same skills share it, the
group of the question-held-out folds), ``has_image`` and ``n_images``. Answers are first attempts
(``attempt_no == 1``) unless ``attempts="all"``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ktlab.data.formats.dbe_kt22 import RENAMES
from ktlab.data.io import read_table
from ktlab.data.schema import describe_value, where
from ktlab.data.text.html import html_to_text
from ktlab.data.text.schema import OPTION_COLUMNS
from ktlab.data.text.sources import AnswerLog
from ktlab.errors import ConfigError, DataValidationError

log = logging.getLogger(__name__)

ITEM_COLUMNS: tuple[str, ...] = ("question_id", "question_rich_text", "choices_json", "kc_names")
#: The columns of ``interactions.csv`` read, onto the answer record (file -> record).
ANSWER_COLUMNS: dict[str, str] = {
    column: RENAMES[column] for column in ("student_id", "seq_pos", "question_id", "correct", "attempt_no")
}
ATTEMPTS: tuple[str, ...] = ("first", "all")
COURSE = "Databases"


def _need(frame: pd.DataFrame, columns: Sequence[str], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{path} lacks the column(s) {', '.join(missing)}; the DBE-KT22 layout has {', '.join(columns)} "
            "(see ktlab.data.text.dbe_kt22). Point data.data_dir at the folder holding items.csv and "
            "interactions.csv."
        )


def _options(raw: str, path: Path, row: str) -> tuple[list[str], str]:
    """The options' HTML texts in order and the key's letter of one ``choices_json`` cell."""
    try:
        choices = json.loads(raw)
        texts = [str(c["text"]) for c in choices]
        keys = [i for i, c in enumerate(choices) if bool(c["is_correct"])]
    except (ValueError, TypeError, KeyError) as err:
        raise DataValidationError(
            f"{row}, column 'choices_json': {describe_value(raw)} is not a JSON list of "
            f'{{"text", "is_correct"}} objects ({err}).'
        ) from None
    if not 2 <= len(texts) <= len(OPTION_COLUMNS) or len(keys) != 1:
        raise DataValidationError(
            f"{row}, column 'choices_json': {len(texts)} option(s) with {len(keys)} key(s); a question needs "
            f"2 to {len(OPTION_COLUMNS)} options and exactly one key. Fix or drop the question in {path}."
        )
    return texts, "abcde"[keys[0]]


def read_items(
    data_dir: str | Path, image_marker: str = "[image]", formula_marker: str | None = "[image: {formula}]"
) -> pd.DataFrame:
    """The questions of ``data_dir/items.csv`` in the text family's question columns (module docstring).

    Raises:
        DataValidationError: the file is missing, lacks a column, or a question's options are unusable.
    """
    path = Path(data_dir).expanduser() / "items.csv"
    raw, lines = read_table(path)
    _need(raw, ITEM_COLUMNS, path)
    rows = []  # one HTML parse per question and option: a loop over a few hundred rows
    for i, item in enumerate(raw.itertuples(index=False)):
        stem, n_images = html_to_text(str(item.question_rich_text), image_marker, formula_marker)
        texts, key = _options(str(item.choices_json), path, where(str(path), i, lines))
        options = [html_to_text(t, image_marker, formula_marker)[0] for t in texts]
        skills = sorted({s.strip() for s in str(item.kc_names).split("|") if s.strip()})
        rows.append({
            "problem_id": str(item.question_id).strip(), "question_title": stem,
            **dict(zip(OPTION_COLUMNS, options + [""] * (len(OPTION_COLUMNS) - len(options)), strict=True)),
            "correct_option": key, "topic_name": "; ".join(skills), "subject_name": COURSE,
            "axis_name": COURSE, "skill_set": "|".join(skills), "has_image": n_images > 0, "n_images": n_images,
        })  # fmt: skip
    items = pd.DataFrame(rows)
    empty = np.flatnonzero((items["question_title"] == "").to_numpy() | (items["skill_set"] == "").to_numpy())
    if len(empty):
        raise DataValidationError(
            f"{where(str(path), int(empty[0]), lines)}: question {items['problem_id'].iloc[empty[0]]!r} has an "
            "empty text or no skill (kc_names); every question needs both."
        )
    return items


def read_answers(data_dir: str | Path, attempts: str = "first") -> pd.DataFrame:
    """The answers of ``data_dir/interactions.csv``: ``answer_id, student_id, problem_id, correct, attempt_no``.

    The file's columns are renamed once (:data:`ANSWER_COLUMNS`); ``answer_id`` is ``student_id:seq_pos``.

    Args:
        data_dir: the DBE-KT22 folder.
        attempts: ``first`` keeps first attempts at a question (``attempt_no == 1``), ``all`` every answer.

    Raises:
        ConfigError: ``attempts`` is neither.
        DataValidationError: the file is missing, lacks a column, or ``correct`` is not 0/1.
    """
    if attempts not in ATTEMPTS:
        raise ConfigError(f"data.source.attempts={attempts!r}: must be one of {', '.join(ATTEMPTS)}.")
    path = Path(data_dir).expanduser() / "interactions.csv"
    raw, lines = read_table(path, numbers=("seq_pos", "correct", "attempt_no"))
    _need(raw, list(ANSWER_COLUMNS), path)
    file_name = {record: column for column, record in ANSWER_COLUMNS.items()}
    raw = raw[list(ANSWER_COLUMNS)].rename(columns=ANSWER_COLUMNS)
    question = raw["problem_id"].astype("string").str.strip().str.removesuffix(".0").fillna("")
    unresolved = (question == "").to_numpy()
    correct = pd.to_numeric(raw["correct"], errors="coerce")
    bad = np.flatnonzero((~correct.isin([0, 1])).to_numpy() & ~unresolved)
    if len(bad):
        raise DataValidationError(
            f"{where(str(path), int(bad[0]), lines)}, column '{file_name['correct']}': "
            f"{describe_value(raw['correct'].iloc[bad[0]])} is not 0 or 1 ({len(bad)} such row(s))."
        )
    attempt = pd.to_numeric(raw["attempt_no"], errors="coerce")
    keep = ~unresolved & ((attempt == 1).to_numpy() if attempts == "first" else True)
    if unresolved.any():
        log.info("%s: dropped %d answer(s) without a question id", path, int(unresolved.sum()))
    student = raw["student_id"].astype(str).str.strip()
    answers = pd.DataFrame({
        "answer_id": (student + ":" + raw["t"].astype(str)).to_numpy(),
        "student_id": student.to_numpy(), "problem_id": question.to_numpy(dtype=object),
        "correct": correct.fillna(0).astype(np.int8).to_numpy(), "attempt_no": attempt.to_numpy(),
    })[keep]  # fmt: skip
    return answers.reset_index(drop=True)


class DBEKT22Source:
    """DBE-KT22's questions and answers (``data=dbe_kt22_text``): see the module docstring.

    Args:
        data_dir: the folder with ``items.csv`` and ``interactions.csv``.
        attempts: ``first`` (first attempts only) or ``all``.
        image_marker: what an image of a question becomes in its text.
        formula_marker: what a formula image becomes (``{formula}``: its LaTeX); null: ``image_marker``.
    """

    def __init__(self, data_dir: str, attempts: str = "first", image_marker: str = "[image]",
                 formula_marker: str | None = "[image: {formula}]") -> None:  # fmt: skip
        if attempts not in ATTEMPTS:
            raise ConfigError(f"data.source.attempts={attempts!r}: must be one of {', '.join(ATTEMPTS)}.")
        self.data_dir = Path(data_dir).expanduser()
        self.attempts, self.image_marker, self.formula_marker = attempts, image_marker, formula_marker
        self.name = f"DBE-KT22 in {self.data_dir} ({attempts} attempts)"

    def load(self) -> AnswerLog:
        questions = read_items(self.data_dir, self.image_marker, self.formula_marker)
        answers = read_answers(self.data_dir, self.attempts)
        known = answers["problem_id"].isin(set(questions["problem_id"])).to_numpy()
        if not known.all():
            first = answers.loc[~known, "problem_id"].iloc[0]
            raise DataValidationError(
                f"{self.data_dir / 'interactions.csv'}: {int((~known).sum())} answer(s) name a question that "
                f"{self.data_dir / 'items.csv'} lacks (the first: question_id {first!r}); the two files must "
                "come from the same release."
            )
        labels = questions.set_index("problem_id")[["topic_name", "subject_name", "skill_set"]]
        answers = answers.join(labels, on="problem_id")
        return AnswerLog(answers, questions)


def item_table(data: AnswerLog) -> pd.DataFrame:
    """The answered questions in the layout of ``data=item_difficulty`` (:mod:`ktlab.data.text.items`):
    text, options, key, ``skills`` (``|``-joined), ``success_rate`` and ``n_answers`` of ``data``'s answers."""
    grouped = data.answers.groupby("problem_id")["correct"]
    rates = pd.DataFrame({"success_rate": grouped.mean(), "n_answers": grouped.size()})
    items = data.questions.join(rates, on="problem_id", how="inner").rename(columns={"skill_set": "skills"})
    columns = [
        "problem_id",
        "question_title",
        *OPTION_COLUMNS,
        "correct_option",
        "skills",
        "success_rate",
        "n_answers",
    ]
    return items[columns].reset_index(drop=True)
