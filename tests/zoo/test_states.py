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


def test_an_unknown_states_learner_is_refused_before_anything_is_written(
    checkpoint: Path, history: pd.DataFrame, tmp_path: Path, capsys
) -> None:
    from ktlab.predict import run

    history_csv = tmp_path / "history.csv"
    history.to_csv(history_csv, index=False)
    cfg = compose_config("predict", [f"ckpt_path={checkpoint}", f"input={history_csv}", "states=true",
                                     "states_learner=nobody"], tmp_path)  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        run(cfg)
    assert exit_info.value.code == 2
    assert "states_learner='nobody': no such learner in the history" in " ".join(
        capsys.readouterr().err.split()
    )
    out = Path(cfg.paths.output_dir)
    assert not (out / "states.csv").exists() and not (out / "predictions.csv").exists()


def test_the_heatmap_lists_skills_in_natural_order(tmp_path: Path) -> None:
    from ktlab.inference.states import plot_states, state_grid

    answered = ["skill 10", "skill 2", "skill 10", "skill 1", "Skill 3"]
    skills = ["skill 1", "skill 10", "skill 2", "Skill 3", "skill 20"]
    rows = [("amy", step, step, a, step % 2, k, 0.1 + 0.15 * i + 0.02 * step)
            for step, a in enumerate(answered) for i, k in enumerate(skills)]  # fmt: skip
    states = pd.DataFrame(
        rows, columns=["student_id", "step", "t", "answered_skill", "correct", "skill_id", "p_correct"]
    )
    grid, _ = state_grid(states, "amy")
    assert list(grid.index) == ["skill 1", "skill 2", "Skill 3", "skill 10"]  # skill 20 was not answered
    assert grid.loc["skill 10", 0] == pytest.approx(0.25)
    assert plot_states(states, "amy", tmp_path / "amy.png").stat().st_size > 1000
