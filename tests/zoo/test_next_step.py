"""Next-step prediction: a network's one-pass shortcut gives what appending each candidate gives."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

from ktlab.data.formats import read_lines
from ktlab.data.next_step import predict_next_step
from ktlab.models.checkpoint import load_model, restore_datamodule
from ktlab.train import train
from tests.conftest import TINY, compose_config
from tests.zoo.conftest import PID, PID_DATA, TINY_TRAINER, shrink
from tests.zoo.test_states import Hidden  # the network without its shortcuts: the generic path


def _trained(tmp: Path, overrides: list[str]) -> torch.nn.Module:
    cfg = shrink(compose_config("train", overrides, tmp))
    train(cfg)
    return load_model(Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt")


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param([*PID_DATA, *TINY_TRAINER, "model=dkt"], id="dkt"),
        pytest.param([*PID_DATA, *TINY_TRAINER, "model=dkt_gru"], id="dkt_gru-problem-ids"),
        pytest.param([*TINY, "model=dkt_lstm", "test=false"], id="dkt_lstm-context"),
    ],
)
def test_one_pass_shortcut_equals_appending_each_candidate(tmp_path: Path, overrides: list[str]) -> None:
    model = _trained(tmp_path, overrides)
    assert callable(model.net.next_step_logits)
    datamodule = restore_datamodule(model)
    if "data=assist2009_pid" in overrides:
        frame = read_lines(PID / "assist2009_pid_test1.csv", "4line")
    else:
        datamodule.prepare_data()
        datamodule.setup("test")
        frame = datamodule.parts["test"]
    learners = frame["student_id"].drop_duplicates().iloc[:5]
    history = frame[frame["student_id"].isin(learners)]
    encoder = datamodule.encoder
    fast = predict_next_step(model, history, encoder, max_len=16, batch_size=2)
    slow = predict_next_step(Hidden(model.net), history, encoder, max_len=16, batch_size=2)
    assert len(fast) == len(learners) * len(encoder.skills)
    pd.testing.assert_frame_equal(fast.drop(columns="p_correct"), slow.drop(columns="p_correct"))
    assert fast["p_correct"].to_numpy() == pytest.approx(slow["p_correct"].to_numpy(), abs=1e-6)
    assert fast["p_correct"].std() > 0  # the candidates differ, so a wrong index would show
