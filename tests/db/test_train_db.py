"""`python train.py data=db`: the DKT trains from exercise_responses and each run adds an ml_models row."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ktlab.data.schema import validate_interactions
from ktlab.data.synthetic import ClassroomConfig, generate_classroom
from ktlab.db.ingest import ingest_frame
from ktlab.db.models import MLModel
from ktlab.train import train
from tests.conftest import TINY_MODEL, recomputed_test_auc, run_cli

TINY_DB = [
    "data.max_len=16",
    "data.batch_size=16",
    "data.val_fraction=0.2",
    "data.test_fraction=0.2",
    "trainer.max_epochs=1",
    "trainer.log_every_n_steps=1",
    *TINY_MODEL,
]


def _store_classroom(sessions: sessionmaker[Session], n_students: int = 60) -> int:
    frame = generate_classroom(ClassroomConfig(n_students=n_students, min_len=12, max_len=24, seed=5))
    with sessions.begin() as session:
        return ingest_frame(session, validate_interactions(frame, "classroom"), "classroom")


def test_train_from_database_records_registry_row(make_cfg, migrated_url: str, sessions) -> None:
    stored = _store_classroom(sessions)
    cfg = make_cfg("train", "data=db", f"db.url='{migrated_url}'", *TINY_DB, tiny=False)
    assert cfg.registry._target_ == "ktlab.db.registry.DatabaseRegistry"
    metrics = train(cfg)
    assert metrics["test/auc"] == pytest.approx(recomputed_test_auc(Path(cfg.paths.output_dir)), abs=1e-4)

    with sessions() as session:
        rows = session.scalars(select(MLModel)).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.name, row.version, row.is_active, row.kind) == ("dkt_gru", 1, True, "RecurrentTracer")
    assert row.metrics["test/auc"] == pytest.approx(metrics["test/auc"])
    assert row.artifact_path and Path(row.artifact_path).is_file()
    assert row.config["data"]["source"]["_target_"] == "ktlab.db.source.DatabaseSource"
    assert row.config["output_dir"] == str(cfg.paths.output_dir)
    assert stored > 60 * 12 - 1


@pytest.mark.slow  # a subprocess; data=db itself is checked in-process above
def test_train_script_uses_ktlab_database_url(sqlite_url: str, tmp_path: Path) -> None:
    """The root script, with the database named only by KTLAB_DATABASE_URL (as on a platform server)."""
    from ktlab.db import migrate
    from ktlab.db.engine import make_engine, make_session_factory

    migrate.upgrade(sqlite_url)
    engine = make_engine(sqlite_url, use_env=False)
    _store_classroom(make_session_factory(engine), n_students=40)
    src = str(Path(__file__).resolve().parents[2] / "src")
    done = run_cli(
        "train.py",
        "data=db",
        f"paths.root_dir={tmp_path}",
        "logger=csv",
        *TINY_DB,
        env={
            "KTLAB_DATABASE_URL": sqlite_url,
            "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
        },
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with make_session_factory(engine)() as session:
        (row,) = session.scalars(select(MLModel)).all()
    engine.dispose()
    (stored,) = tmp_path.rglob("metrics.json")
    assert row.name == "dkt_gru" and row.version == 1
    assert row.metrics["test/auc"] == pytest.approx(json.loads(stored.read_text())["test/auc"])
    assert not (tmp_path / "data" / "ktlab.db").exists()  # db.url was not used: the variable won
