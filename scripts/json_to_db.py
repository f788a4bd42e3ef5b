"""Migrate a platform's JSON export (users_data.json, users_credentials.json) into the learner database.

    python scripts/json_to_db.py --mode dry-run --data-dir DIR      # validate and show the plan; writes nothing
    python scripts/json_to_db.py --mode full --init-db --data-dir DIR
    python scripts/json_to_db.py --rollback backups/backup_YYYYmmdd_HHMMSS

The database is --url, else KTLAB_DATABASE_URL (environment or .env), else data/ktlab.db. A full import adds
everything new in one transaction and leaves a private backup (users_data.json and a manifest, never the
PINs) in backups/backup_YYYYmmdd_HHMMSS/ (or under --backup-dir); rerunning it, even concurrently, adds
nothing twice. A rollback refuses a database other than the import's, and puts users_data.json back only
where nothing is in its way (beside a file changed since the import). See docs/database.md.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress
from rich.table import Table

from ktlab.cli import report_user_errors, setup_logging
from ktlab.db import migrate
from ktlab.db.engine import (
    engine_for_cli,
    has_schema,
    make_session_factory,
    masked,
    require_schema,
    sqlite_file_missing,
)
from ktlab.db.errors import RollbackError
from ktlab.db.import_rollback import rollback
from ktlab.db.json_import import ImportPlan, full_import, plan_import
from ktlab.db.platform_json import PlatformExport, load_export

log = logging.getLogger("json_to_db")


def _plan_table(plan: ImportPlan, title: str) -> Table:
    table = Table(title=title)
    for column in ("", "to add", "already stored (skipped)"):
        table.add_column(column, justify="right")
    table.add_row("users", str(len(plan.new_users)), str(plan.existing_users))
    table.add_row("skill profiles", str(plan.new_profiles), str(plan.existing_profiles))
    table.add_row("analytics events", str(plan.new_events), str(plan.existing_events))
    return table


def _dry_run(console: Console, export: PlatformExport, url: str | None) -> None:
    engine = engine_for_cli(url, create_dirs=False)
    try:
        if has_schema(engine):
            with make_session_factory(engine)() as session:
                plan = plan_import(session, export)
                session.rollback()
        else:
            console.print(
                f"[yellow]{masked(engine.url)} has no tables yet; a full run needs --init-db.[/yellow]"
            )
            plan = plan_import(None, export)
    finally:
        engine.dispose()
    console.print(_plan_table(plan, "Dry run"))
    console.print(f"Dry run of {export.data_dir} into {masked(engine.url)}: nothing written.", soft_wrap=True)
    console.print(
        f"{plan.pins_to_hash} plain PIN(s) would be hashed; {plan.users_without_pin} learner(s) have no PIN."
    )


@contextmanager
def _hashing_progress(console: Console, export: PlatformExport) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over the plain PINs of new learners, which are hashed before the import."""
    columns = (*Progress.get_default_columns(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"Hashing PINs, then importing {len(export.users)} learners", total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


def _exit_on_sigterm() -> None:
    """Turn SIGTERM into an exception, so an import stopped that way rolls back and removes its backup."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def _rollback(console: Console, backup_dir: str, url: str | None) -> None:
    engine = engine_for_cli(url, create_dirs=False)
    try:
        if sqlite_file_missing(engine):
            raise RollbackError(
                f"Cannot roll back {backup_dir}: there is no database at {masked(engine.url)}; nothing was "
                "removed. Pass --url of the database the import went into."
            )
        removed = rollback(make_session_factory(engine), backup_dir)
    finally:
        engine.dispose()
    console.print(f"Rolled back {backup_dir}: removed " + ", ".join(f"{n} {t}" for t, n in removed.items()))


@report_user_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument(
        "--mode", choices=["dry-run", "full"], help="dry-run: validate and plan; full: import"
    )
    action.add_argument("--rollback", metavar="BACKUP_DIR", help="undo the import recorded in BACKUP_DIR")
    parser.add_argument("--data-dir", help="folder holding users_data.json and users_credentials.json")
    parser.add_argument("--init-db", action="store_true", help="create or upgrade the schema first (alembic)")
    parser.add_argument(
        "--backup-dir", default="backups", help="where backup_YYYYmmdd_HHMMSS goes (default ./backups)"
    )
    parser.add_argument("--url", help="database URL (default: KTLAB_DATABASE_URL, .env, then data/ktlab.db)")
    parser.add_argument(
        "--hash-workers",
        type=int,
        default=None,
        metavar="N",
        help="threads hashing plain PINs (default: one per CPU core; ~60 ms per PIN and thread)",
    )
    args = parser.parse_args(argv)
    setup_logging()
    console = Console()
    if argv is None and sys.argv:  # run as a program, not called from Python
        _exit_on_sigterm()
    if args.rollback:
        _rollback(console, args.rollback, args.url)
        return
    if not args.data_dir:
        parser.error("--mode needs --data-dir")
    if args.hash_workers is not None and args.hash_workers < 1:
        parser.error(f"--hash-workers {args.hash_workers}: give at least 1")
    export = load_export(args.data_dir)
    if args.mode == "dry-run":
        _dry_run(console, export, args.url)
        return
    engine = engine_for_cli(args.url)
    try:
        if args.init_db:
            migrate.upgrade(engine.url.render_as_string(hide_password=False))
        require_schema(engine, ("users", "skill_profiles", "analytics_events"))
        with _hashing_progress(console, export) as advance:
            result = full_import(
                make_session_factory(engine),
                export,
                Path(args.backup_dir),
                hash_workers=args.hash_workers,
                progress=advance,
            )
    finally:
        engine.dispose()
    console.print(_plan_table(result.plan, "Imported"))
    console.print(f"Imported {export.data_dir} into {masked(engine.url)} in one transaction.", soft_wrap=True)
    console.print(f"Backup and manifest: {result.backup_dir}", soft_wrap=True)
    console.print(f"Undo with: python scripts/json_to_db.py --rollback {result.backup_dir}", soft_wrap=True)


if __name__ == "__main__":
    main()
