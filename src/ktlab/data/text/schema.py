"""The answer-log schema of the question-text students, and its validation.

One row is one answer of one student to one multiple-choice question. Inside ktlab its learner, answer and
question columns carry the names of the answer record (:mod:`ktlab.data.schema`)::

    answer_id, student_id, correct, question_title, option_a, option_b, option_c, option_d, option_e,
    topic_name, subject_name, axis_name [, correct_option] [, problem_id] [, p_correct_true]

A file may use these names or those of the original notebook's answer log, ``user_id``, ``is_correct``
and ``question_id`` (:data:`NOTEBOOK_COLUMNS`): :func:`validate_answers` and :func:`validate_questions`
rename them once, on read, and name every column in their messages as the file does.

Only ``option_a`` and ``option_b`` must be filled: ``option_c`` to ``option_e`` may be empty (two- to
four-option questions), and ``option_e`` absent. ``correct_option`` (the key's letter, ``a`` to ``e``) is
optional; a template may show it. ``problem_id`` is optional: without it a question is identified by its
text and options (the notebook's file has no id). ``p_correct_true`` is the simulator's true success
probability (never a model input; it feeds the oracle AUC).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ktlab.data.layouts import rename_layout
from ktlab.data.schema import ORACLE_COLUMN, describe_value, where
from ktlab.errors import DataValidationError
from ktlab.utils.text import shorten

log = logging.getLogger(__name__)

OPTION_COLUMNS: tuple[str, ...] = ("option_a", "option_b", "option_c", "option_d", "option_e")
#: Option columns every question file has (option_e may be absent).
REQUIRED_OPTIONS: tuple[str, ...] = OPTION_COLUMNS[:4]
#: Options every question fills: two at least (option_c..option_e may be empty).
FILLED_OPTIONS: tuple[str, ...] = OPTION_COLUMNS[:2]
LABEL_COLUMNS: tuple[str, ...] = ("topic_name", "subject_name", "axis_name")
#: The key's letter (``a`` to ``e``), optional: empty where unknown.
KEY_COLUMN = "correct_option"
#: The columns that describe a question (what the prompt template may show).
QUESTION_COLUMNS: tuple[str, ...] = ("question_title", *OPTION_COLUMNS, *LABEL_COLUMNS, KEY_COLUMN)
TEXT_REQUIRED: tuple[str, ...] = ("question_title", *REQUIRED_OPTIONS, *LABEL_COLUMNS)
#: The columns whose cells may not be empty.
FILLED: tuple[str, ...] = ("question_title", *FILLED_OPTIONS, *LABEL_COLUMNS)
ANSWER_COLUMNS: tuple[str, ...] = ("answer_id", "student_id", "correct", *TEXT_REQUIRED)
#: Every column an answer log may have; any other is refused unless the source is told to ignore it.
KNOWN_ANSWER_COLUMNS: tuple[str, ...] = (
    *ANSWER_COLUMNS,
    "option_e",
    KEY_COLUMN,
    "problem_id",
    ORACLE_COLUMN,
)
#: The original notebook's names of three answer-record columns (name in the file -> record name): an
#: answer log or questions file may use them instead of the record's names (not both for one column).
NOTEBOOK_COLUMNS: dict[str, str] = {
    "user_id": "student_id",
    "is_correct": "correct",
    "question_id": "problem_id",
}

_TRUE = {"1", "1.0", "true", "t", "yes", "y"}
_FALSE = {"0", "0.0", "false", "f", "no", "n"}


def _first_bad(
    problems: list[str], bad: np.ndarray, raw: pd.Series, column: str, expected: str, where
) -> None:
    positions = np.flatnonzero(bad)
    if len(positions):
        first = int(positions[0])
        more = f" ({len(positions) - 1} more row(s) in this column are bad too)" if len(positions) > 1 else ""
        problems.append(
            f"{where(first)}, column '{column}': {describe_value(raw.iloc[first])} is not {expected}{more}"
        )


def question_key(frame: pd.DataFrame) -> pd.Series:
    """A stable id from a question's text and options (``q_`` + 12 hex digits of their SHA-1)."""
    joined = frame["question_title"].str.cat([frame[c] for c in OPTION_COLUMNS], sep="\x1f")
    return joined.map(lambda text: "q_" + hashlib.sha1(text.encode()).hexdigest()[:12])


def record_names(
    frame: pd.DataFrame, source: str, line_offset: int | np.ndarray | None = None
) -> tuple[pd.DataFrame, Callable[[str], str]]:
    """``frame`` with the notebook's names (:data:`NOTEBOOK_COLUMNS`) renamed to the record's, and a function
    giving a record column's name as the file writes it (for messages).

    A column the file lacks is named as the file's layout would: by the notebook's name when the file
    uses one of the notebook's names, else by the record's.

    Raises:
        DataValidationError: the file names one column both ways (``user_id`` and ``student_id``...).
    """
    columns = set(map(str, frame.columns))
    renamed, in_file, both = rename_layout(frame, NOTEBOOK_COLUMNS)
    if both:
        raise DataValidationError(
            f"{_header_of(source, line_offset)}: has the columns {'; '.join(both)}, the original notebook's "
            "and ktlab's name of one column; keep one of them (see docs/text_students.md)."
        )
    layout = {new: old for old, new in NOTEBOOK_COLUMNS.items()} if in_file else {}

    def shown(column: str) -> str:
        return in_file.get(column) or (column if column in columns else layout.get(column, column))

    return renamed, shown


