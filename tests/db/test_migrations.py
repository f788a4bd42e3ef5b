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
