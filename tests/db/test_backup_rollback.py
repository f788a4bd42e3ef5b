"""Backups hold no secret and are complete or absent; rollbacks refuse another database, other rows and
damaged manifests, removing nothing."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from ktlab.db import migrate
from ktlab.db.engine import make_engine, make_session_factory
from ktlab.db.errors import DatabaseError, RollbackError
from ktlab.db.import_rollback import rollback
from ktlab.db.json_import import full_import
from ktlab.db.platform_json import CREDENTIALS_FILE, DATA_FILE, load_export
from ktlab.db.platform_sample import write_platform_export

from .helpers import REPO_ROOT, counts, files_holding, private_pins, run_script

N_USERS = 8


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    return write_platform_export(tmp_path / "export", N_USERS, seed=5, domains_per_user=2, events_per_user=3)


def _manifest(backup: Path) -> dict:
    return json.loads((backup / "manifest.json").read_text())


def test_backup_is_private_and_holds_no_pin(
    engine: Engine, sessions: sessionmaker[Session], export_dir: Path, tmp_path: Path
) -> None:
    pins = private_pins(export_dir)
    result = full_import(sessions, load_export(export_dir), tmp_path / "backups")
    backup = result.backup_dir
    assert stat.S_IMODE(backup.stat().st_mode) == 0o700
    assert sorted(p.name for p in backup.iterdir()) == ["manifest.json", DATA_FILE]  # no credentials copy
    assert {stat.S_IMODE(p.stat().st_mode) for p in backup.iterdir()} == {0o600}
    assert files_holding(tmp_path, pins, skip=export_dir) == []  # nor in the SQLite file and its WAL
    manifest = _manifest(backup)
    assert set(manifest["files"]) == {DATA_FILE, CREDENTIALS_FILE} and manifest["backed_up"] == [DATA_FILE]
    rollback(sessions, backup)  # a rollback needs no PIN
    assert counts(engine)["users"] == 0
    assert stat.S_IMODE((backup / "manifest.json").stat().st_mode) == 0o600


def test_failed_import_leaves_no_folder_and_no_pin(
    engine: Engine, sessions: sessionmaker[Session], export_dir: Path, tmp_path: Path
) -> None:
    pins = private_pins(export_dir)
    with engine.begin() as conn:  # the database refuses the last table the import writes
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER no_events BEFORE INSERT ON analytics_events BEGIN SELECT RAISE(ABORT, 'no'); END"
            )
        else:
            conn.exec_driver_sql("ALTER TABLE analytics_events ADD CONSTRAINT no_events CHECK (id < 0)")
    with pytest.raises(DatabaseError, match="rolled back"):
        full_import(sessions, load_export(export_dir), tmp_path / "backups")
    assert list((tmp_path / "backups").iterdir()) == []  # neither a backup_* nor a hidden folder
    assert counts(engine)["users"] == 0
    assert files_holding(tmp_path, pins, skip=export_dir) == []


def _start_blocked_import(
    export_dir: Path, db: Path, cwd: Path
) -> tuple[subprocess.Popen, sqlite3.Connection]:
    """Start a full import whose transaction waits for a write lock this test holds."""
    lock = sqlite3.connect(db, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src"), "KTLAB_ROOT": str(REPO_ROOT)}
    env.pop("KTLAB_DATABASE_URL", None)
    args = [
        "--mode",
        "full",
        "--data-dir",
        str(export_dir),
        "--url",
        f"sqlite:///{db}",
        "--hash-workers",
        "2",
    ]
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "scripts" / "json_to_db.py"), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list((cwd / "backups").glob(f".incomplete-*/{DATA_FILE}")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the import never started its backup"
        time.sleep(0.05)
    time.sleep(0.5)  # now waiting inside its transaction for the lock
    return process, lock


def test_killed_import_leaves_no_backup_and_no_pin(sqlite_url: str, export_dir: Path, tmp_path: Path) -> None:
    """kill -9 in the middle of the import's transaction: nothing stored, no backup_* folder, no PIN; the
    next import removes the hidden unfinished folder."""
    pins = private_pins(export_dir)
    migrate.upgrade(sqlite_url)
    db = tmp_path / "ktlab.db"
    process, lock = _start_blocked_import(export_dir, db, tmp_path)
    process.kill()
    process.communicate(timeout=30)
    lock.rollback()
    lock.close()
    assert [p.name for p in (tmp_path / "backups").glob("backup_*")] == []
    assert files_holding(tmp_path, pins, skip=export_dir) == []
    engine = make_engine(sqlite_url, use_env=False)
    assert counts(engine)["users"] == 0
    result = full_import(make_session_factory(engine), load_export(export_dir), tmp_path / "backups")
    assert [p.name for p in (tmp_path / "backups").iterdir()] == [result.backup_dir.name]
    assert counts(engine)["users"] == N_USERS
    engine.dispose()
    assert files_holding(tmp_path, pins, skip=export_dir) == []


@pytest.mark.slow
def test_terminated_import_cleans_up(sqlite_url: str, export_dir: Path, tmp_path: Path) -> None:
    """SIGTERM: the import rolls back and removes its unfinished backup before exiting."""
    migrate.upgrade(sqlite_url)
    process, lock = _start_blocked_import(export_dir, tmp_path / "ktlab.db", tmp_path)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    lock.rollback()  # the import's INSERT returns, and the signal is handled
    lock.close()
    process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert list((tmp_path / "backups").iterdir()) == []
    engine = make_engine(sqlite_url, use_env=False)
    assert counts(engine)["users"] == 0
    engine.dispose()


def test_rollback_refuses_another_database(
    db_url: str, sessions: sessionmaker[Session], engine: Engine, export_dir: Path, tmp_path: Path
) -> None:
    """The same export imported into two databases: a backup of the first never removes the second's rows."""
    result = full_import(sessions, load_export(export_dir), tmp_path / "backups_a")
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    migrate.upgrade(other_url)
    other = make_engine(other_url, use_env=False)
    other_sessions = make_session_factory(other)
    full_import(other_sessions, load_export(export_dir), tmp_path / "backups_b")  # same ids, same names
    before = counts(other)
    with pytest.raises(RollbackError, match=r"not into sqlite:///.*other\.db .*nothing was removed"):
        rollback(other_sessions, result.backup_dir)
    assert counts(other) == before and counts(engine)["users"] == N_USERS
    assert _manifest(result.backup_dir)["rolled_back_at"] is None
    other.dispose()
    # Another spelling of the first database's URL is the same database.
    if db_url.startswith("sqlite"):
        same = make_engine(f"sqlite:///{tmp_path}/./ktlab.db", use_env=False)
        assert rollback(make_session_factory(same), result.backup_dir)["users"] == N_USERS
        same.dispose()