def _text_columns(
    frame: pd.DataFrame, required: Sequence[str], problems: list[str], where, shown: Callable[[str], str]
) -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}
    for column in (*QUESTION_COLUMNS, "answer_id", "student_id", "problem_id"):
        if column not in frame:
            if column in ("option_e", KEY_COLUMN):
                out[column] = pd.Series([""] * len(frame), dtype=object)
            continue
        raw = frame[column].reset_index(drop=True)
        text = raw.astype("string").str.strip().fillna("").astype(object)
        if (column in required and column in FILLED) or column in ("answer_id", "student_id", "problem_id"):
            _first_bad(problems, (text == "").to_numpy(), raw, shown(column), "a non-empty text", where)
        if column == KEY_COLUMN:
            text = text.str.lower()
            bad = ~text.isin(["", *(c[-1] for c in OPTION_COLUMNS)]).to_numpy()
            _first_bad(problems, bad, raw, column, "an option letter (a to e) or empty", where)
        out[column] = text
    return out


def validate_questions(
    frame: pd.DataFrame, source: str, line_offset: int | np.ndarray | None = None, extra: Sequence[str] = ()
) -> pd.DataFrame:
    """Check a question table (the question columns, optional ``problem_id``) and return it cleaned.

    The notebook's names are renamed to the record's (:func:`record_names`); ``problem_id`` is set from the
    text and options where the table has no id.

    Args:
        frame: the raw table, one row per question.
        source: what to call it in messages (a file path...).
        line_offset: the file line of the first data row (2 for a CSV with a header), for messages.
        extra: further columns kept as they are (truth columns of the generator, for instance), by their
            record names (``student_id``).

    Raises:
        DataValidationError: a required column is missing or a cell is empty, naming row and column.
    """
    frame, shown = record_names(frame, source, line_offset)
    _require(frame, source, TEXT_REQUIRED, line_offset, shown)
    problems: list[str] = []
    out = _text_columns(frame, TEXT_REQUIRED, problems, lambda i: where(source, i, line_offset), shown)
    if problems:
        raise DataValidationError("Invalid question data: " + "; ".join(problems) + ".")
    clean = pd.DataFrame(out)
    if "problem_id" not in clean:
        clean["problem_id"] = question_key(clean)
    for column in extra:
        if column in frame:
            clean[column] = frame[column].to_numpy()
    return clean


def _require(
    frame: pd.DataFrame,
    source: str,
    required: Sequence[str],
    line_offset: int | np.ndarray | None,
    shown: Callable[[str], str],
) -> None:
    """Refuse an empty table, a missing column, and an option column beyond ``option_e``."""
    options = [
        str(c) for c in frame.columns if re.fullmatch(r"option_.*", str(c)) and c not in OPTION_COLUMNS
    ]
    if options:
        raise DataValidationError(
            f"{_header_of(source, line_offset)}: the column(s) {shorten(', '.join(options))} are not question "
            f"options ktlab knows; a question has at most five, {', '.join(OPTION_COLUMNS)} (option_e may be "
            "empty). Fold the extra options into these columns or leave out the questions that have more, "
            "since the model would read the question without them."
        )
    if len(frame) == 0:
        raise DataValidationError(
            f"{source} holds no rows: it needs a header and at least one row with the columns "
            f"{', '.join(required)}."
        )
    missing = [shown(c) for c in required if c not in frame.columns]
    if missing:
        has = [shown(str(c)) for c in frame.columns]
        raise DataValidationError(
            f"{source} lacks the column(s) {', '.join(missing)}; it has {shorten(', '.join(has))}. An answer "
            f"log needs {', '.join(map(shown, ANSWER_COLUMNS))} (option_e and {shown('problem_id')} are "
            f"optional; {_aliases()}); see docs/text_students.md."
        )


def _aliases() -> str:
    """The two names of the renamed columns, for messages."""
    pairs = [f"{new} or {old}" for old, new in NOTEBOOK_COLUMNS.items()]
    return "the columns may be named " + ", ".join(pairs)


