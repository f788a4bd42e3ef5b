"""eval.py and predict.py on a checkpoint trained with data=pykt: the training run's folder is only read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ktlab.evaluate import evaluate
from ktlab.models.checkpoint import load_model, restore_datamodule
from ktlab.predict import run as run_predict
from ktlab.train import train
from tests.conftest import compose_config
from tests.pykt.conftest import FIXTURE, SPLIT_FILES

QUIET = ["callbacks.learning_curves=null", "callbacks.progress_bar=null", "callbacks.model_summary=null"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run folder of one epoch of the skill rate on the fixture's data.txt (max_len 20, fold 0)."""
    root = tmp_path_factory.mktemp("pykt_run")
    data = root / "data_txt"
    data.mkdir()
    shutil.copy(FIXTURE / "data.txt", data / "data.txt")
    overrides = [
        "experiment=pykt",
        "data=pykt",
        f"data.dir={data}",
        "data.max_len=20",
        "model=skill_rate",
        "trainer.max_epochs=1",
        "test=false",
    ]
    cfg = compose_config("train", [*overrides, *QUIET], root)
    train(cfg)
    return Path(cfg.paths.output_dir)


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``folder`` with its modification time (ns) and bytes."""
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_eval_writes_its_built_files_into_its_own_folder(trained: Path, tmp_path: Path) -> None:
    built = trained / "pykt_data"
    (built / "test.csv").unlink()  # were eval to write into the training run, this file would come back
    before = snapshot(trained)
    cfg = compose_config("eval", [f"ckpt_path={trained / 'checkpoints' / 'best.ckpt'}"], tmp_path)
    metrics = evaluate(cfg)
    assert snapshot(trained) == before
    own = Path(cfg.paths.output_dir) / "pykt_data"
    for name in SPLIT_FILES:
        assert (own / name).read_bytes() == (FIXTURE / name).read_bytes(), name
    assert 0.0 < metrics["test/window_testauc"] < 1.0


def test_eval_scores_the_validation_fold_as_training_did(trained: Path, tmp_path: Path) -> None:
    ckpt = trained / "checkpoints" / "best.ckpt"
    metrics = evaluate(compose_config("eval", [f"ckpt_path={ckpt}", "split=val"], tmp_path))
    recorded = json.loads((trained / "metrics.json").read_text())
    assert metrics["val/auc"] == pytest.approx(recorded["val/auc"], abs=1e-7)


def test_eval_on_all_scores_every_learners_chunks(trained: Path, tmp_path: Path) -> None:
    cfg = compose_config(
        "eval", [f"ckpt_path={trained / 'checkpoints' / 'best.ckpt'}", "split=all"], tmp_path
    )
    metrics = evaluate(cfg)
    assert 0.0 < metrics["all/auc"] < 1.0
    datamodule = restore_datamodule(load_model(cfg.ckpt_path))
    datamodule.setup("test")
    parts = [datamodule.sets[name] for name in ("train", "val", "test_sequences")]
    every = datamodule.dataloader("all").dataset.tensors
    assert len(every) == sum(len(p) for p in parts)
    assert every.select.sum() == sum(p.select.sum() for p in parts)


def test_predict_refuses_a_pykt_checkpoint_in_one_paragraph(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "history.csv"
    history.write_text("student_id,skill_id,correct\na,1,1\na,2,0\n")
    ckpt = trained / "checkpoints" / "best.ckpt"
    cfg = compose_config("predict", [f"ckpt_path={ckpt}", f"input={history}"], tmp_path)
    with pytest.raises(SystemExit) as leaving:
        run_predict(cfg)
    assert leaving.value.code == 2
    message = capsys.readouterr().err
    assert "pyKT's protocol" in message and "eval.py" in message
    assert not Path(cfg.output).exists()
