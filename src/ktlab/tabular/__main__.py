"""Operator commands on the learner database: at-risk lists, mastery timelines, next levels.

    python -m ktlab.tabular at-risk --domain multiplication --horizon-days 7 [--top 20] [--json]
    python -m ktlab.tabular timeline --user 12 --domain fractions --target 0.8
    python -m ktlab.tabular recommend --user alice --domain fractions

A learner is a ``users.id`` or a username; tables name learners by both and fit 80 columns.

The database is that of ``--url``, else ``KTLAB_DATABASE_URL`` (environment or ``.env``), else
``data/ktlab.db``. The model is ``--model PATH``, else the active version of ``performance_rf`` (or
``difficulty_xgb`` for ``recommend``) in the database's ``ml_models``.
"""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

import pandas as pd
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from ktlab.cli import report_user_errors, setup_logging
from ktlab.db.engine import (
    connect_error,
    default_url,
    engine_for_cli,
    env_url,
    make_session_factory,
    require_schema,
)
from ktlab.db.registry import active_model
from ktlab.tabular.data import PlatformData
from ktlab.tabular.dbdata import load_db
from ktlab.tabular.errors import ModelFileError, TabularError
from ktlab.tabular.io import SHA256_KEY, load_model
from ktlab.tabular.report import WIDTH, print_at_risk, print_record, username_of, with_usernames

log = logging.getLogger(__name__)


def _url(args: argparse.Namespace) -> tuple[str, bool]:
    if args.url:
        return args.url, False
    return env_url() or default_url(), True


def _model(args: argparse.Namespace, name: str) -> Any:
    if args.model:
        return load_model(args.model)[0]
    engine = engine_for_cli(args.url, create_dirs=False)
    try:
        require_schema(engine, ("ml_models",))
        with make_session_factory(engine)() as session:
            row = active_model(session, name)
    except SQLAlchemyError as err:
        raise connect_error(engine, err) from None
    finally:
        engine.dispose()
    if row is None or not row.artifact_path:
        raise ModelFileError(
            f"No active '{name}' model in ml_models: train one with `python train_tabular.py model={name} "
            "data=db`, or pass --model PATH."
        )
    where = f"ml_models row {row.id} ({row.name} version {row.version})"
    recorded = (row.config or {}).get(SHA256_KEY)
    if not isinstance(recorded, str):
        raise ModelFileError(
            f"{where} records no sha256 of its model file {row.artifact_path} (config.{SHA256_KEY}), so the "
            f"file cannot be checked and was not loaded. Train the model again with `python train_tabular.py "
            f"model={name} data=db`, or pass --model PATH of a model file you trust."
        )
    return load_model(row.artifact_path, sha256=recorded, recorded_by=where)[0]


def _user(value: str, data: PlatformData) -> Any:
    """The ``student_id`` of a learner given by ``users.id`` or by username, with answers in the data."""
    names = data.learners.get("username")
    if names is not None and value in set(names.dropna()):
        return data.learners.loc[names == value, "student_id"].iloc[0]
    user = int(value) if value.isdigit() else value
    if user not in set(data.answers["student_id"]):
        raise TabularError(
            f"Learner {value!r} has no answers in {data.source}; check --user/--users (a users.id or a "
            "username)."
        )
    return user


def _timestamp(value: str) -> pd.Timestamp:
    """An ``--at`` value: ISO 8601, UTC without a zone (argparse type)."""
    try:
        at = pd.Timestamp(value)
    except (ValueError, TypeError):
        at = pd.NaT
    if pd.isna(at):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a point in time; write ISO 8601, e.g. 2024-09-30 or 2024-09-30T18:00 (UTC "
            "unless a zone is given)"
        )
    return at.tz_convert("UTC").tz_localize(None) if at.tzinfo is not None else at


