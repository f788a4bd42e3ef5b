"""The Hydra run end to end, the database path (SQLite and PostgreSQL) and the operator CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict
from sqlalchemy import select

from ktlab.db import migrate
from ktlab.db.engine import make_engine, make_session_factory
from ktlab.db.models import MLModel
from ktlab.tabular.config import CONF_DIR_VAR
from ktlab.tabular.data import PlatformData
from ktlab.tabular.dbdata import load_db, store_platform
from ktlab.tabular.features import FeatureEngineering
from ktlab.tabular.train import train
from tests.db.conftest import _isolated_env, pg_url, sqlite_url  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
TINY_RUN = [
    "data.n_learners=40",
    "data.weeks=2",
    "shap_rows=100",
    "fairness.n_permutations=20",
    "fairness.bias_rows=500",
    "model.estimator.n_estimators=10",
    "model.estimator.n_jobs=1",
]


def _compose(tmp_path: Path, overrides: list[str]) -> DictConfig:
    GlobalHydra.instance().clear()
    os.environ[CONF_DIR_VAR] = str(ROOT / "conf")
    out = tmp_path / "run"
    with initialize_config_dir(config_dir=str(ROOT / "conf" / "tabular"), version_base="1.3"):
        cfg = compose("train", overrides=[f"paths.root_dir={tmp_path}", *overrides], return_hydra_config=True)
    with open_dict(cfg):
        cfg.paths.output_dir = str(out)
        cfg.paths.work_dir = str(ROOT)
        cfg.hydra.runtime.output_dir = str(out)
        cfg.hydra.runtime.cwd = str(ROOT)
    HydraConfig.instance().set_config(cfg)
    return cfg


def _store(url: str, data: PlatformData) -> None:
    migrate.upgrade(url)
    engine = make_engine(url, use_env=False)
    with make_session_factory(engine).begin() as session:
        store_platform(session, data)
    engine.dispose()


def test_hydra_run_writes_every_artifact(tmp_path: Path) -> None:
    cfg = _compose(tmp_path, ["model=performance_rf", "data.disparity_logit=-0.8", *TINY_RUN])
    metrics = train(cfg)
    run = tmp_path / "run"
    for name in (
        "metrics.json",
        "model.skops",
        "model.json",
        "shap_summary.png",
        "calibration.png",
        "fairness.json",
        "fairness.txt",
    ):
        assert (run / name).is_file(), name
    written = json.loads((run / "metrics.json").read_text())
    for key in (
        "test/auc",
        "test/brier",
        "test/ece",
        "test/baseline_recent/auc",
        "test/baseline_logistic/auc",
        "test/oracle_auc",
        "test/risk/auc",
    ):
        assert 0.0 <= written[key] <= 1.0, key
    assert metrics["test/oracle_auc"] > 0.6
    assert "learning_style" in (run / "fairness.txt").read_text()
    assert json.loads((run / "model.json").read_text())["kind"] == "PerformancePredictor"
    GlobalHydra.instance().clear()


def test_db_run_registers_and_cli_lists_learners_at_risk(tmp_path: Path, sqlite_url: str) -> None:  # noqa: F811
    from ktlab.tabular.synthetic import generate_platform

    _store(sqlite_url, generate_platform(n_learners=40, weeks=2, seed=5))
    cfg = _compose(tmp_path, ["model=performance_rf", "data=db", f"db.url={sqlite_url}", *TINY_RUN[2:]])
    train(cfg)
    GlobalHydra.instance().clear()
    engine = make_engine(sqlite_url, use_env=False)
    with make_session_factory(engine)() as session:
        row = session.scalars(select(MLModel)).one()
    engine.dispose()
    assert (row.name, row.version, row.kind, row.is_active) == (
        "performance_rf",
        1,
        "PerformancePredictor",
        True,
    )
    assert Path(row.artifact_path).is_file() and "test/auc" in row.metrics

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("KTLAB_DATABASE_URL", None)
    command = [sys.executable, "-m", "ktlab.tabular", "--url", sqlite_url, "--json", "at-risk"]
    done = subprocess.run(
        [*command, "--domain", "multiplication", "--horizon-days", "7"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert listed and {"student_id", "risk_score", "risk_level", "recommended_action"} <= set(listed[0])
    assert [r["risk_score"] for r in listed] == sorted((r["risk_score"] for r in listed), reverse=True)
    bad = subprocess.run(
        [*command, "--domain", "geometry"], capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path
    )
    assert (
        bad.returncode == 2
        and "Unknown skill domain 'geometry'" in bad.stderr
        and "Traceback" not in bad.stderr
    )


@pytest.mark.postgres
def test_postgres_round_trip_gives_the_same_features(pg_url: str) -> None:  # noqa: F811
    from ktlab.tabular.synthetic import generate_platform

    data = generate_platform(n_learners=12, weeks=1, seed=2)
    _store(pg_url, data)
    loaded = load_db(pg_url, use_env=False)
    assert len(loaded.answers) == len(data.answers)
    ids = dict(zip(loaded.learners["username"], loaded.learners["student_id"], strict=True))
    expected = data.answers.assign(student_id=data.answers["student_id"].map(lambda u: ids[f"learner{u}"]))
    got = loaded.answers.sort_values(["student_id", "t"]).reset_index(drop=True)
    expected = expected.sort_values(["student_id", "t"]).reset_index(drop=True)
    pd.testing.assert_series_equal(got["timestamp"], expected["timestamp"], check_names=False)
    fe = FeatureEngineering()
    # Database ids need not follow the generator's order: compare each learner through the name mapping.
    stored = loaded.learners.set_index("student_id")["learning_style"]
    generated = data.learners.set_index("student_id")["learning_style"]
    assert all(stored[ids[f"learner{uid}"]] == style for uid, style in generated.items())
    np.testing.assert_allclose(
        fe.answer_features(loaded).sort_index().to_numpy(),
        fe.answer_features(PlatformData(expected, loaded.learners)).to_numpy(),
    )
