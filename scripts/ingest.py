"""Bulk-load an interaction file (CSV/TSV/Parquet in the ktlab schema) into exercise_responses.

    python scripts/ingest.py interactions.csv [--url URL] [--init-db]

The whole file is validated first; its answers are stored in one transaction (COPY on PostgreSQL).
Learners not in the database yet are created without a PIN. See docs/database.md.
"""

from __future__ import annotations

import argparse
import logging
import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ktlab.cli import report_user_errors, setup_logging
from ktlab.db import migrate
from ktlab.db.engine import engine_for_cli, make_session_factory, masked, require_schema
from ktlab.db.ingest import ingest_frame, read_interactions

log = logging.getLogger("ingest")


@report_user_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", help="interaction file (.csv, .tsv, .parquet)")
    parser.add_argument("--url", help="database URL (default: KTLAB_DATABASE_URL, .env, then data/ktlab.db)")
    parser.add_argument("--init-db", action="store_true", help="create or upgrade the schema first (alembic)")
    args = parser.parse_args(argv)
    setup_logging()
    start = time.perf_counter()
    frame, exercise_ids = read_interactions(args.file)
    engine = engine_for_cli(args.url)
    try:
        if args.init_db:
            migrate.upgrade(engine.url.render_as_string(hide_password=False))
        require_schema(engine)
        columns = [TextColumn("storing answers"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns) as bar, make_session_factory(engine).begin() as session:
            task = bar.add_task("ingest", total=len(frame))
            stored = ingest_frame(session, frame, args.file, exercise_ids, lambda n: bar.advance(task, n))
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - start
    print(
        f"stored {stored} answers in {masked(engine.url)} in {elapsed:.1f} s ({stored / elapsed:,.0f} answers/s)"
    )


if __name__ == "__main__":
    main()