def _parse_correct(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """0/1 (also true/false, yes/no) as int8, and where a value is none of these."""
    text = raw.astype("string").str.strip().str.lower().fillna("")
    correct = text.isin(_TRUE).to_numpy()
    bad = ~(correct | text.isin(_FALSE).to_numpy())
    return correct.astype(np.int8), bad


def _header_of(source: str, line_offset: int | np.ndarray | None) -> str:
    return f"{source}, line 1 (the header)" if line_offset is not None else source


def _refuse_unknown(
    frame: pd.DataFrame,
    source: str,
    ignore: Sequence[str],
    line_offset: int | np.ndarray | None,
    shown: Callable[[str], str],
) -> None:
    unknown = [str(c) for c in frame.columns if c not in KNOWN_ANSWER_COLUMNS and c not in set(ignore)]
    if unknown:
        raise DataValidationError(
            f"{_header_of(source, line_offset)}: unknown column(s) {shorten(', '.join(unknown))}; an answer "
            f"log has the columns {', '.join(map(shown, KNOWN_ANSWER_COLUMNS))} (option_e, correct_option, "
            f"{shown('problem_id')} and {ORACLE_COLUMN} are optional). Rename a misspelled column, or pass "
            f"data.source.ignore_columns=[{','.join(unknown[:3])}] to train without what they hold."
        )


def validate_answers(
    frame: pd.DataFrame, source: str, line_offset: int | np.ndarray | None = None, ignore: Sequence[str] = ()
) -> pd.DataFrame:
    """Check an answer log and return it cleaned: text stripped, ``correct`` as 0/1, ``problem_id`` set.

    The notebook's names are renamed to the record's (:func:`record_names`); messages name the columns as
    the file does. Every problem is collected (one per column: its first bad row, and how many more) and reported in
    one paragraph. Rows repeating an earlier ``answer_id`` are dropped, and their number logged. With a
    ``problem_id`` column, one id must always carry the same text and options. Text, ids included, is
    compared as written (``007`` and ``7`` are two students); only surrounding spaces are dropped.

    Args:
        frame: the raw log, one row per answer (read as text: see :func:`ktlab.data.io.read_table`).
        source: what to call it in messages.
        line_offset: where its rows sit in the file (see :func:`ktlab.data.schema.where`).
        ignore: columns outside :data:`KNOWN_ANSWER_COLUMNS` to leave out; any other unknown column is
            refused (it may hold something the model should read).

    Raises:
        DataValidationError: a column is missing or unknown, a cell is empty or not a valid value, or a
            question id names two different questions.
    """
    frame, shown = record_names(frame, source, line_offset)
    _require(frame, source, ANSWER_COLUMNS, line_offset, shown)
    _refuse_unknown(frame, source, ignore, line_offset, shown)
    row_at = lambda i: where(source, i, line_offset)  # noqa: E731
    problems: list[str] = []
    out = _text_columns(frame, ANSWER_COLUMNS, problems, row_at, shown)
    raw_correct = frame["correct"].reset_index(drop=True)
    correct, bad = _parse_correct(raw_correct)
    _first_bad(problems, bad, raw_correct, shown("correct"), "0 or 1 (or true/false)", row_at)
    out["correct"] = pd.Series(correct)
    if ORACLE_COLUMN in frame:
        raw_p = frame[ORACLE_COLUMN].reset_index(drop=True)
        p = pd.to_numeric(raw_p, errors="coerce").astype(float)
        _first_bad(problems, (p.isna() | (p < 0) | (p > 1)).to_numpy(), raw_p, ORACLE_COLUMN,
                   "a probability in [0, 1]", row_at)  # fmt: skip
        out[ORACLE_COLUMN] = p
    if problems:
        raise DataValidationError("Invalid answer data: " + "; ".join(problems) + ".")
    clean = pd.DataFrame(out)
    key = question_key(clean)
    if "problem_id" in clean:
        _check_question_ids(clean, key, source, line_offset, shown("problem_id"))
    else:
        clean["problem_id"] = key
    dup = clean["answer_id"].duplicated(keep="first").to_numpy()
    if dup.any():
        log.warning("%s: dropped %d row(s) repeating an earlier answer_id", source, int(dup.sum()))
        clean = clean[~dup].reset_index(drop=True)
    return clean


def _check_question_ids(
    clean: pd.DataFrame, key: pd.Series, source: str, line_offset: int | np.ndarray | None, column: str
) -> None:
    per_id = pd.DataFrame({"id": clean["problem_id"], "key": key})
    first_key = per_id.groupby("id", sort=False)["key"].transform("first")
    clash = (per_id["key"] != first_key).to_numpy()
    if clash.any():
        row = int(np.flatnonzero(clash)[0])
        question = clean["problem_id"].iloc[row]
        earlier = int(np.flatnonzero((clean["problem_id"] == question).to_numpy())[0])
        raise DataValidationError(
            f"Invalid answer data: {where(source, row, line_offset)}, column '{column}': value "
            f"{shorten(repr(question))} names a question whose text or options differ from those of "
            f"{where(source, earlier, line_offset).split(', ', 1)[1]} ({int(clash.sum())} such row(s)); "
            "give each distinct question its own id, or drop the column to identify questions by their text."
        )


def question_table(answers: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct question of an answer log (its first occurrence), indexed 0..n-1."""
    columns = ["problem_id", *QUESTION_COLUMNS]
    return answers.drop_duplicates("problem_id")[columns].reset_index(drop=True)
