"""Alembic environment of the learner database.

The URL is, in order: ``-x url=...`` on the command line, ``config.attributes["url"]`` (set by
:func:`ktlab.db.migrate.alembic_config`), ``KTLAB_DATABASE_URL`` (environment or ``.env``), then the embedded default of
:func:`ktlab.db.engine.default_url` (``data/ktlab.db`` under ``KTLAB_ROOT`` or the current directory, the
same file as the scripts and ``train.py`` use).
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from ktlab.db import models  # noqa: F401  (registers the tables on Base.metadata)
from ktlab.db.base import Base
from ktlab.db.engine import default_url, env_url, make_engine

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


def run_migrations_online() -> None:
    """Run the migrations on a live connection."""
    engine = make_engine({"url": database_url()}, use_env=False)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # Batch operations rebuild a table (copy, drop, rename). With foreign keys on, dropping
                # `users` would cascade into every learner's answers, so they are off while migrating (the
                # pragma only works outside a transaction) and checked over every row afterwards.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
                if broken:
                    raise RuntimeError(f"the migration left {len(broken)} row(s) with a dangling foreign key")
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
