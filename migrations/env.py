"""Alembic environment of the learner database.

The URL is, in order: ``-x url=...`` on the command line, ``config.attributes["url"]`` (set by
:func:`ktlab.db.migrate.alembic_config`), ``KTLAB_DATABASE_URL`` (environment or ``.env``), then the embedded default of
:func:`ktlab.db.engine.default_url` (``data/ktlab.db`` under ``KTLAB_ROOT`` or the current directory, the
same file as the scripts and ``train.py`` use).
"""

from __future__ import annotations

import sys
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import Connection, Engine, event

from ktlab.db import models  # noqa: F401  (registers the tables on Base.metadata)
from ktlab.db.base import Base
from ktlab.db.engine import ENV_VAR, default_url, env_url, make_engine
from ktlab.db.errors import DatabaseError

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    """The URL these migrations run against (see the module docstring)."""
    explicit = context.get_x_argument(as_dictionary=True).get("url") or config.attributes.get("url")
    if explicit:
        return explicit
    from_env = env_url()
    if from_env:
        return from_env
    return default_url()


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    dialect = connection.dialect.name if connection is not None else url.split(":", 1)[0].split("+")[0]
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=False,
        render_as_batch=dialect == "sqlite",
        literal_binds=connection is None,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``) without connecting."""
    _configure(url=database_url())
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_transactions(engine: Engine) -> None:
    """Make SQLite migrations transactional: a failed one leaves no column or table half-changed.

    Python's sqlite3 driver runs DDL outside any transaction; emitting BEGIN ourselves (the recipe of the
    SQLAlchemy SQLite dialect documentation) makes every statement of a revision part of one transaction.
    """

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def _origin() -> str:
    """Where :func:`database_url` found the URL, for messages."""
    if context.get_x_argument(as_dictionary=True).get("url"):
        return "-x url"
    return "the caller" if config.attributes.get("url") else (ENV_VAR if env_url() else "the default")


def run_migrations_online() -> None:
    """Run the migrations on a live connection (one transaction)."""
    try:
        engine = make_engine({"url": database_url()}, use_env=False, origin=_origin())
    except DatabaseError as err:
        if config.cmd_opts is None:  # called from Python (ktlab.db.migrate): the caller reports it
            raise
        print(f"error: {err}", file=sys.stderr)  # the alembic command: one paragraph, exit 2
        raise SystemExit(2) from None
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        _sqlite_transactions(engine)
    try:
        with engine.connect() as connection:
            raw = connection.connection.driver_connection
            if sqlite:
                # Batch operations rebuild a table (copy, drop, rename). With foreign keys on, dropping
                # `users` would cascade into every learner's answers, so they are off while migrating (the
                # pragma only works outside a transaction) and checked over every row afterwards.
                raw.execute("PRAGMA foreign_keys=OFF")
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = raw.execute("PRAGMA foreign_key_check").fetchall()
                raw.execute("PRAGMA foreign_keys=ON")
                if broken:
                    raise RuntimeError(f"the migration left {len(broken)} row(s) with a dangling foreign key")
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