def _count(value: str) -> int:
    """A ``--top`` value: a number of learners >= 1 (argparse type)."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a number of learners >= 1 (leave --top out for all)"
        )
    return number


def _at(args: argparse.Namespace, data: PlatformData) -> pd.Timestamp | None:
    """``--at``, refused when no answer precedes it (nothing to predict from)."""
    if args.at is None:
        return None
    first, last = data.answers["timestamp"].min(), data.answers["timestamp"].max()
    if args.at <= first:
        raise TabularError(
            f"--at {args.at}: the first answer in {data.source} is at {first}, so no learner has any "
            f"history then. Pick a time after it (the last answer is at {last}), or leave --at out for just "
            "after the last answer."
        )
    return args.at


def _width() -> int:
    return min(Console().width, WIDTH)


def at_risk(args: argparse.Namespace) -> None:
    model = _model(args, "performance_rf")
    url, use_env = _url(args)
    data = load_db(url, use_env=use_env)
    users = [_user(u, data) for u in args.users.split(",")] if args.users else None
    table = model.identify_at_risk_learners(users, args.domain, args.horizon_days, data, at=_at(args, data))
    table = with_usernames(table, data)
    if args.top:
        table = table.head(args.top)
    if args.json:
        print(table.to_json(orient="records", date_format="iso"))
        return
    print_at_risk(table, f"Learners at risk in {args.domain} over {args.horizon_days:g} days", _width())


def timeline(args: argparse.Namespace) -> None:
    model = _model(args, "performance_rf")
    url, use_env = _url(args)
    data = load_db(url, use_env=use_env)
    user = _user(args.user, data)
    result = model.predict_mastery_timeline(user, args.domain, args.target, data, at=_at(args, data))
    record = {"username": username_of(user, data), **result.__dict__}
    if args.json:
        print(json.dumps(record, default=str))
        return
    print_record(record, f"Mastery timeline in {args.domain}", _width())


def recommend(args: argparse.Namespace) -> None:
    model = _model(args, "difficulty_xgb")
    url, use_env = _url(args)
    data = load_db(url, use_env=use_env)
    user = _user(args.user, data)
    rec = model.recommend(data, user, args.domain, at=_at(args, data))
    name = username_of(user, data)
    if args.json:
        print(json.dumps({"username": name, **rec.__dict__}, default=str))
        return
    console = Console(width=_width())
    who = f"{name} (id {rec.student_id})" if name else f"id {rec.student_id}"
    console.print(f"Level {rec.level} for learner {who} in {rec.domain}")
    console.print(
        "Predicted success by level: " + ", ".join(f"{k}: {v:.2f}" for k, v in rec.success_by_level.items())
    )
    for reason in rec.reasons:
        console.print(f"- {reason}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ktlab.tabular", description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="database URL (default: KTLAB_DATABASE_URL, else data/ktlab.db)")
    parser.add_argument("--model", help="a model file (default: the active model in ml_models)")
    parser.add_argument(
        "--at", type=_timestamp, help="point in time, ISO 8601 UTC (default: just after the last answer)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sub = parser.add_subparsers(dest="command", required=True)
    risk = sub.add_parser("at-risk", help="learners ranked by risk in a domain")
    risk.add_argument("--domain", required=True)
    risk.add_argument("--horizon-days", type=float, default=7.0)
    risk.add_argument("--users", help="comma-separated users.id or usernames (default: all with answers)")
    risk.add_argument("--top", type=_count, default=None, help="show only the N riskiest")
    risk.set_defaults(func=at_risk)
    line = sub.add_parser("timeline", help="when a learner reaches a target proficiency")
    line.add_argument("--user", required=True, help="a users.id or a username")
    line.add_argument("--domain", required=True)
    line.add_argument("--target", type=float, default=0.8)
    line.set_defaults(func=timeline)
    rec = sub.add_parser("recommend", help="the level to serve a learner next, with reasons")
    rec.add_argument("--user", required=True, help="a users.id or a username")
    rec.add_argument("--domain", required=True)
    rec.set_defaults(func=recommend)
    return parser


@report_user_errors
def main(argv: list[str] | None = None) -> None:
    setup_logging(logging.WARNING)
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
