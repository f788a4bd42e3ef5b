"""A database password given on the command line is stored nowhere: run files, checkpoints, the registry."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from ktlab.db import migrate
from ktlab.db.engine import make_engine, make_session_factory
from ktlab.db.models import MLModel
from tests.conftest import run_cli
from tests.db.test_train_db import TINY_DB, _store_classroom

PASSWORD = "s3cr3t-Pw9"


def test_password_in_db_url_is_masked_everywhere(pg_url: str, tmp_path: Path) -> None:
    # The local server trusts its clients, so the password is accepted and ignored: the run succeeds.
    url = make_url(pg_url).set(password=PASSWORD).render_as_string(hide_password=False)
    migrate.upgrade(url)
    engine = make_engine(url, use_env=False)
    _store_classroom(make_session_factory(engine), n_students=40)
    src = str(Path(__file__).resolve().parents[2] / "src")
    done = run_cli(
        "train.py", "data=db", f"db.url='{url}'", f"paths.root_dir={tmp_path}", *TINY_DB,
        env={"PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert PASSWORD not in done.stdout + done.stderr
    (run_dir,) = (tmp_path / "logs" / "train" / "runs").iterdir()
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert {".hydra", "checkpoints", "csv"} <= {p.parent.name for p in files}
    leaking = [str(p.relative_to(run_dir)) for p in files if PASSWORD.encode() in p.read_bytes()]
    assert not leaking
    with make_session_factory(engine)() as session:
        (row,) = session.scalars(select(MLModel)).all()
    engine.dispose()
    assert PASSWORD not in str(row.config) and "***" in row.config["db"]["url"]
