"""JSON import: dry run, full import, rerun, rollback, failure atomicity and bad records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from ktlab.db.errors import DatabaseError, ImportValidationError, RollbackError
from ktlab.db.import_rollback import rollback
from ktlab.db.json_import import full_import
from ktlab.db.models import ExerciseResponse, User
from ktlab.db.platform_json import CREDENTIALS_FILE, DATA_FILE, load_export
from ktlab.db.platform_sample import write_platform_export
from ktlab.db.security import verify_secret

from .helpers import counts, digest, run_script

N_USERS = 12


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    return write_platform_export(tmp_path / "export", N_USERS, seed=3, domains_per_user=3, events_per_user=4)


def test_dry_run_script_writes_nothing(db_url: str, export_dir: Path, tmp_path: Path) -> None:
    before = digest(export_dir)
    done = run_script(
        "json_to_db.py", "--mode", "dry-run", "--data-dir", str(export_dir), "--url", db_url, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "nothing written" in done.stdout and f"{N_USERS}" in done.stdout
    assert not (tmp_path / "backups").exists()
    assert not (tmp_path / "ktlab.db").exists()  # the SQLite file of sqlite_url was not even created
    assert digest(export_dir) == before
    if db_url.startswith("postgresql"):
        from ktlab.db.engine import make_engine

        engine = make_engine(db_url, use_env=False)
        with engine.connect() as conn:
            assert (
                conn.execute(
                    text(
                        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
                    )
                ).scalar()
                == 0
            )
        engine.dispose()


def test_full_import_rerun_and_rollback(
    engine: Engine, sessions: sessionmaker[Session], export_dir: Path, tmp_path: Path
) -> None:
    with sessions.begin() as session:
        session.add(User(username="already_here"))
    export = load_export(export_dir)
    first = full_import(sessions, export, tmp_path / "backups")
    assert first.backup_dir.name.startswith("backup_") and (first.backup_dir / DATA_FILE).is_file()
    after_first = counts(engine)
    assert after_first["users"] == N_USERS + 1
    assert after_first["skill_profiles"] == 3 * N_USERS
    assert after_first["analytics_events"] == 4 * N_USERS
    assert len(first.added["users"]) == N_USERS

    creds = json.loads((export_dir / CREDENTIALS_FILE).read_text())
    with sessions() as session:
        user = session.scalars(select(User).where(User.username == "learner00000")).one()
        assert user.pin_hash is not None and creds["learner00000"]["pin"] not in user.pin_hash
        assert verify_secret(creds["learner00000"]["pin"], user.pin_hash)
        assert user.grade_level is not None and len(user.skill_profiles) == 3

    second = full_import(sessions, load_export(export_dir), tmp_path / "backups")
    assert second.added == {"users": [], "skill_profiles": [], "analytics_events": []}
    assert counts(engine) == after_first
    assert second.backup_dir != first.backup_dir

    (export_dir / DATA_FILE).unlink()  # the file is gone since; rollback restores it
    removed = rollback(sessions, first.backup_dir)
    assert removed == {"analytics_events": 4 * N_USERS, "skill_profiles": 3 * N_USERS, "users": N_USERS}
    assert counts(engine)["users"] == 1  # only the learner that was there before
    assert json.loads((export_dir / DATA_FILE).read_text())["learner00000"]["grade_level"] >= 1
    with pytest.raises(RollbackError, match="already rolled back"):
        rollback(sessions, first.backup_dir)


def test_pins_are_hashed_before_the_write_transaction_with_progress(
    engine: Engine, sessions: sessionmaker[Session], export_dir: Path, tmp_path: Path
) -> None:
    """Only the new learners' PINs are hashed, before any row is written, and progress is reported."""
    export = load_export(export_dir)
    stored = export.users[0].username
    with sessions.begin() as session:
        session.add(User(username=stored))
    calls: list[tuple[int, int, int]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total, counts(engine)["users"]))

    result = full_import(sessions, export, tmp_path / "backups", hash_workers=2, progress=progress)
    assert calls[0][:2] == (0, N_USERS - 1) and calls[-1][:2] == (N_USERS - 1, N_USERS - 1)
    assert [done for done, _, _ in calls] == list(range(N_USERS))
    assert {users for _, _, users in calls} == {1}  # nothing imported while hashing
    assert len(result.added["users"]) == N_USERS - 1
    creds = json.loads((export_dir / CREDENTIALS_FILE).read_text())
    with sessions() as session:
        for user in session.scalars(select(User).where(User.username != stored)):
            assert verify_secret(creds[user.username]["pin"], user.pin_hash)


