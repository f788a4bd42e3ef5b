"""pyKT's protocol to the digit: train.py on a data.txt pyKT split and scored writes pyKT's split files
and its 20 test metrics, each within 1e-9 of pyKT's own (tests/assets/pykt_protocol_fixture/SOURCE.txt)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ktlab.evaluate import evaluate
from ktlab.train import train
from tests.conftest import compose_config, run_cli
from tests.pykt.conftest import FIXTURE, SPLIT_FILES

COMMAND = ["experiment=pykt", "data=pykt", "data.max_len=20", "data.fold=0", "model=skill_rate"]
GOLDEN = json.loads((FIXTURE / "golden_toy_metrics.json").read_text())


def data_txt_only(tmp_path: Path) -> Path:
    folder = tmp_path / "data_txt"
    folder.mkdir()
    shutil.copy(FIXTURE / "data.txt", folder / "data.txt")
    return folder


def check_run(run_dir: Path) -> None:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert len(GOLDEN) == 20
    for key, value in GOLDEN.items():
        assert metrics[f"test/{key}"] == pytest.approx(value, abs=1e-9), key
    assert metrics["protocol"]["selection"] == "skill_rows"
    for name in SPLIT_FILES:
        assert (run_dir / "pykt_data" / name).read_bytes() == (FIXTURE / name).read_bytes(), name


def test_train_on_a_data_txt_gives_pykts_split_and_its_20_metrics(tmp_path: Path) -> None:
    overrides = [f"data.dir={data_txt_only(tmp_path)}", "trainer.max_epochs=1"]
    quiet = ["callbacks.learning_curves=null", "callbacks.progress_bar=null", "callbacks.model_summary=null"]
    cfg = compose_config("train", [*COMMAND, *overrides, *quiet], tmp_path)
    train(cfg)
    run_dir = Path(cfg.paths.output_dir)
    check_run(run_dir)
    again = evaluate(
        compose_config("eval", [f"ckpt_path={run_dir / 'checkpoints' / 'best.ckpt'}"], tmp_path / "eval")
    )
    for key, value in GOLDEN.items():  # eval.py on the checkpoint alone gives them too
        assert again[f"test/{key}"] == pytest.approx(value, abs=1e-9), key


@pytest.mark.slow
def test_the_conformance_command_as_written(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = run_cli("train.py", *COMMAND, f"data.dir={data_txt_only(tmp_path)}", f"hydra.run.dir={run_dir}")
    assert done.returncode == 0, done.stderr[-3000:]
    check_run(run_dir)
