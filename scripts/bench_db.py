"""Benchmark the learner database and print one JSON object (progress goes to stderr).

    python scripts/bench_db.py [--url URL] [--answers 1000000] [--users 1000] [--writers 20 --per-writer 500]

Default: the local PostgreSQL server (postgresql+psycopg2://postgres@127.0.0.1:5432/test). The run works in a
fresh schema (PostgreSQL) or a temporary file (SQLite), dropped at the end unless --keep. It measures:

* ingestion of --answers answers from a Parquet file (read, validate, COPY, commit), in answers/s;
* a full JSON import of --users learners with profiles and events: with plain PINs (scrypt-hashed on import)
  and with PINs hashed beforehand (the database work alone);
* with the answers stored: a learner by id, and a learner's skill profiles with the 20 latest answers
  (p50/p95 over --queries random learners), once with a fresh pooled session per query (the pre-ping
  round trip included) and once on one warm connection, as a serving process keeps;
* --writers threads each storing --per-writer answers, one transaction per answer: all stored, none twice.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import case, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from ktlab.cli import report_user_errors, setup_logging
from ktlab.data.schema import PHASES
from ktlab.db import migrate
from ktlab.db.engine import make_engine, make_session_factory, masked
from ktlab.db.ingest import add_answer, ensure_users, ingest_file
from ktlab.db.json_import import full_import
from ktlab.db.models import ExerciseResponse, SkillProfile
from ktlab.db.platform_json import load_export
from ktlab.db.platform_sample import write_platform_export
from ktlab.db.queries import get_user, learner_overview
from ktlab.db.security import ScryptCost, hash_secrets

DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
err = Console(stderr=True)


def make_answers(n_answers: int, per_learner: int = 100, seed: int = 0) -> pd.DataFrame:
    """``n_answers`` random answers in the ktlab schema, ``per_learner`` per learner, 8 skills."""
    rng = np.random.default_rng(seed)
    n_learners = max(1, n_answers // per_learner)
    student = np.repeat(np.arange(n_learners), per_learner)[:n_answers]
    t = np.tile(np.arange(per_learner), n_learners)[:n_answers]
    return pd.DataFrame(
        {
            "student_id": pd.Series(student).map("s{:06d}".format),
            "t": t,
            "skill_id": pd.Series(rng.integers(0, 8, n_answers)).map("skill{}".format),
            "correct": rng.integers(0, 2, n_answers),
            "difficulty": np.round(rng.uniform(0.2, 0.9, n_answers), 2),
            "adjustment": rng.integers(-1, 2, n_answers),
            "time_spent": np.round(rng.gamma(2.0, 10.0, n_answers) + 0.5, 3),
            "motivation": np.round(rng.uniform(0, 1, n_answers), 4),
            "anxiety_level": np.round(rng.uniform(0, 1, n_answers), 4),
            "phase_type": rng.choice(PHASES, n_answers),
        }
    )


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    return {
        "p50_ms": round(statistics.median(ms), 3),
        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 3),
        "n": len(ms),
    }


def isolated_url(url: str, tmp: Path) -> tuple[str, Any]:
    """A URL on a fresh schema (PostgreSQL) or a fresh file (SQLite), and a cleanup function."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}", lambda: None
    schema = f"ktlab_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(parsed)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    scoped = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False), drop


