"""Bulk ingestion of interaction tables into ``exercise_responses``, by the fastest path of each backend.

An interaction file in the ktlab schema (:mod:`ktlab.data.schema`) is validated first, whole, so a bad row
stops the ingestion before anything is written. Then:

* ``student_id`` becomes ``users.username``, matched to stored learners by username key (no surrounding
  spaces, no case: :mod:`ktlab.db.usernames`); learners not stored yet are created without a PIN (they
  cannot log in until the platform sets one);
* ``skill_id`` becomes ``skill_domain``, and ``exercise_id`` too unless the file has an ``exercise_id`` column;
* ``t`` is kept as is (unique per learner: a file ingested twice is refused);
* ``difficulty`` in [0.2, 0.9] is kept exactly, and mapped to ``difficulty_level`` 1-5 in five equal bins
  (0.20-0.34 -> 1, ..., 0.76-0.90 -> 5);
* ``timestamp``, when the file has it, becomes ``answered_at`` (else the time of the ingestion);
* ``time_spent`` becomes ``time_taken``; adjustment, motivation, anxiety and phase are kept; a signal the
  file lacks is stored as NULL.

Text values longer than their column, or one learner spelled two ways in one file, are refused while
validating (:func:`ktlab.db.identifiers.check_frame_identifiers`). PostgreSQL receives the rows through ``COPY ... FROM STDIN`` (CSV), SQLite through ``executemany``, in
chunks, all in the caller's transaction. For large files on PostgreSQL the learner foreign key is lifted
during the COPY and restored, fully checked, before the transaction ends (see ``BULK_KEY_ROWS``).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, DropConstraint

from ktlab.data.io import read_table
from ktlab.data.schema import (
    CORE_COLUMNS,
    DIFFICULTY_RANGE,
    SCHEMA,
    Column,
    Role,
    validate_interactions,
)
from ktlab.db.columns import EXERCISE_RESPONSES
from ktlab.db.errors import DatabaseError
from ktlab.db.identifiers import check_frame_identifiers
from ktlab.db.messages import first_line
from ktlab.db.models import ExerciseResponse, User
from ktlab.db.statements import insert_new
from ktlab.db.usernames import display_username, username_key
from ktlab.errors import DataValidationError

log = logging.getLogger(__name__)

#: The schema columns stored in ``exercise_responses`` (where: :data:`ktlab.db.columns.EXERCISE_RESPONSES`).
STORED = {name: SCHEMA[name] for name in EXERCISE_RESPONSES}
CHUNK_ROWS = 200_000
#: From this many rows on, PostgreSQL ingestion lifts the learner foreign key during the COPY and puts it
#: back (checked in one pass) before the transaction ends: the per-row key check otherwise halves the speed.
#: Meanwhile the table is locked for other writers and readers, so large ingestions belong off-peak.
BULK_KEY_ROWS = 100_000
ID_CHUNK = 5_000

Progress = Callable[[int], None]


def difficulty_level(difficulty: pd.Series) -> pd.Series:
    """Map difficulties in [0.2, 0.9] to levels 1-5 (five equal bins); NaN stays missing."""
    low, high = DIFFICULTY_RANGE
    level = np.floor((difficulty.to_numpy(dtype=float) - low) / ((high - low) / 5)) + 1
    return pd.Series(np.clip(level, 1, 5), index=difficulty.index).astype("Int16")


def _user_ids(session: Session, keys: Sequence[str]) -> dict[str, int]:
    rows = session.execute(select(User.username_key, User.id).where(User.username_key.in_(keys))).all()
    return {key: uid for key, uid in rows}


def ensure_users(session: Session, usernames: Sequence[str]) -> dict[str, int]:
    """Ids of ``usernames`` (matched by username key), creating without a PIN those not stored.

    Safe under concurrent callers. Returns the id of each name as given.
    """
    keys = {name: username_key(name) for name in dict.fromkeys(usernames)}
    first_spelling = {key: display_username(name) for name, key in reversed(keys.items())}
    ordered = sorted(first_spelling)
    by_key: dict[str, int] = {}
    for start in range(0, len(ordered), ID_CHUNK):
        part = ordered[start : start + ID_CHUNK]
        found = _user_ids(session, part)
        missing = [{"username": first_spelling[k], "username_key": k} for k in part if k not in found]
        if missing:
            session.execute(insert_new(session, User, ["username_key"]), missing)
            found = _user_ids(session, part)
            log.info("created %d learner(s) without a PIN", len(missing))
        by_key.update(found)
    return {name: by_key[key] for name, key in keys.items()}


def to_responses(
    frame: pd.DataFrame, user_ids: dict[str, int], exercise_ids: pd.Series | None = None
) -> pd.DataFrame:
    """The rows of ``exercise_responses`` for a validated interaction frame (vectorized)."""

    def stored(column: Column) -> pd.Series:
        if column.role is Role.ANSWER:
            dtype = "boolean"
        elif column.kind == "number":
            dtype = "Int16" if column.integer else "Float64"
        elif column.kind == "datetime":  # UTC text with its offset: both backends read it exactly
            return frame[column.name].dt.tz_convert("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
        else:
            dtype = "string"
        if column.name in frame:
            return frame[column.name].astype(dtype)
        return pd.Series(pd.NA, index=frame.index, dtype=dtype)

    out = pd.DataFrame(
        {
            "user_id": frame["student_id"].map(user_ids).astype("int64"),
            "exercise_id": exercise_ids.astype(str).to_numpy()
            if exercise_ids is not None
            else frame["skill_id"],
            "difficulty_level": difficulty_level(
                frame["difficulty"].astype(float)
                if "difficulty" in frame
                else pd.Series(np.nan, index=frame.index)
            ),
            **{
                EXERCISE_RESPONSES[column.name]: stored(column)
                for column in STORED.values()
                if column.role is not Role.WHEN or column.name in frame
            },
        }
    )
    return out


def _copy_postgres(session: Session, rows: pd.DataFrame, progress: Progress | None) -> None:
    connection = session.connection()
    learner_key = next(iter(ExerciseResponse.__table__.foreign_key_constraints))
    lift_key = len(rows) >= BULK_KEY_ROWS
    if lift_key:
        connection.execute(DropConstraint(learner_key))
    cursor = connection.connection.driver_connection.cursor()
    sql = f"COPY exercise_responses ({', '.join(rows.columns)}) FROM STDIN WITH (FORMAT csv, NULL '')"
    try:
        for start in range(0, len(rows), CHUNK_ROWS):
            part = rows.iloc[start : start + CHUNK_ROWS]
            buffer = io.BytesIO()
            # Arrow's C++ writer: NULL as an unquoted empty field, text quoted, floats in shortest exact form.
            pa_csv.write_csv(
                pa.Table.from_pandas(part, preserve_index=False),
                buffer,
                pa_csv.WriteOptions(include_header=False),
            )
            buffer.seek(0)
            cursor.copy_expert(sql, buffer, size=1 << 20)
            if progress:
                progress(len(part))
    finally:
        cursor.close()
    if lift_key:
        connection.execute(AddConstraint(learner_key))  # validates every stored row at once


def _executemany(session: Session, rows: pd.DataFrame, progress: Progress | None) -> None:
    sql = (
        f"INSERT INTO exercise_responses ({', '.join(rows.columns)}) "
        f"VALUES ({', '.join('?' for _ in rows.columns)})"
    )
    connection = session.connection()
    for start in range(0, len(rows), CHUNK_ROWS):
        part = rows.iloc[start : start + CHUNK_ROWS].astype(object)
        part = part.where(part.notna(), None)
        connection.exec_driver_sql(sql, list(part.itertuples(index=False, name=None)))
        if progress:
            progress(len(part))


def ingest_frame(
    session: Session,
    frame: pd.DataFrame,
    source: str = "interactions",
    exercise_ids: pd.Series | None = None,
    progress: Progress | None = None,
) -> int:
    """Store a validated interaction frame; the caller owns the transaction.

    Args:
        session: the session whose transaction receives the rows.
        frame: the output of :func:`~ktlab.data.schema.validate_interactions`.
        source: what to call the data in messages.
        exercise_ids: an optional exercise id per row (defaults to the skill id).
        progress: called with the number of rows written after each chunk.

    Returns:
        The number of answers stored.

    Raises:
        DataValidationError: a text value is longer than its column, a learner is spelled two ways, or an
            answer carries several skills (one row each), which the database cannot store.
        DatabaseError: the database refused the rows (e.g. answers that are stored already).
    """
    several = frame.duplicated(["student_id", "t"]).to_numpy()
    if several.any():
        first = frame.iloc[int(several.argmax())]
        raise DataValidationError(
            f"{source}: {int(several.sum())} row(s) tag an answer with a further skill (the first: learner "
            f"{first['student_id']!r}, t={first['t']:g}, skill {first['skill_id']!r}), and the learner database "
            "stores one skill per answer (exercise_responses is keyed by learner and t). Store one row per "
            "answer (its main skill), or train from the file itself (data=csv data.path=FILE). Nothing was stored."
        )
    check_frame_identifiers(frame, source, exercise_ids)
    user_ids = ensure_users(session, frame["student_id"].unique().tolist())
    rows = to_responses(frame, user_ids, exercise_ids)
    try:
        if session.get_bind().dialect.name == "postgresql":
            _copy_postgres(session, rows, progress)
        else:
            _executemany(session, rows, progress)
        session.flush()
    except (IntegrityError, psycopg2.Error) as err:
        detail = getattr(err, "orig", None) or err
        raise DatabaseError(
            f"{source}: the database refused the answers ({type(detail).__name__}: {first_line(detail)}). "
            "A learner cannot "
            "have two answers with the same t: was this file ingested before? Nothing from it was stored."
        ) from None
    log.info("stored %d answers of %d learners from %s", len(rows), len(user_ids), source)
    return len(rows)


def read_interactions(path: str | Path) -> tuple[pd.DataFrame, pd.Series | None]:
    """Read and validate an interaction file (only the core columns are required), before connecting.

    Returns:
        The validated frame, and the file's ``exercise_id`` column when it has one.
    """
    raw, line_offset = read_table(path)
    frame = validate_interactions(raw, str(path), required=CORE_COLUMNS, line_offset=line_offset)
    exercise_ids = raw["exercise_id"].reset_index(drop=True) if "exercise_id" in raw else None
    check_frame_identifiers(frame, str(path), exercise_ids, line_offset)
    return frame, exercise_ids


def ingest_file(session: Session, path: str | Path, progress: Progress | None = None) -> int:
    """Validate an interaction file and store its answers (see :func:`ingest_frame`)."""
    frame, exercise_ids = read_interactions(path)
    return ingest_frame(session, frame, str(path), exercise_ids, progress)


def add_answer(
    session: Session, user_id: int, t: float, skill_domain: str, is_correct: bool, **signals: object
) -> ExerciseResponse:
    """Record one answer as the platform does while a learner works."""
    response = ExerciseResponse(
        user_id=user_id,
        t=t,
        exercise_id=str(signals.pop("exercise_id", skill_domain)),
        skill_domain=skill_domain,
        is_correct=is_correct,
        **signals,
    )
    session.add(response)
    session.flush()
    return response
