"""A `timestamp` column (declared once in the schema) is stored as each answer's answered_at."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ktlab.data.schema import validate_interactions
from ktlab.data.template import template_frame
from ktlab.db.ingest import ingest_frame
from ktlab.db.models import ExerciseResponse, User


def test_answer_times_are_stored(sessions: sessionmaker[Session]) -> None:
    frame = template_frame().drop(columns=["split"])
    times = pd.date_range("2026-03-02 08:00", periods=len(frame), freq="37min", tz="Europe/Paris")
    frame["timestamp"] = [t.isoformat() for t in times]
    clean = validate_interactions(frame, "timed.csv")
    with sessions.begin() as session:
        assert ingest_frame(session, clean, "timed.csv") == len(frame)
    with sessions() as session:
        stored = session.execute(
            select(User.username, ExerciseResponse.t, ExerciseResponse.answered_at)
            .join(User, User.id == ExerciseResponse.user_id)
            .order_by(User.username, ExerciseResponse.t)
        ).all()
    expected = clean.sort_values(["student_id", "t"])["timestamp"].dt.tz_convert("UTC")
    got = pd.to_datetime([row.answered_at for row in stored], utc=True)
    assert list(got) == list(expected)


def test_a_bad_timestamp_names_row_and_value() -> None:
    frame = template_frame()
    frame["timestamp"] = "2026-03-02T08:00:00"
    frame.loc[4, "timestamp"] = "yesterday-ish"
    try:
        validate_interactions(frame, "timed.csv")
    except Exception as err:
        assert "row 5, column 'timestamp': value 'yesterday-ish' is not a date and time" in str(err)
    else:
        raise AssertionError("a bad timestamp was accepted")
