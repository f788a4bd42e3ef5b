"""Usernames compared without case or surrounding spaces, one learner per record, identifiers that fit
their columns, and long values cut in messages: JSON import, ingestion and logins alike."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ktlab.data.schema import validate_interactions
from ktlab.db import access
from ktlab.db.errors import ImportValidationError
from ktlab.db.identifiers import column_length
from ktlab.db.ingest import ingest_frame
from ktlab.db.json_import import full_import
from ktlab.db.messages import QUOTE_LIMIT, cut
from ktlab.db.models import AnalyticsEvent, ExerciseResponse, SkillProfile, User
from ktlab.db.platform_json import CREDENTIALS_FILE, DATA_FILE, load_export
from ktlab.db.usernames import username_key
from ktlab.errors import DataValidationError

from .helpers import counts, run_script

RECORD = {"grade_level": 3, "skills": {"addition": {"proficiency": 0.5}}}


def _export(folder: Path, data_text: str, creds: dict | str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DATA_FILE).write_text(data_text)
    (folder / CREDENTIALS_FILE).write_text(creds if isinstance(creds, str) else json.dumps(creds))
    return folder


def _answers(*ids: str) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"student_id": list(ids), "t": range(len(ids)), "skill_id": "fractions", "correct": 1}
    )
    return validate_interactions(frame, "answers.csv", required=list(frame.columns))


def test_cut_keeps_messages_short() -> None:
    assert cut("alice") == "'alice'"
    long = cut("x" * 100_000)
    assert long.startswith("'xxxx") and long.endswith("... (100000 characters)") and len(long) < 80
    assert len(cut(list(range(50_000)))) < 80


def test_usernames_are_one_account_across_import_ingest_and_login(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    first = _export(tmp_path / "a", json.dumps({" alice ": RECORD}), {" alice ": {"pin": "2468"}})
    full_import(sessions, load_export(first), tmp_path / "backups")
    with sessions() as session:
        (user,) = session.scalars(select(User)).all()
        assert (user.username, user.username_key) == ("alice", "alice")  # display form kept, stripped

    again = _export(tmp_path / "b", json.dumps({"ALICE": RECORD}), {"ALICE": {"pin": "1111"}})
    second = full_import(sessions, load_export(again), tmp_path / "backups")
    assert second.added["users"] == [] and second.plan.existing_users == 1
    with sessions.begin() as session:
        assert ingest_frame(session, _answers(" Alice", "Alice ")) == 2  # ids lose surrounding spaces
        # the platform cannot create a second alice either
        with pytest.raises(IntegrityError), session.begin_nested():
            access.create_user(session, "ALICE ")
    assert counts(engine)["users"] == 1
    with sessions.begin() as session:
        for spelling in ("alice", " alice ", "ALICE"):
            assert access.authenticate_user(session, spelling, "2468").id == user.id
        assert access.authenticate_user(session, "alice", "1111") is None  # the rerun kept the first PIN
        parent = access.create_parent(session, " Mia.Parent ", "correct horse battery")
        assert parent.username == "Mia.Parent"
        assert access.authenticate_parent(session, "mia.parent", "correct horse battery").id == parent.id


def test_one_learner_spelled_twice_in_one_file_is_refused(engine: Engine, sessions) -> None:
    with pytest.raises(DataValidationError) as info, sessions.begin() as session:
        ingest_frame(session, _answers("bob", "carl", " BOB"))
    message = str(info.value)
    assert "'bob' (row 1) and 'BOB' (row 3) are the same learner" in message
    assert counts(engine)["users"] == 0


def test_duplicate_username_in_one_export_names_both_records(tmp_path: Path) -> None:
    text = (
        '{"alice": {"grade_level": 3}, "bob": {}, "alice": {"grade_level": 5},'
        ' " ALICE ": {}, "carl": {"grade_level": 2, "grade_level": 4}}'
    )
    folder = _export(tmp_path / "x", text, {"alice": {"pin": "1234"}, "Alice": {"pin": "9876"}})
    with pytest.raises(ImportValidationError) as info:
        load_export(folder)
    message = str(info.value)
    assert "users_data.json: record #1 'alice' and record #3 'alice' are the same learner" in message
    assert "users_credentials.json: record #1 'alice' and record #2 'Alice' are the same learner" in message
    assert "record 'carl', field '(record)': the key 'grade_level' appears twice" in message
    assert "1234" not in message and "9876" not in message


@pytest.mark.parametrize(
    ("field", "column"),
    [
        ("username", User.username),
        ("learning_style", User.learning_style),
        ("skills", SkillProfile.domain),
        ("events", AnalyticsEvent.event_type),
    ],
)
def test_json_values_longer_than_their_columns_are_refused(tmp_path: Path, field: str, column) -> None:
    limit = column_length(column)
    long = "é" * (limit + 1)
    name, record = "alice", dict(RECORD)
    if field == "username":
        name = long
    elif field == "learning_style":
        record["learning_style"] = long
    elif field == "skills":
        record["skills"] = {long: {"proficiency": 0.5}}
    else:
        record["events"] = [{"type": long, "timestamp": "2024-10-02T17:30:00Z"}]
    folder = _export(tmp_path / field, json.dumps({name: record}), {})
    with pytest.raises(ImportValidationError) as info:
        load_export(folder)
    message = str(info.value)
    table_column = f"{column.class_.__tablename__}.{column.key}"
    assert f"is longer than the {limit} characters of {table_column}" in message
    assert f"({limit + 1} characters)" in message
    assert (long not in message) == (limit + 1 > QUOTE_LIMIT)  # quoted whole only when short


def test_huge_value_is_cut_in_the_message(tmp_path: Path) -> None:
    huge = "7" * 100_000
    record = {**RECORD, "grade_level": huge, "learning_style": "x" * 100_000}
    folder = _export(tmp_path / "huge", json.dumps({"y" * 100_000: record}), {})
    with pytest.raises(ImportValidationError) as info:
        load_export(folder)
    assert len(str(info.value)) < 1500 and "(100000 characters)" in str(info.value)


def test_ingest_refuses_ids_longer_than_their_columns(engine: Engine, sessions) -> None:
    """On PostgreSQL this used to end in a driver traceback quoting the SQL; it is refused before writing."""
    limit = column_length(User.username)
    frame = _answers("ok", "k" * (limit + 1))
    frame.loc[0, "skill_id"] = "s" * 100_000
    with pytest.raises(DataValidationError) as info, sessions.begin() as session:
        ingest_frame(session, frame, "answers.csv")
    message = str(info.value)
    assert (
        f"answers.csv, row 2, column 'student_id': value '{'k' * 40}'... ({limit + 1} characters) is "
        in message
    )
    assert f"longer than the {limit} characters of users.username" in message
    assert "row 1, column 'skill_id'" in message and "(100000 characters)" in message and len(message) < 800
    assert counts(engine) == {"users": 0, "skill_profiles": 0, "analytics_events": 0, "exercise_responses": 0}


@pytest.mark.postgres
def test_ingest_script_long_id_on_postgres(pg_url: str, tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    rows = {"student_id": ["a", "b" * 65, "c"], "t": [0, 1, 2], "skill_id": ["x", "y", "z"], "correct": 1}
    pd.DataFrame(rows).to_csv(path, index=False)
    done = run_script("ingest.py", str(path), "--url", pg_url, "--init-db", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    message = done.stderr.replace("\n", " ")
    assert "row 2 (line 3), column 'student_id'" in message and "65 characters" in message
    assert "Traceback" not in done.stderr and "INSERT" not in done.stderr and "psycopg2" not in done.stderr
    assert username_key("b" * 65) not in done.stderr
    assert ExerciseResponse.__tablename__ not in done.stderr
