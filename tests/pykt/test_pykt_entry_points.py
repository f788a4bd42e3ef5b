"""eval.py and predict.py on a checkpoint trained with data=pykt: the training run's folder is only read."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ktlab.evaluate import evaluate
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
