"""Engines and sessions built from the ``db`` config group, never at import time.

The URL comes from, in order: the ``KTLAB_DATABASE_URL`` environment variable, a ``KTLAB_DATABASE_URL``
line of a ``.env`` file in the current directory, then ``db.url``. Alembic (``migrations/env.py``), the
scripts and ``train.py`` all resolve it here, so one variable points all of them at the same database.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ktlab.db.errors import DatabaseError

log = logging.getLogger(__name__)

ENV_VAR = "KTLAB_DATABASE_URL"
POOL_KEYS: tuple[str, ...] = ("pool_size", "max_overflow", "pool_timeout", "pool_recycle", "pool_pre_ping")
DEFAULT_POOL: dict[str, Any] = {
    "pool_size": 10,
    "max_overflow": 20,
    "pool_timeout": 30,
    "pool_recycle": 3600,
    "pool_pre_ping": True,
}
SQLITE_BUSY_TIMEOUT_S = 30
#: The embedded default database, relative to the project root (``KTLAB_ROOT``, else the current
#: directory). This is the one definition in code: scripts, ``python -m ktlab.db`` and ``migrations/env.py``
#: use :func:`default_url`; ``conf/db/sqlite.yaml`` spells the same file as ``${paths.data_dir}/ktlab.db``
#: for Hydra runs, where ``paths.data_dir`` is ``${paths.root_dir}/data``.
DEFAULT_SQLITE_FILE = Path("data") / "ktlab.db"

DbConfig = Mapping[str, Any] | str | None


def env_url() -> str | None:
    """The URL of ``KTLAB_DATABASE_URL`` in the environment, else in ``./.env``, else None."""
    url = os.environ.get(ENV_VAR)
    if url:
        return url
    dotenv = Path.cwd() / ".env"
    if dotenv.is_file():
        value = dotenv_values(dotenv).get(ENV_VAR)
        if value:
            return value
    return None


def _config_dict(db_cfg: DbConfig) -> dict[str, Any]:
    if db_cfg is None:
        return {}
    if isinstance(db_cfg, str):
        return {"url": db_cfg}
    return {str(k): v for k, v in dict(db_cfg).items()}


def resolve_url(db_cfg: DbConfig = None, use_env: bool = True) -> str:
    """Pick the database URL: ``KTLAB_DATABASE_URL`` (environment, then ``.env``), else ``db.url``.

    Args:
        db_cfg: the ``db`` config or a URL.
        use_env: False to take ``db.url`` as given (an explicit ``--url`` or ``-x url=``).

    Raises:
        DatabaseError: no URL anywhere.
    """
    configured = _config_dict(db_cfg).get("url")
    from_env = env_url() if use_env else None
    if from_env:
        if configured and str(configured) != from_env:
            log.info("%s is set; it takes precedence over db.url", ENV_VAR)
        return from_env
    if configured:
        return str(configured)
    raise DatabaseError(
        f"No database URL: set {ENV_VAR} (in the environment or a .env file in the current directory) "
        "or db.url, e.g. postgresql+psycopg2://user@host:5432/ktlab or sqlite:///data/ktlab.db."
    )


def parse_url(url: str) -> URL:
    """Parse a URL, wrapping SQLAlchemy's error into a :class:`DatabaseError`."""
    try:
        return make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"'{url}' is not a database URL; use dialect+driver://user@host:port/name, e.g. "
            "postgresql+psycopg2://postgres@127.0.0.1:5432/ktlab or sqlite:///data/ktlab.db."
        ) from None


def masked(url: str | URL) -> str:
    """The URL with its password hidden, for logs and messages."""
    parsed = url if isinstance(url, URL) else parse_url(url)
    return parsed.render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.close()


#: The driver each server backend is used with here, for a URL that names none (``postgresql://``).
DRIVERS = {"postgresql": "psycopg2"}


def _url_origin(db_cfg: DbConfig, use_env: bool) -> str:
    """Where a URL resolved by :func:`resolve_url` came from, for messages (a URL given alone: ``--url``)."""
    if use_env and env_url():
        return ENV_VAR
    return "--url" if isinstance(db_cfg, str) and not use_env else "db.url"


def _engine_error(url: URL, origin: str, err: Exception) -> DatabaseError:
    """One paragraph for a URL no engine can be built for (a driver that is not installed, most often)."""
    backend, driver = url.get_backend_name(), DRIVERS.get(url.get_backend_name())
    hint = ""
    if driver and url.get_driver_name() != driver:
        fixed = url.set(drivername=f"{backend}+{driver}")
        given = f"{origin} " if origin.startswith("--") else f"{origin}="
        hint = (
            f" ktlab uses {backend} through {driver}: write {backend}+{driver}://..., i.e. "
            f"{given}{masked(fixed)}."
        )
    return DatabaseError(f"Cannot build an engine for {masked(url)} (from {origin}): {err}.{hint}")


