"""Alembic migrations: up, down, and no drift between the models and the migration scripts."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from ktlab.db import migrate
from ktlab.db.base import Base
from ktlab.db.engine import make_engine
from ktlab.db.errors import DatabaseError
from ktlab.db.models import User  # noqa: F401  (registers the tables)

TABLES = {
    "users",
    "exercise_responses",
    "skill_profiles",
    "parent_accounts",
    "parent_child_links",
    "analytics_events",
    "ml_models",
}


def _tables(url: str) -> set[str]:
    engine = make_engine(url, use_env=False)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_and_downgrade_removes_them(db_url: str) -> None:
    migrate.upgrade(db_url)
    assert _tables(db_url) >= TABLES
    assert set(Base.metadata.tables) == TABLES
    engine = make_engine(db_url, use_env=False)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()
    migrate.downgrade(db_url)
    assert _tables(db_url) & TABLES == set()
    migrate.upgrade(db_url)
    assert _tables(db_url) >= TABLES


def test_models_match_migrations(migrated_url: str) -> None:
    migrate.check(migrated_url)


def test_drift_is_detected(migrated_url: str) -> None:
    """The check must fail when the database lacks something the models have."""
    engine = make_engine(migrated_url, use_env=False)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_analytics_events_event_type")
    engine.dispose()
    with pytest.raises(DatabaseError, match="models and the migrations differ"):
        migrate.check(migrated_url)


def test_check_command_reports_state_and_unreachable(migrated_url: str, tmp_path) -> None:
    import os
    import subprocess
    import sys

    from .helpers import REPO_ROOT

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src"), "KTLAB_ROOT": str(REPO_ROOT)}
    env.pop("KTLAB_DATABASE_URL", None)

    def check(*args: str, extra: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "ktlab.db", "check", *args],
            cwd=tmp_path,
            env={**env, **(extra or {})},
            capture_output=True,
            text=True,
            timeout=60,
        )

    done = check("--url", migrated_url)
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout and ("SQLite" in done.stdout or "PostgreSQL" in done.stdout)
    # KTLAB_DATABASE_URL is used when no --url is given; a server that is not there is one clear error.
    done = check(extra={"KTLAB_DATABASE_URL": "postgresql+psycopg2://nobody@127.0.0.1:1/none"})
    assert done.returncode == 2
    assert (
        "Cannot reach the database at postgresql+psycopg2://nobody@127.0.0.1:1/none"
        in done.stderr.replace("\n", " ")
    )
    assert "Traceback" not in done.stderr


def _old_database(url: str) -> None:
    """A database at the first revision holding learners, answers and an event stored twice."""
    migrate.upgrade(url, "c0ba012d4ba2")
    engine = make_engine(url, use_env=False)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO users (id, username) VALUES (1, ' Alice '), (2, 'bob')")
        conn.exec_driver_sql(
            "INSERT INTO exercise_responses (user_id, t, exercise_id, skill_domain, is_correct) "
            "VALUES (1, 0, 'e', 'x', true), (1, 1, 'e', 'x', false), (2, 0, 'e', 'x', true)"
        )
        conn.exec_driver_sql(
            "INSERT INTO analytics_events (user_id, event_type, occurred_at) VALUES "
            "(1, 'login', '2024-10-02 17:30:00'), (1, 'login', '2024-10-02 17:30:00'), "
            "(1, 'logout', '2024-10-02 17:30:00')"
        )
    engine.dispose()


def test_upgrade_keeps_the_data_and_fills_the_keys(db_url: str) -> None:
    _old_database(db_url)
    migrate.upgrade(db_url)
    engine = make_engine(db_url, use_env=False)
    with engine.connect() as conn:
        users = conn.exec_driver_sql("SELECT id, username, username_key FROM users ORDER BY id").all()
        assert [tuple(u) for u in users] == [(1, "Alice", "alice"), (2, "bob", "bob")]
        # Rebuilding `users` on SQLite must not cascade into the answers.
        assert conn.exec_driver_sql("SELECT count(*) FROM exercise_responses").scalar() == 3
        events = conn.exec_driver_sql("SELECT event_type FROM analytics_events ORDER BY event_type").all()
        assert [e[0] for e in events] == ["login", "logout"]  # the repeat is gone
    engine.dispose()
    migrate.check(db_url)
    migrate.downgrade(db_url, "c0ba012d4ba2")
    migrate.upgrade(db_url)


def test_upgrade_refuses_names_that_become_one_account(db_url: str) -> None:
    _old_database(db_url)
    engine = make_engine(db_url, use_env=False)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO users (id, username) VALUES (3, 'ALICE')")
    engine.dispose()
    with pytest.raises(DatabaseError, match=r"the accounts ' Alice ' and 'ALICE' differ only by case"):
        migrate.upgrade(db_url)
    engine = make_engine(db_url, use_env=False)
    assert migrate.current_revision(engine) == "c0ba012d4ba2"  # nothing half-done
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE users SET username = 'carol' WHERE id = 3")
    engine.dispose()
    migrate.upgrade(db_url)


def test_migrations_default_to_the_engine_default_url(tmp_path, monkeypatch) -> None:
    """With no URL anywhere, Alembic migrates the same file as the scripts: data/ktlab.db under KTLAB_ROOT."""
    from alembic import command
    from alembic.config import Config

    from ktlab.db.engine import DEFAULT_SQLITE_FILE, default_url

    cfg = Config(str(migrate.find_alembic_ini()))
    cfg.attributes["configure_logger"] = False
    monkeypatch.setenv("KTLAB_ROOT", str(tmp_path))
    command.upgrade(cfg, "head")
    assert (tmp_path / DEFAULT_SQLITE_FILE).is_file()
    assert default_url() == f"sqlite:///{tmp_path / DEFAULT_SQLITE_FILE}"


def test_signal_ranges_come_from_the_schema(migrated_url: str) -> None:
    from sqlalchemy.exc import IntegrityError

    from ktlab.data.schema import ADJUSTMENTS, DIFFICULTY_RANGE

    engine = make_engine(migrated_url, use_env=False)
    insert = (
        "INSERT INTO exercise_responses (user_id, t, exercise_id, skill_domain, is_correct, difficulty, "
        "adjustment) VALUES (1, {t}, 'e', 'x', true, {d}, {a})"
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO users (id, username, username_key) VALUES (1, 'a', 'a')")
        conn.exec_driver_sql(insert.format(t=0, d=DIFFICULTY_RANGE[0], a=min(ADJUSTMENTS)))
        conn.exec_driver_sql(insert.format(t=1, d=DIFFICULTY_RANGE[1], a=max(ADJUSTMENTS)))
    for d, a in ((DIFFICULTY_RANGE[1] + 0.01, 0), (DIFFICULTY_RANGE[0], max(ADJUSTMENTS) + 1)):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.exec_driver_sql(insert.format(t=2, d=d, a=a))
    engine.dispose()
