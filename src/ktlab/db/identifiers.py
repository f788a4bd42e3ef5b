"""Identifiers against the database: how long its columns let them be, and learners spelled two ways.

Length limits are read from the ORM columns (:func:`column_length`), so a value too long for the database
is refused while validating, before anything is written, with the file, row, column and limit named.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sqlalchemy.orm import InstrumentedAttribute

from ktlab.data.schema import where
from ktlab.db.messages import QUOTE_LIMIT, cut
from ktlab.db.models import ExerciseResponse, User
from ktlab.db.usernames import username_key
from ktlab.errors import DataValidationError

#: Columns of an interaction frame that are stored as text, and where.
FRAME_TEXT_COLUMNS: Mapping[str, InstrumentedAttribute] = {
    "student_id": User.username,
    "skill_id": ExerciseResponse.skill_domain,
    "exercise_id": ExerciseResponse.exercise_id,
    "phase_type": ExerciseResponse.phase_type,
}


def column_length(attribute: InstrumentedAttribute) -> int:
    """The declared length of a string column of the ORM (``User.username`` -> 64)."""
    length = getattr(attribute.type, "length", None)
    if length is None:
        raise TypeError(f"{attribute} is not a string column with a length")
    return int(length)


def column_name(attribute: InstrumentedAttribute) -> str:
    """``table.column`` of an ORM attribute, for messages."""
    return f"{attribute.class_.__tablename__}.{attribute.key}"


def too_long(value: str, attribute: InstrumentedAttribute) -> str | None:
    """Why ``value`` does not fit ``attribute``'s column, or None when it fits."""
    limit = column_length(attribute)
    if len(value) <= limit:
        return None
    quoted = cut(value) if len(value) > QUOTE_LIMIT else f"{value!r} ({len(value)} characters)"
    return f"value {quoted} is longer than the {limit} characters of {column_name(attribute)}"


def _length_problems(
    values: pd.Series, column: str, attribute: InstrumentedAttribute, source: str, line_offset: int | None
) -> list[str]:
    limit = column_length(attribute)
    bad = np.flatnonzero(values.str.len().to_numpy() > limit)
    if not len(bad):
        return []
    first = int(bad[0])
    more = f" ({len(bad) - 1} more row(s) in this column are too long too)" if len(bad) > 1 else ""
    return [
        f"{where(source, first, line_offset)}, column '{column}': "
        f"{too_long(values.iloc[first], attribute)}{more}"
    ]


def _learner_problems(ids: pd.Series, source: str, line_offset: int | None) -> list[str]:
    """Learner ids whose key is too long, and two spellings of one learner in the same table."""
    first_rows = pd.Series(np.arange(len(ids)), index=ids.to_numpy()).groupby(level=0).min()
    keys = pd.Series([username_key(n) for n in first_rows.index], index=first_rows.index)
    problems = []
    limit = column_length(User.username_key)
    long_keys = keys[keys.str.len() > limit]
    if len(long_keys):
        name = long_keys.index[0]
        problems.append(
            f"{where(source, int(first_rows[name]), line_offset)}, column 'student_id': value {cut(name)} "
            f"compares as {len(long_keys.iloc[0])} characters, more than the {limit} of users.username_key"
        )
    clashes = keys[keys.duplicated(keep=False)]
    if len(clashes):
        key = clashes.iloc[0]
        names = sorted(clashes[clashes == key].index, key=lambda n: first_rows[n])[:2]
        rows = [f"{cut(n)} (row {int(first_rows[n]) + 1})" for n in names]
        problems.append(
            f"{source}, column 'student_id': {rows[0]} and {rows[1]} are the same learner (usernames are "
            "compared without surrounding spaces and case); spell each learner one way"
        )
    return problems


def check_frame_identifiers(
    frame: pd.DataFrame,
    source: str,
    exercise_ids: pd.Series | None = None,
    line_offset: int | None = None,
) -> None:
    """Refuse an interaction frame whose text values would not fit the database, before anything is written.

    Args:
        frame: a validated interaction frame (ids are stripped strings, in file order).
        source: what to call the data in messages.
        exercise_ids: the file's ``exercise_id`` column, when it has one.
        line_offset: the file line of the first data row, for messages.

    Raises:
        DataValidationError: a value is longer than its column, or a learner is spelled two ways.
    """
    columns: dict[str, pd.Series] = {c: frame[c] for c in FRAME_TEXT_COLUMNS if c in frame}
    if exercise_ids is not None:
        columns["exercise_id"] = exercise_ids.reset_index(drop=True)
    problems: list[str] = []
    for column, values in columns.items():
        text = values.astype(str).reset_index(drop=True)
        problems += _length_problems(text, column, FRAME_TEXT_COLUMNS[column], source, line_offset)
        shorter = column_length(ExerciseResponse.exercise_id) < column_length(ExerciseResponse.skill_domain)
        if column == "skill_id" and exercise_ids is None and shorter:
            # without an exercise_id column the skill id is stored as the exercise id too
            problems += _length_problems(text, column, ExerciseResponse.exercise_id, source, line_offset)
    if "student_id" in frame and not problems:
        problems += _learner_problems(
            frame["student_id"].astype(str).reset_index(drop=True), source, line_offset
        )
    if problems:
        raise DataValidationError("Invalid interaction data: " + "; ".join(problems) + ".")