def test_rollback_refuses_rows_that_are_not_the_imported_ones(
    engine: Engine, sessions: sessionmaker[Session], export_dir: Path, tmp_path: Path
) -> None:
    result = full_import(sessions, load_export(export_dir), tmp_path / "backups")
    first = result.added["users"][0]
    with engine.begin() as conn:  # the learner under that id is someone else now
        conn.execute(
            text("UPDATE users SET username = 'mallory', username_key = 'mallory' WHERE id = :id"),
            {"id": first},
        )
    before = counts(engine)
    with pytest.raises(RollbackError) as info:
        rollback(sessions, result.backup_dir)
    message = str(info.value)
    assert f"id {first}: the import added 'learner00000', the database holds 'mallory'" in message
    assert "nothing was removed" in message
    assert counts(engine) == before and _manifest(result.backup_dir)["rolled_back_at"] is None
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": first})
    with pytest.raises(RollbackError, match="1 of its 8 users are gone"):
        rollback(sessions, result.backup_dir)


def test_rollback_script_refuses_other_url_and_damaged_manifest(
    sqlite_url: str, export_dir: Path, tmp_path: Path
) -> None:
    migrate.upgrade(sqlite_url)
    engine = make_engine(sqlite_url, use_env=False)
    backup = full_import(
        make_session_factory(engine), load_export(export_dir), tmp_path / "backups"
    ).backup_dir
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    migrate.upgrade(other_url)
    done = run_script("json_to_db.py", "--rollback", str(backup), "--url", other_url, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    message = done.stderr.replace("\n", " ")
    assert message.startswith("error: Cannot roll back") and "nothing was removed" in message
    assert len(done.stderr.strip().split("\n\n")) == 1  # one paragraph
    assert counts(engine)["users"] == N_USERS and _manifest(backup)["rolled_back_at"] is None

    (backup / "manifest.json").write_text('{"format": 2, "added": {"users": [1, 2')  # cut short
    done = run_script("json_to_db.py", "--rollback", str(backup), "--url", sqlite_url, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "the import manifest is damaged" in done.stderr.replace("\n", " ")
    assert counts(engine)["users"] == N_USERS
    engine.dispose()


DAMAGES = [
    (lambda m: m.update(added={"users": "all"}), "field 'added.users' is not a list of row ids"),
    (lambda m: m["keys"]["users"].pop(), "'keys.users' is not a list as long as 'added.users'"),
    (lambda m: m["keys"]["analytics_events"].__setitem__(0, [1, "login"]), "'keys.analytics_events' holds"),
    (lambda m: m.update(backed_up=["../../elsewhere.json"]), "field 'backed_up'"),
    (lambda m: m.update(database_id=None), "field 'database_id' is missing or not text"),
    (lambda m: m.pop("format"), "format is None, not 2"),
]


def test_damaged_manifests_are_refused(sqlite_url: str, export_dir: Path, tmp_path: Path) -> None:
    migrate.upgrade(sqlite_url)
    engine = make_engine(sqlite_url, use_env=False)
    sessions = make_session_factory(engine)
    backup = full_import(sessions, load_export(export_dir), tmp_path / "backups").backup_dir
    original = _manifest(backup)
    for edit, expected in DAMAGES:
        manifest = json.loads(json.dumps(original))
        edit(manifest)
        (backup / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(RollbackError, match="not a usable import manifest") as info:
            rollback(sessions, backup)
        assert expected in str(info.value)
    (backup / "manifest.json").write_text("[]")
    with pytest.raises(RollbackError, match="holds list, not an object"):
        rollback(sessions, backup)
    (backup / "manifest.json").unlink()
    with pytest.raises(RollbackError, match="cannot read the import manifest"):
        rollback(sessions, backup)
    (backup / "manifest.json").write_text(json.dumps(original))
    (backup / DATA_FILE).write_text("{}")
    with pytest.raises(RollbackError, match="does not match the checksum"):
        rollback(sessions, backup)
    assert counts(engine)["users"] == N_USERS
    engine.dispose()
