"""User mistakes answered in one paragraph with exit status 2, and nothing lost: the entry points' side."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
import torch

from ktlab.cli import check_command_line
from ktlab.data.io import read_table
from ktlab.data.schema import validate_interactions
from ktlab.data.template import template_frame
from ktlab.errors import CheckpointError, DataValidationError
from ktlab.predict import run as predict_run
from ktlab.train import train
from tests.conftest import ASSETS, CONF_DIR, recomputed_test_auc


def _exit_message(capsys, func, *args) -> str:
    with pytest.raises(SystemExit) as info:
        func(*args)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    return err.replace("\n", " ")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["model=nope"],
            "model=nope: no such option of the 'model' config group; choose one of afm, akt, bkt, dkt,",
        ),
        (["logger=nope"], "logger=nope: no such option of the 'logger' config group"),
        (["trainer.max_epoch=2"], "trainer.max_epoch: the config has no such key"),
        (["-m", "model=dkt_gru,nope"], "model=nope"),
        (["data.max_len=["], "data.max_len=[: not a valid override"),
    ],
)
def test_command_line_mistakes_are_one_paragraph(capsys, argv: list[str], expected: str) -> None:
    assert expected in _exit_message(capsys, check_command_line, CONF_DIR, "train", argv)


def test_a_valid_command_line_passes_the_check() -> None:
    check_command_line(CONF_DIR, "train", ["-m", "model=dkt_gru,dkt_lstm", "model.net.hidden_dim=8,16"])
    check_command_line(CONF_DIR, "train", ["--cfg", "job", "model=nope"])  # Hydra's own flags: its job


def test_repeated_column_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    frame = template_frame()
    frame.insert(4, "correct", 1 - frame["correct"], allow_duplicates=True)
    frame.to_csv(path, index=False)
    with pytest.raises(
        DataValidationError, match=r"line 1 \(the header\): the column\(s\) 'correct' \(2 times\)"
    ):
        read_table(path)


def test_long_cells_are_cut_in_messages() -> None:
    frame = template_frame().astype(object)
    frame.loc[2, "phase_type"] = "x" * 100_000
    with pytest.raises(DataValidationError) as info:
        validate_interactions(frame, "long.csv")
    assert "100,000 characters" in str(info.value) and len(str(info.value)) < 1_000


def test_the_template_trains_as_printed(make_cfg, tmp_path: Path) -> None:
    path = tmp_path / "template.csv"
    template_frame().to_csv(path, index=False)
    cfg = make_cfg("train", "data=csv", f"data.path={path}", "trainer.max_epochs=1")
    metrics = train(cfg)
    assert metrics["test/auc"] == pytest.approx(recomputed_test_auc(Path(cfg.paths.output_dir)), abs=1e-4)
    assert (
        json.loads((Path(cfg.paths.output_dir) / "metrics.json").read_text())["test/auc"]
        == metrics["test/auc"]
    )


@pytest.fixture(scope="module")
def gru_checkpoint(tmp_path_factory) -> Path:
    from tests.conftest import TINY, compose_config

    tmp = tmp_path_factory.mktemp("hardening")
    cfg = compose_config("train", [*TINY, "trainer.max_epochs=1"], tmp)
    train(cfg)
    return Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"


def test_resume_with_another_network_is_refused(make_cfg, gru_checkpoint: Path) -> None:
    cfg = make_cfg("train", "model=dkt_lstm", f"ckpt_path={gru_checkpoint}", "trainer.max_epochs=2")
    with pytest.raises(CheckpointError, match=r"cannot resume.*model\.net\.cell: 'gru' -> 'lstm'"):
        train(cfg)


def test_resume_with_other_data_settings_warns(make_cfg, gru_checkpoint: Path, caplog) -> None:
    cfg = make_cfg("train", f"ckpt_path={gru_checkpoint}", "trainer.max_epochs=2", "data.batch_size=8")
    with caplog.at_level(logging.WARNING):
        train(cfg)
    assert "data.batch_size: 16 -> 8" in caplog.text
    assert (
        torch.load(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == 1
    )


def test_a_run_prints_no_library_noise(make_cfg, caplog, capfd) -> None:
    with caplog.at_level(logging.INFO):
        train(make_cfg("train", "trainer.max_epochs=1", "logger=wandb"))  # offline under the tests
    printed = capfd.readouterr()
    for noise in ("Tip:", "GPU available", "TPU available", "already configured with model summary"):
        assert noise not in caplog.text
    assert "anonymous setting" not in printed.err + printed.out
    assert "offline" in printed.out + printed.err  # wandb's own useful lines stay


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["max_len=0"], "max_len=0: must be >= 1"),
        (["batch_size=-3"], "batch_size=-3: must be >= 1"),
        (["output={tmp}"], "is a directory"),
        (["output={tmp}/nowhere/pred.csv"], "does not exist"),
        (["output={input}"], "is the input file"),
    ],
)
def test_prediction_argument_mistakes(
    make_cfg, capsys, tmp_path: Path, gru_checkpoint: Path, overrides, expected
) -> None:
    history = tmp_path / "history.csv"
    pd.read_csv(ASSETS / "assist2009_sample.csv").head(3).to_csv(history, index=False)
    before = history.read_bytes()
    filled = [o.format(tmp=tmp_path, input=history) for o in overrides]
    cfg = make_cfg("predict", f"ckpt_path={gru_checkpoint}", f"input={history}", *filled, tiny=False)
    assert expected in _exit_message(capsys, predict_run, cfg)
    assert history.read_bytes() == before  # the history is never overwritten


def test_missing_required_argument(make_cfg, capsys, tmp_path: Path) -> None:
    cfg = make_cfg("predict", f"input={tmp_path / 'h.csv'}", tiny=False)
    assert "ckpt_path is missing" in _exit_message(capsys, predict_run, cfg)


def test_wandb_keeps_the_csv_metrics(make_cfg) -> None:
    cfg = make_cfg("train", "logger=wandb")
    assert set(cfg.logger) == {"csv", "wandb"}
