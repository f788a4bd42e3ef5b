"""Training options of the benchmark runs: random window cuts and the moving average of the weights."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate

from ktlab.callbacks.ema import EMA
from ktlab.errors import ConfigError
from ktlab.evaluate import evaluate
from ktlab.train import train
from tests.conftest import compose_config, recomputed_test_auc, run_cli


def test_random_cuts_train_every_epoch_on_all_their_batches(tiny_run) -> None:
    cfg = tiny_run("model=dkt", "data.random_cuts=true", "trainer.max_epochs=3")
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    loader = datamodule.dataloader("train")
    batches = [list(loader) for _ in range(3)]  # the batches of epochs 0, 1, 2
    assert all(len(b) == len(loader) for b in batches)  # the number Lightning plans each epoch with
    offsets = datamodule.datasets["train"].encoded.offsets
    long_learners = int((np.diff(offsets) > cfg.data.max_len).sum())
    assert long_learners > 0
    for epoch in batches:  # every training answer, less the one-step windows a cut may leave (two a learner)
        answers = sum(int(x["mask"].sum()) for x in epoch)
        assert offsets[-1] - 2 * long_learners <= answers <= offsets[-1]
    assert batches[0][0]["mask"].shape != batches[1][0]["mask"].shape or not torch.equal(
        batches[0][0]["skill"], batches[1][0]["skill"]
    )
    metrics = train(cfg)
    lines = (Path(cfg.paths.output_dir) / "csv" / "metrics.csv").read_text().splitlines()
    header = lines[0].split(",")
    val_epochs = [
        row.split(",")[header.index("epoch")] for row in lines[1:] if row.split(",")[header.index("val/auc")]
    ]
    assert val_epochs == ["0", "1", "2"]  # validated after every epoch, whatever its number of batches
    assert metrics["test/auc"] == pytest.approx(recomputed_test_auc(Path(cfg.paths.output_dir)), abs=1e-4)


def test_ema_validates_checkpoints_and_tests_the_averaged_weights(tiny_run, tmp_path: Path) -> None:
    cfg = tiny_run("model=dkt", "callbacks=[default,ema]", "callbacks.ema.decay=0.5", "trainer.max_epochs=2")
    trained = train(cfg)
    ckpt = Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt"
    state = torch.load(ckpt, weights_only=True)
    averaged, raw = state["state_dict"], state["current_model_state"]
    assert any(not torch.equal(averaged[k], raw[k]) for k in averaged)  # two sets of weights were kept
    evaluated = evaluate(compose_config("eval", [f"ckpt_path={ckpt}"], tmp_path / "eval"))
    # train.py's own test scored what eval.py scores: the averaged weights of best.ckpt
    assert evaluated["test/auc"] == pytest.approx(trained["test/auc"], abs=1e-6)
    assert evaluated["test/loss"] == pytest.approx(trained["test/loss"], abs=1e-6)


@pytest.mark.slow
def test_a_resumed_fit_carries_on_the_same_average(tiny_run) -> None:
    """With a decay of ~1 the average is the weights of the first step and stays so; a resumed fit must
    read it back from the checkpoint (not start a new average from the resumed weights)."""
    ema = ["model=dkt", "callbacks=[default,ema]", "callbacks.ema.decay=0.999999"]
    first = tiny_run(*ema, "trainer.max_epochs=1")
    train(first)
    last = Path(first.paths.output_dir) / "checkpoints" / "last.ckpt"
    before = torch.load(last, weights_only=True)
    resumed = tiny_run(*ema, "trainer.max_epochs=2", f"ckpt_path={last}")
    train(resumed)
    after = torch.load(Path(resumed.paths.output_dir) / "checkpoints" / "last.ckpt", weights_only=True)
    assert after["global_step"] > before["global_step"]  # it trained on
    for key, value in before["state_dict"].items():
        torch.testing.assert_close(after["state_dict"][key], value, atol=1e-4, rtol=0)
    assert any(  # the raw weights did move on
        not torch.allclose(after["current_model_state"][k], before["current_model_state"][k])
        for k in before["current_model_state"]
    )


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "callbacks.ema.update_every_n_steps=0",
            "callbacks.ema.update_every_n_steps=0: must be an integer >= 1",
        ),
        ("callbacks.ema.decay=1.0", "callbacks.ema.decay=1.0: must be in [0, 1)"),
        ("callbacks.ema.decay=1.5", "callbacks.ema.decay=1.5: must be in [0, 1)"),
    ],
)
def test_ema_settings_that_freeze_the_average_are_refused(tiny_run, setting: str, message: str) -> None:
    cfg = tiny_run("model=dkt", "callbacks=[default,ema]", setting)
    with pytest.raises(ConfigError, match=re.escape(message)):
        train(cfg)
    assert not (Path(cfg.paths.output_dir) / "checkpoints").exists()  # refused before anything trained
    name = setting.split("=")[0].rsplit(".", 1)[1]
    with pytest.raises(ConfigError, match=r"freezes the average|never updates the average"):
        EMA(**{name: cfg.callbacks.ema[name]})  # the callback's own constructor refuses them too


def test_ema_refusal_on_the_command_line(tmp_path: Path) -> None:
    result = run_cli(
        "train.py", "callbacks=[default,ema]", "callbacks.ema.decay=1.0", f"paths.root_dir={tmp_path}"
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "callbacks.ema.decay=1.0: must be in [0, 1)" in result.stderr.replace("\n", " ")
