"""`python train.py ckpt_path=last hydra.run.dir=<run>`: the run's own config, and refusals that keep it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ktlab.resume import resume_command_line
from tests.conftest import run_cli

TINY = [
    "data.source.n_students=60",
    "data.source.min_len=10",
    "data.source.max_len=20",
    "model.net.hidden_dim=8",
    "model.net.embed_dim=8",
]


def _hydra_files(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((run / ".hydra").glob("*.yaml"))}


def _first_run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    result = run_cli(
        "train.py", "model=dkt", "trainer.max_epochs=2", *TINY, f"paths.root_dir={tmp_path}",
        f"hydra.run.dir={run}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return run


@pytest.mark.slow
def test_resume_reuses_the_runs_overrides_and_refuses_without_rewriting_them(tmp_path: Path) -> None:
    run = _first_run(tmp_path)
    before = _hydra_files(run)

    # another model: refused before Hydra starts
    result = run_cli("train.py", "ckpt_path=last", f"hydra.run.dir={run}", "model=akt")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "model=akt (the run has model=dkt)" in result.stderr.replace("\n", " ")
    assert "Traceback" not in result.stderr
    assert _hydra_files(run) == before

    # a network size the checkpoint does not have: refused once the model is built; the config stays
    result = run_cli("train.py", "ckpt_path=last", f"hydra.run.dir={run}", "model.net.hidden_dim=12")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "cannot resume" in result.stderr
    assert _hydra_files(run) == before

    # no override retyped but the new epoch limit: goes on with model=dkt and its sizes
    result = run_cli("train.py", "ckpt_path=last", f"hydra.run.dir={run}", "trainer.max_epochs=3")
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((run / "metrics.json").read_text())["model"] == "dkt"
    assert "resuming" in (run / "train.log").read_text()  # said in the run's own log
    last = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["epoch"] == 2
    overrides = (run / ".hydra" / "overrides.yaml").read_text()
    assert "model=dkt" in overrides and "trainer.max_epochs=3" in overrides
    assert "trainer.max_epochs=2" not in overrides
    epochs = [line.split(",")[0] for line in (run / "csv" / "metrics.csv").read_text().splitlines()[1:]]
    assert epochs[:4] == ["0", "0", "1", "1"] and "2" in epochs  # the earlier rows are kept


def test_saved_overrides_come_first_and_new_values_win(tmp_path: Path) -> None:
    """A key given again takes its new value; the sweep's own group is left out (the job resumes alone)."""
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text(
        "- model=dkt\n- trainer.max_epochs=4\n- +callbacks.epoch_time._target_=x.Y\n- hparams_search=dkt_optuna\n"
    )
    (run / ".hydra" / "hydra.yaml").write_text("hydra:\n  runtime:\n    choices:\n      model: dkt\n")
    resumed = resume_command_line(["ckpt_path=last", f"hydra.run.dir={run}", "trainer.max_epochs=6"])
    assert resumed.args == [
        "model=dkt",
        "+callbacks.epoch_time._target_=x.Y",
        "ckpt_path=last",
        f"hydra.run.dir={run}",
        "trainer.max_epochs=6",
    ]
    assert resumed.run_dir == run
    # the same model again is no change; without ckpt_path=last nothing is reused
    same = resume_command_line(["ckpt_path=last", f"hydra.run.dir={run}", "model=dkt"]).args
    assert same == ["trainer.max_epochs=4", "+callbacks.epoch_time._target_=x.Y", *same[2:]]
    assert same[-1] == "model=dkt"
    assert resume_command_line([f"hydra.run.dir={run}", "model=akt"]).args == [
        f"hydra.run.dir={run}",
        "model=akt",
    ]


def test_a_masked_password_must_be_given_again(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text("- db.url=postgresql+psycopg2://u:***@h/db\n")
    result = run_cli("train.py", "ckpt_path=last", f"hydra.run.dir={run}")
    assert result.returncode == 2 and "pass db.url=... again" in result.stderr.replace("\n", " ")
    given = resume_command_line(["ckpt_path=last", f"hydra.run.dir={run}", "db.url=sqlite:///x.db"])
    assert given.args == ["ckpt_path=last", f"hydra.run.dir={run}", "db.url=sqlite:///x.db"]