def test_rollback_refuses_when_learners_have_new_answers(
    sessions: sessionmaker[Session], export_dir: Path, tmp_path: Path
) -> None:
    result = full_import(sessions, load_export(export_dir), tmp_path / "backups")
    with sessions.begin() as session:
        session.add(
            ExerciseResponse(
                user_id=result.added["users"][0],
                t=1.0,
                exercise_id="e1",
                skill_domain="addition",
                is_correct=True,
            )
        )
    with pytest.raises(RollbackError, match="1 answers"):
        rollback(sessions, result.backup_dir)
    with sessions() as session:
        assert session.get(User, result.added["users"][0]) is not None


def test_failed_import_leaves_database_and_files_unchanged(
    engine: Engine, sessions: sessionmaker[Session], export_dir: Path, tmp_path: Path
) -> None:
    with sessions.begin() as session:
        session.add(User(username="already_here"))
    before_rows, before_files = counts(engine), digest(export_dir)
    # The database itself rejects one event type, after users and profiles were inserted.
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER reject_logins BEFORE INSERT ON analytics_events WHEN NEW.event_type = 'login' "
                "BEGIN SELECT RAISE(ABORT, 'logins rejected'); END"
            )
        else:
            conn.exec_driver_sql(
                "ALTER TABLE analytics_events ADD CONSTRAINT reject_logins CHECK (event_type <> 'login')"
            )
    with pytest.raises(DatabaseError, match="rolled back; the database and the JSON files are unchanged"):
        full_import(sessions, load_export(export_dir), tmp_path / "backups")
    assert counts(engine) == before_rows
    assert digest(export_dir) == before_files
    assert list((tmp_path / "backups").iterdir()) == []


def test_bad_records_are_named(export_dir: Path) -> None:
    data = json.loads((export_dir / DATA_FILE).read_text())
    data["learner00002"]["skills"]["oops"] = {"proficiency": 1.7}
    data["learner00004"]["grade_level"] = "fourth"
    (export_dir / DATA_FILE).write_text(json.dumps(data))
    creds = json.loads((export_dir / CREDENTIALS_FILE).read_text())
    creds["learner00001"]["pin"] = "12ab5"
    (export_dir / CREDENTIALS_FILE).write_text(json.dumps(creds))
    with pytest.raises(ImportValidationError) as info:
        load_export(export_dir)
    message = str(info.value)
    assert "users_data.json, record 'learner00002', field 'skills.oops.proficiency': value 1.7" in message
    assert "record 'learner00004', field 'grade_level'" in message
    assert "users_credentials.json, record 'learner00001', field 'pin'" in message
    assert "12ab5" not in message  # a PIN is never echoed


def test_script_bad_record_exits_2_and_writes_nothing(
    sqlite_url: str, export_dir: Path, tmp_path: Path
) -> None:
    data = json.loads((export_dir / DATA_FILE).read_text())
    data["learner00003"]["events"][1]["timestamp"] = "yesterday"
    data["learner00005"]["learning_style"] = "v" * 100_000
    # JSON would keep the last of two records silently: " LEARNER00001 " repeats learner00001 (record #2).
    text = json.dumps(data)[:-1] + ', " LEARNER00001 ": {"grade_level": 2}}'
    (export_dir / DATA_FILE).write_text(text)
    done = run_script(
        "json_to_db.py",
        "--mode",
        "full",
        "--init-db",
        "--data-dir",
        str(export_dir),
        "--url",
        sqlite_url,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    message = done.stderr.replace("\n", " ")
    assert "record 'learner00003', field 'events[1].timestamp'" in message
    assert (
        f"record #2 'learner00001' and record #{N_USERS + 1} ' LEARNER00001 ' are the same learner" in message
    )
    assert "field 'learning_style': value 'vvvv" in message and "(100000 characters)" in message
    assert len(done.stderr) < 2000 and "Traceback" not in done.stderr
    assert not (tmp_path / "backups").exists()


def test_script_full_then_rollback(sqlite_url: str, export_dir: Path, tmp_path: Path) -> None:
    done = run_script(
        "json_to_db.py",
        "--mode",
        "full",
        "--init-db",
        "--data-dir",
        str(export_dir),
        "--url",
        sqlite_url,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    (backup,) = (tmp_path / "backups").iterdir()
    assert json.loads((backup / "manifest.json").read_text())["added"]["users"] == list(range(1, N_USERS + 1))
    done = run_script("json_to_db.py", "--rollback", str(backup), "--url", sqlite_url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"{N_USERS} users" in " ".join(done.stdout.split())  # the console wraps long lines
