"""Database commands: ``python -m ktlab.db check`` and ``python -m ktlab.db init``.

``check`` prints the database, its server and version, and its migration state, or exits with status 2
and one readable paragraph when the database cannot be reached. ``init`` creates or upgrades the schema
(``alembic upgrade head``). Both use ``--url``, else ``KTLAB_DATABASE_URL`` (environment or ``.env``), else
``data/ktlab.db``.
"""

from __future__ import annotations

import argparse
import logging

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from ktlab.cli import report_user_errors, setup_logging
from ktlab.db import migrate
from ktlab.db.engine import connect_error, engine_for_cli, masked, sqlite_file_missing
from ktlab.db.errors import DatabaseError

log = logging.getLogger("ktlab.db")


def server_version(engine: Engine) -> str:
    """The server's name and version, e.g. ``PostgreSQL 15.20`` or ``SQLite 3.40.1``."""
    if sqlite_file_missing(engine):
        raise DatabaseError(
            f"{masked(engine.url)}: the SQLite file does not exist. Create it with `python -m ktlab.db init` "
            "(or `alembic upgrade head`)."
        )
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                return f"SQLite {conn.scalar(text('SELECT sqlite_version()'))}"
            if engine.dialect.name == "postgresql":
                return f"PostgreSQL {conn.scalar(text('SHOW server_version'))}"
            info = engine.dialect.server_version_info or ()
            return f"{engine.dialect.name} {'.'.join(map(str, info))}"
    except SQLAlchemyError as err:
        raise connect_error(engine, err) from None


def migration_state(engine: Engine) -> str:
    """Where the schema stands against the migration scripts, in words."""
    current, head = migrate.current_revision(engine), migrate.head_revision()
    if current is None:
        return f"not migrated (head is {head}): run `python -m ktlab.db init` or `alembic upgrade head`"
    if current == head:
        return f"at head {head} (up to date)"
    return f"at {current}, head is {head}: run `alembic upgrade head`"


@report_user_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ktlab.db", description=__doc__.splitlines()[0])
    parser.add_argument(
        "command", choices=["check", "init"], help="check: report; init: create or upgrade the schema"
    )
    parser.add_argument("--url", help="database URL (default: KTLAB_DATABASE_URL, .env, then data/ktlab.db)")
    args = parser.parse_args(argv)
    setup_logging(logging.WARNING)
    engine = engine_for_cli(args.url, create_dirs=args.command == "init")
    try:
        if args.command == "init":
            migrate.upgrade(engine.url.render_as_string(hide_password=False))
        version = server_version(engine)
        state = migration_state(engine)
    finally:
        engine.dispose()
    print(f"database:  {masked(engine.url)}")
    print(f"server:    {version}")
    print(f"migration: {state}")


if __name__ == "__main__":
    main()
