"""A database password given on the command line is stored nowhere: run files, checkpoints, the registry."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from ktlab.db import migrate
from ktlab.db.engine import make_engine, make_session_factory
from ktlab.db.models import MLModel
from ktlab.utils.secrets import mask_text
from tests.conftest import TINY, run_cli
from tests.db.test_train_db import TINY_DB, _store_classroom

PASSWORD = "s3cr3t-Pw9"
FAKE_URL = f"postgresql+psycopg2://ktlab:{PASSWORD}@127.0.0.1:5432/ktlab"
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _env() -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}


def _leaking(folder: Path) -> list[str]:
    """The files under ``folder`` whose bytes hold the password."""
    return [
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and PASSWORD.encode() in p.read_bytes()
    ]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (FAKE_URL, "postgresql+psycopg2://ktlab:***@127.0.0.1:5432/ktlab"),
        # Hydra's sweeps write the overrides of each job escaped.
        (
            r"- db.url=postgresql+psycopg2\://u\:pw@127.0.0.1\:5432/test",
            r"- db.url=postgresql+psycopg2\://u\:***@127.0.0.1\:5432/test",
        ),
        (r"dir: a=1,db.url=pg\://u\:p\,w\:x@h,seed=2", r"dir: a=1,db.url=pg\://u\:***@h,seed=2"),
        ("mysql://u:pa/ss:w@h/db", "mysql://u:***@h/db"),
        ("redis://:pw@h", "redis://:***@h"),
        (
            "sqlite:///data/ktlab.db and postgresql://u@h/db",
            "sqlite:///data/ktlab.db and postgresql://u@h/db",
        ),
    ],
)
def test_mask_text_hides_passwords_also_escaped(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_password_in_db_url_is_masked_everywhere(pg_url: str, tmp_path: Path) -> None:
    # The local server trusts its clients, so the password is accepted and ignored: the run succeeds.
    url = make_url(pg_url).set(password=PASSWORD).render_as_string(hide_password=False)
    migrate.upgrade(url)
    engine = make_engine(url, use_env=False)
    _store_classroom(make_session_factory(engine), n_students=40)
    done = run_cli(
        "train.py", "data=db", f"db.url='{url}'", f"paths.root_dir={tmp_path}", *TINY_DB, env=_env()
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert PASSWORD not in done.stdout + done.stderr
    (run_dir,) = (tmp_path / "logs" / "train" / "runs").iterdir()
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert {".hydra", "checkpoints", "csv"} <= {p.parent.name for p in files}
    assert not _leaking(run_dir)
    with make_session_factory(engine)() as session:
        (row,) = session.scalars(select(MLModel)).all()
    engine.dispose()
    assert PASSWORD not in str(row.config) and "***" in row.config["db"]["url"]


@pytest.mark.slow  # a two-run sweep and an eval in subprocesses with W&B's service (~20 s)
def test_sweep_with_wandb_then_eval_store_no_password(tmp_path: Path) -> None:
    """A sweep (escaped overrides, multirun.yaml), W&B offline (it records the command line) and eval.py."""
    tiny = [*TINY, "trainer.max_epochs=1"]
    done = run_cli(
        "train.py", "-m", "logger=wandb", "seed=1,2", f"db.url={FAKE_URL}", f"paths.root_dir={tmp_path}",
        *tiny,
        env={**_env(), "WANDB_MODE": "offline"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (sweep,) = (tmp_path / "logs" / "train" / "multiruns").iterdir()
    assert (sweep / "multirun.yaml").is_file() and "***" in (sweep / "multirun.yaml").read_text()
    assert list(sweep.glob("*/wandb/offline-run-*/*.wandb")), "W&B wrote no run files"
    checkpoint = sweep / "0" / "checkpoints" / "best.ckpt"
    evaluated = run_cli(
        "eval.py", f"ckpt_path={checkpoint}", f"db.url={FAKE_URL}", f"paths.root_dir={tmp_path}", env=_env()
    )
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert (tmp_path / "logs" / "eval").is_dir()
    assert not _leaking(tmp_path)
    for output in (done, evaluated):
        assert PASSWORD not in output.stdout + output.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "task", "given"),
    [("predict.py", "predict", "input"), ("estimate_difficulty.py", "estimate_difficulty", "questions")],
)
def test_entry_points_without_a_db_group_write_no_password(
    script: str, task: str, given: str, tmp_path: Path
) -> None:
    """Hydra writes a run's files before the task starts, even when the task then refuses its input."""
    done = run_cli(
        script, f"ckpt_path={tmp_path / 'none.ckpt'}", f"{given}=none.csv", f"+db.url={FAKE_URL}",
        f"paths.root_dir={tmp_path}", env=_env(),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-3000:]
    hydra_files = list((tmp_path / "logs" / task).rglob(".hydra/*.yaml"))
    assert hydra_files and any("***" in p.read_text() for p in hydra_files)
    assert not _leaking(tmp_path)


@pytest.mark.slow
def test_tabular_sweep_stores_no_password(tmp_path: Path) -> None:
    done = run_cli(
        "train_tabular.py", "-m", f"db.url={FAKE_URL}", f"paths.root_dir={tmp_path}", "data.n_learners=40",
        "data.weeks=2", "shap_rows=100", "fairness.n_permutations=20", "fairness.bias_rows=500",
        "model.estimator.n_estimators=10", "model.estimator.n_jobs=1", env=_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (sweep,) = (tmp_path / "logs" / "train_tabular" / "multiruns").iterdir()
    assert (sweep / "0" / "model.skops").is_file()
    assert not _leaking(tmp_path)
    assert PASSWORD not in done.stdout + done.stderr