def bench_import(sessions, tmp: Path, n_users: int, prehashed: bool) -> dict[str, Any]:
    folder = write_platform_export(tmp / f"export_{prehashed}", n_users, seed=1 + prehashed)
    if prehashed:
        for name in ("users_data.json", "users_credentials.json"):
            content = json.loads((folder / name).read_text())
            if name == "users_credentials.json":
                hashes = hash_secrets([c["pin"] for c in content.values()], cost=ScryptCost(n=2**10))
                content = {k: {"pin_hash": h} for k, h in zip(content, hashes, strict=True)}
            (folder / name).write_text(json.dumps({f"pre_{k}": v for k, v in content.items()}))
    export = load_export(folder)
    hashing: list[float] = []  # times of the progress calls: first and last bound the PIN hashing

    def progress(done: int, total: int) -> None:
        hashing.append(time.perf_counter())

    start = time.perf_counter()
    result = full_import(sessions, export, tmp / "backups", progress=progress)
    seconds = time.perf_counter() - start
    hashing_s = hashing[-1] - hashing[0] if hashing else 0.0
    return {
        "seconds": round(seconds, 3),
        "pin_hashing_s": round(hashing_s, 3),
        "database_s": round(seconds - hashing_s, 3),
        "users": len(result.added["users"]),
        "skill_profiles": len(result.added["skill_profiles"]),
        "analytics_events": len(result.added["analytics_events"]),
    }


