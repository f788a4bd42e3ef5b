"""Knowledge states: shape, agreement of the direct and the generic computation, the heatmap, predict.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ktlab.data.formats import read_lines
from ktlab.data.states import knowledge_states
from ktlab.models.checkpoint import load_model, restore_datamodule
from ktlab.predict import predict_frame
from ktlab.train import train
from tests.conftest import compose_config, run_cli
from tests.zoo.conftest import PID, PID_DATA, TINY_TRAINER, shrink


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("states")
    cfg = shrink(compose_config("train", [*PID_DATA, *TINY_TRAINER, "model=dkt"], tmp))
    train(cfg)
    return Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt"


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    frame = read_lines(PID / "assist2009_pid_test1.csv", "4line")
    keep = frame["student_id"].drop_duplicates().iloc[:3]
    return frame[frame["student_id"].isin(keep)]


class Hidden(torch.nn.Module):
    """The same network without its ``skill_states`` shortcut: the generic path must agree."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.inner = net

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.inner(batch)


def test_states_have_one_row_per_step_and_skill_and_both_paths_agree(
    checkpoint: Path, history: pd.DataFrame
) -> None:
    model = load_model(checkpoint)
    encoder = restore_datamodule(model).encoder
    states = knowledge_states(model, history, encoder, max_len=32)
    k = len(encoder.skills)
    steps = history.groupby("student_id").size().clip(upper=32)
    assert len(states) == int(steps.sum()) * k
    assert states["p_correct"].between(0, 1).all()
    assert (
        states.groupby("student_id")["step"].max().sort_index().tolist() == (steps - 1).sort_index().tolist()
    )
    generic = knowledge_states(Hidden(model.net), history, encoder, max_len=32)
    np.testing.assert_allclose(states["p_correct"], generic["p_correct"], atol=1e-5)
    # The last state on each skill is what the next-step prediction says.
    nxt = predict_frame(checkpoint, history, max_len=32).set_index(["student_id", "skill_id"])["p_correct"]
    last = states[states["step"] == states.groupby("student_id")["step"].transform("max")]
    got = last.set_index(["student_id", "skill_id"])["p_correct"]
    np.testing.assert_allclose(got.reindex(nxt.index).to_numpy(), nxt.to_numpy(), atol=1e-5)


@pytest.mark.slow  # a subprocess; the states themselves are checked in-process above
def test_predict_states_writes_the_table_and_a_heatmap(
    checkpoint: Path, history: pd.DataFrame, tmp_path: Path
) -> None:
    history_csv = tmp_path / "history.csv"
    history.to_csv(history_csv, index=False)
    out = tmp_path / "run"
    done = run_cli(
        "predict.py", f"ckpt_path={checkpoint}", f"input={history_csv}", f"output={tmp_path / 'pred.csv'}",
        "states=true", f"hydra.run.dir={out}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    states = pd.read_csv(out / "states.csv", dtype={"student_id": str, "skill_id": str})
    assert set(states["student_id"]) == set(history["student_id"])
    first = history["student_id"].iloc[0]
    assert (out / f"states_{first}.png").stat().st_size > 1000
    assert (tmp_path / "pred.csv").exists()
