"""Fixtures of the database tests: a fresh SQLite file, a fresh PostgreSQL schema, and both.

PostgreSQL cases run whenever the server of ``KTLAB_TEST_POSTGRES_URL`` (default the local server's
``test`` database) is reachable, and skip with the reason otherwise. Each test gets its own schema
(``search_path``), created and dropped here, so runs on a shared server never see each other's rows.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ktlab.db import migrate
from ktlab.db.engine import make_engine, make_session_factory

DEFAULT_PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
REPO_ROOT = Path(__file__).resolve().parents[2]


def postgres_admin_url() -> str:
    return os.environ.get("KTLAB_TEST_POSTGRES_URL", DEFAULT_PG_URL)


@functools.cache
def postgres_unreachable() -> str | None:
    """None when the test server answers, else why it does not."""
    url = postgres_admin_url()
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as err:  # any failure means "skip"; the reason is shown
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return f"PostgreSQL at {make_url(url).render_as_string(hide_password=True)} unreachable: {first}"
    return None


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No KTLAB_DATABASE_URL and no .env of the developer may leak into a test."""
    monkeypatch.delenv("KTLAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("KTLAB_ROOT", str(REPO_ROOT))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file URL in the test's temporary folder (the file does not exist yet)."""
    return f"sqlite:///{tmp_path / 'ktlab.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose ``search_path`` is a fresh schema, dropped after the test."""
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    admin = create_engine(postgres_admin_url())
    schema = f"ktlab_test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_admin_url()).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database: a SQLite file, then a PostgreSQL schema."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def migrated_url(db_url: str) -> str:
    """An empty database migrated to the newest revision."""
    migrate.upgrade(db_url)
    return db_url


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    """An engine on a migrated database (the URL is taken as given)."""
    eng = make_engine(migrated_url, use_env=False)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory on the migrated database."""
    return make_session_factory(engine)