def concurrent_writers(engine, sessions, writers: int, per_writer: int) -> dict[str, Any]:
    with sessions.begin() as session:
        ids = ensure_users(session, [f"writer{k:02d}" for k in range(writers)])
    errors: list[str] = []

    def write(k: int) -> None:
        try:
            for i in range(per_writer):
                with sessions.begin() as session:
                    add_answer(
                        session,
                        ids[f"writer{k:02d}"],
                        t=float(i),
                        skill_domain="fractions",
                        is_correct=bool(i % 2),
                    )
        except Exception as exc:  # reported in the JSON
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=write, args=(k,)) for k in range(writers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    with engine.connect() as conn:
        where = ExerciseResponse.user_id.in_(list(ids.values()))
        stored = conn.scalar(select(func.count()).where(where))
        distinct = conn.scalar(
            select(func.count()).select_from(
                select(ExerciseResponse.user_id, ExerciseResponse.t).where(where).distinct().subquery()
            )
        )
    expected = writers * per_writer
    return {
        "writers": writers,
        "answers_each": per_writer,
        "seconds": round(seconds, 3),
        "answers_per_s": round(expected / seconds),
        "stored": stored,
        "expected": expected,
        "duplicates": stored - distinct,
        "all_stored_once": stored == expected == distinct and not errors,
        "errors": errors[:3],
    }


@report_user_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=DEFAULT_URL, help=f"database server (default {DEFAULT_URL})")
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument(
        "--users", type=int, default=1000, help="learners of the JSON import (pre-hashed PINs)"
    )
    parser.add_argument(
        "--pin-users",
        type=int,
        default=200,
        help="learners of the import with plain PINs (scrypt costs ~50-70 ms each)",
    )
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--per-writer", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark schema or file")
    args = parser.parse_args(argv)
    setup_logging(30)
    out: dict[str, Any] = {"cpu_cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        url, cleanup = isolated_url(args.url, tmp)
        try:
            migrate.upgrade(url)
            engine = make_engine({"url": url, "pool_size": 10, "max_overflow": 20}, use_env=False)
            sessions = make_session_factory(engine)
            with engine.connect() as conn:
                out["database"] = masked(engine.url)
                out["server"] = (
                    conn.execute(
                        text(
                            "SELECT version()"
                            if engine.dialect.name == "postgresql"
                            else "SELECT 'SQLite ' || sqlite_version()"
                        )
                    )
                    .scalar()
                    .split(" on ")[0]
                )

            err.print(f"generating {args.answers:,} answers")
            path = tmp / "answers.parquet"
            make_answers(args.answers).to_parquet(path, index=False)
            with Progress(console=err) as bar:
                task = bar.add_task("ingesting", total=args.answers)
                start = time.perf_counter()
                with sessions.begin() as session:
                    stored = ingest_file(session, path, lambda n: bar.advance(task, n))
                seconds = time.perf_counter() - start
            out["ingest"] = {
                "answers": stored,
                "seconds": round(seconds, 3),
                "answers_per_s": round(stored / seconds),
            }

            err.print("skill profiles of the ingested learners")
            with sessions.begin() as session:
                grouped = select(
                    ExerciseResponse.user_id,
                    ExerciseResponse.skill_domain,
                    func.avg(case((ExerciseResponse.is_correct, 1.0), else_=0.0)),
                    func.count(),
                ).group_by(ExerciseResponse.user_id, ExerciseResponse.skill_domain)
                session.execute(
                    insert(SkillProfile).from_select(
                        ["user_id", "domain", "proficiency", "attempts"], grouped
                    )
                )
            if engine.dialect.name == "postgresql":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("ANALYZE"))

            err.print(
                f"importing {args.users} learners from JSON with pre-hashed PINs, {args.pin_users} with plain PINs"
            )
            out["import_users_prehashed_pins"] = bench_import(sessions, tmp, args.users, prehashed=True)
            plain = bench_import(sessions, tmp, args.pin_users, prehashed=False)
            plain["ms_per_user"] = round(1000 * plain["seconds"] / max(1, args.pin_users), 2)
            plain[f"extrapolated_{args.users}_users_s"] = round(plain["ms_per_user"] * args.users / 1000, 1)
            out["import_users_plain_pins"] = plain

            err.print("queries")
            with engine.connect() as conn:
                user_ids = conn.scalars(select(ExerciseResponse.user_id).distinct()).all()
            rng = np.random.default_rng(0)
            picks = [int(u) for u in rng.choice(user_ids, args.queries)]
            by_id, overview, by_id_warm, overview_warm = [], [], [], []
            for uid in picks:
                with sessions() as session:
                    start = time.perf_counter()
                    assert get_user(session, uid) is not None
                    by_id.append(time.perf_counter() - start)
                with sessions() as session:
                    start = time.perf_counter()
                    view = learner_overview(session, uid, recent=20)
                    overview.append(time.perf_counter() - start)
                    assert view is not None and len(view.recent_answers) == 20 and view.profiles
            # A serving process keeps its connection: the same queries on one open session, its
            # identity map emptied after each so every lookup goes to the database.
            with sessions() as session:
                for uid in picks:
                    start = time.perf_counter()
                    assert get_user(session, uid) is not None
                    by_id_warm.append(time.perf_counter() - start)
                    session.expunge_all()
                    start = time.perf_counter()
                    view = learner_overview(session, uid, recent=20)
                    overview_warm.append(time.perf_counter() - start)
                    session.expunge_all()
            with engine.connect() as conn:
                total = conn.scalar(select(func.count()).select_from(ExerciseResponse))
            out["queries"] = {
                "answers_stored": total,
                "user_by_id": percentiles(by_id),
                "profiles_with_recent_answers": percentiles(overview),
                "user_by_id_warm_connection": percentiles(by_id_warm),
                "profiles_with_recent_answers_warm_connection": percentiles(overview_warm),
            }

            err.print(f"{args.writers} concurrent writers x {args.per_writer} answers")
            out["concurrent_writers"] = concurrent_writers(engine, sessions, args.writers, args.per_writer)
            engine.dispose()
        finally:
            if not args.keep:
                cleanup()
    out["targets"] = {
        "ingest >= 50000 answers/s": out["ingest"]["answers_per_s"] >= 50_000,
        f"import {args.users} users < 3 s (pre-hashed PINs)": out["import_users_prehashed_pins"]["seconds"]
        < 3,
        f"import {args.users} users < 3 s (plain PINs hashed, extrapolated)": plain[
            f"extrapolated_{args.users}_users_s"
        ]
        < 3,
        "user by id p50 < 1 ms (fresh session)": out["queries"]["user_by_id"]["p50_ms"] < 1,
        "user by id p50 < 1 ms (warm connection)": out["queries"]["user_by_id_warm_connection"]["p50_ms"] < 1,
        "profiles + recent answers p50 < 5 ms": out["queries"]["profiles_with_recent_answers"]["p50_ms"] < 5,
        "concurrent writers: all stored once": out["concurrent_writers"]["all_stored_once"],
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
