"""Operator commands on the learner database: at-risk lists, mastery timelines, next levels.

    python -m ktlab.tabular at-risk --domain multiplication --horizon-days 7 [--top 20] [--json]
    python -m ktlab.tabular timeline --user 12 --domain fractions --target 0.8
    python -m ktlab.tabular recommend --user 12 --domain fractions

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
from rich.table import Table as RichTable
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
from ktlab.tabular.dbdata import load_db
from ktlab.tabular.errors import ModelFileError, TabularError
from ktlab.tabular.io import SHA256_KEY, load_model

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


def _user(value: str, data_ids: pd.Series) -> Any:
    user = int(value) if value.isdigit() else value
    if user not in set(data_ids):
        raise TabularError(f"Learner {value!r} has no answers in the database; check --user (a users.id).")
    return user


def _at(args: argparse.Namespace) -> pd.Timestamp | None:
    return pd.Timestamp(args.at).tz_localize(None) if args.at else None


def _print(frame: pd.DataFrame, title: str, as_json: bool) -> None:
    if as_json:
        print(frame.to_json(orient="records", date_format="iso"))
        return
    table = RichTable(title=title)
    for column in frame.columns:
        table.add_column(str(column))
    for row in frame.itertuples(index=False):
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    Console().print(table)


def at_risk(args: argparse.Namespace) -> None:
    model = _model(args, "performance_rf")
    url, use_env = _url(args)
    data = load_db(url, use_env=use_env)
    users = [_user(u, data.answers["user_id"]) for u in args.users.split(",")] if args.users else None
    table = model.identify_at_risk_learners(users, args.domain, args.horizon_days, data, at=_at(args))
    if args.top:
        table = table.head(args.top)
    _print(table, f"Learners at risk in {args.domain} over {args.horizon_days:g} days", args.json)


def timeline(args: argparse.Namespace) -> None:
    model = _model(args, "performance_rf")
    url, use_env = _url(args)
    data = load_db(url, use_env=use_env)
    result = model.predict_mastery_timeline(
        _user(args.user, data.answers["user_id"]), args.domain, args.target, data, at=_at(args)
    )
    _print(pd.DataFrame([result.__dict__]), f"Mastery timeline in {args.domain}", args.json)


def recommend(args: argparse.Namespace) -> None:
    model = _model(args, "difficulty_xgb")
    url, use_env = _url(args)
    data = load_db(url, use_env=use_env)
    rec = model.recommend(data, _user(args.user, data.answers["user_id"]), args.domain, at=_at(args))
    if args.json:
        print(json.dumps(rec.__dict__, default=str))
        return
    Console().print(f"Level {rec.level} for learner {rec.user_id} in {rec.domain}")
    Console().print(
        "Predicted success by level: " + ", ".join(f"{k}: {v:.2f}" for k, v in rec.success_by_level.items())
    )
    for reason in rec.reasons:
        Console().print(f"- {reason}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ktlab.tabular", description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="database URL (default: KTLAB_DATABASE_URL, else data/ktlab.db)")
    parser.add_argument("--model", help="a model file (default: the active model in ml_models)")
    parser.add_argument("--at", help="point in time, ISO 8601 UTC (default: just after the last answer)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sub = parser.add_subparsers(dest="command", required=True)
    risk = sub.add_parser("at-risk", help="learners ranked by risk in a domain")
    risk.add_argument("--domain", required=True)
    risk.add_argument("--horizon-days", type=float, default=7.0)
    risk.add_argument("--users", help="comma-separated users.id (default: all with answers in the domain)")
    risk.add_argument("--top", type=int, default=0, help="show only the N riskiest")
    risk.set_defaults(func=at_risk)
    line = sub.add_parser("timeline", help="when a learner reaches a target proficiency")
    line.add_argument("--user", required=True)
    line.add_argument("--domain", required=True)
    line.add_argument("--target", type=float, default=0.8)
    line.set_defaults(func=timeline)
    rec = sub.add_parser("recommend", help="the level to serve a learner next, with reasons")
    rec.add_argument("--user", required=True)
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