def make_engine(
    db_cfg: DbConfig = None, use_env: bool = True, create_dirs: bool = True, origin: str | None = None
) -> Engine:
    """Build an engine from the ``db`` config (a mapping with ``url``, ``echo`` and pool keys, or a URL).

    PostgreSQL (and other server backends) get the pool settings of the config (defaults: size 10,
    overflow 20, timeout 30 s, recycle 3600 s, pre-ping). SQLite files get foreign keys, WAL and a busy
    timeout; their parent folder is created. Nothing is connected until first use.

    Args:
        db_cfg: the ``db`` config, or a URL.
        use_env: False to ignore ``KTLAB_DATABASE_URL`` (the URL was given explicitly).
        create_dirs: create the parent folder of a SQLite file (False for read-only work).
        origin: where the URL came from, named in messages (default: ``KTLAB_DATABASE_URL`` or ``db.url``).

    Raises:
        DatabaseError: no URL, a malformed URL, or a driver that is not installed.
    """
    cfg = _config_dict(db_cfg)
    url = parse_url(resolve_url(cfg, use_env=use_env))
    kwargs: dict[str, Any] = {"echo": bool(cfg.get("echo", False))}
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if create_dirs and database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
    else:
        kwargs.update({k: cfg.get(k, DEFAULT_POOL[k]) for k in POOL_KEYS})
    try:
        engine = create_engine(url, **kwargs)
    except (NoSuchModuleError, ArgumentError, ImportError) as err:
        raise _engine_error(url, origin or _url_origin(db_cfg, use_env), err) from None
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    log.debug("engine for %s", masked(url))
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; callers own transactions (``with factory.begin() as session:``)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def connect_error(engine: Engine, err: SQLAlchemyError) -> DatabaseError:
    """Turn a low-level failure into one readable paragraph (a connection failure, or what the server said)."""
    detail = str(getattr(err, "orig", err) or err).strip().splitlines()
    first = detail[0] if detail else type(err).__name__
    if not isinstance(err, OperationalError):
        return DatabaseError(
            f"The database at {masked(engine.url)} refused a query ({type(err).__name__}: {first})."
        )
    return DatabaseError(
        f"Cannot reach the database at {masked(engine.url)} ({first}). Is the server running and the URL "
        f"right? The URL comes from {ENV_VAR} (environment or .env) or db.url."
    )


def require_schema(engine: Engine, tables: tuple[str, ...] = ("users", "exercise_responses")) -> None:
    """Check that the database is reachable and holds ``tables``.

    A SQLite file that does not exist is reported as such and not created (connecting would create it).

    Raises:
        DatabaseError: the database cannot be reached, its SQLite file does not exist, or a table is missing.
    """
    if sqlite_file_missing(engine):
        raise DatabaseError(
            f"There is no database file {engine.url.database} (of {masked(engine.url)}); nothing was "
            "created. "
            "Check the URL, or create the database and its schema with `python -m ktlab.db init --url URL` "
            "(or `alembic upgrade head`)."
        )
    try:
        with engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
    except SQLAlchemyError as err:
        raise connect_error(engine, err) from None
    missing = [t for t in tables if t not in present]
    if missing:
        raise DatabaseError(
            f"The database at {masked(engine.url)} has no table {', '.join(missing)}: its schema was never "
            "created. Run `alembic upgrade head` (or `python -m ktlab.db init`) first."
        )


def sqlite_file_missing(engine: Engine) -> bool:
    """True for a SQLite engine whose file does not exist yet (connecting would create it)."""
    if engine.url.get_backend_name() != "sqlite":
        return False
    database = engine.url.database or ""
    return bool(database) and database != ":memory:" and not Path(database).expanduser().exists()


def has_schema(engine: Engine, tables: tuple[str, ...] = ("users",)) -> bool:
    """Whether the database holds ``tables``, without creating a missing SQLite file.

    Raises:
        DatabaseError: the server cannot be reached.
    """
    if sqlite_file_missing(engine):
        return False
    try:
        with engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
    except SQLAlchemyError as err:
        raise connect_error(engine, err) from None
    return all(t in present for t in tables)


def default_url() -> str:
    """The embedded default: :data:`DEFAULT_SQLITE_FILE` under ``KTLAB_ROOT`` or the current directory."""
    root = Path(os.environ.get("KTLAB_ROOT") or Path.cwd())
    return f"sqlite:///{root / DEFAULT_SQLITE_FILE}"


def engine_for_cli(url: str | None, create_dirs: bool = True) -> Engine:
    """The engine of a script: ``--url`` when given, else ``KTLAB_DATABASE_URL``/``.env``, else :func:`default_url`."""
    if url:
        return make_engine(url, use_env=False, create_dirs=create_dirs, origin="--url")
    return make_engine(default_url(), create_dirs=create_dirs, origin=ENV_VAR if env_url() else "the default")


def database_identity(connection: Connection) -> str:
    """What identifies the database behind ``connection``, however its URL is spelled.

    SQLite: the real path of the file. PostgreSQL: the cluster's system identifier (or the server's
    address and port when it cannot be read), the database and the current schema. Two URLs for the same
    database give the same identity; a copy restored on another server does not.
    """
    url = connection.engine.url
    if url.get_backend_name() == "sqlite":
        database = url.database or ":memory:"
        if database == ":memory:" or database.startswith("file:"):
            return f"sqlite:{database}"
        return f"sqlite:{os.path.realpath(Path(database).expanduser())}"
    if url.get_backend_name() == "postgresql":
        name, schema = connection.execute(text("SELECT current_database(), current_schema()")).one()
        try:
            with connection.begin_nested():
                server = str(connection.scalar(text("SELECT system_identifier FROM pg_control_system()")))
        except SQLAlchemyError:
            address, port = connection.execute(text("SELECT inet_server_addr(), inet_server_port()")).one()
            server = f"{address or url.host}:{port or url.port}"
        return f"postgresql:{server}/{name}/{schema}"
    return masked(url)
