"""Next-step prediction per skill, as a Python call and through predict.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ktlab.data.synthetic import ClassroomConfig, generate_classroom
from ktlab.predict import predict_frame
from ktlab.train import train
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    from tests.conftest import TINY, compose_config

    tmp = tmp_path_factory.mktemp("predict")
    cfg = compose_config("train", [*TINY, "data.source.n_students=120", "trainer.max_epochs=2"], tmp)
    train(cfg)
    return Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt"


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    frame = generate_classroom(ClassroomConfig(n_students=12, min_len=5, max_len=40, seed=99))
    return frame.drop(columns=["p_correct_true"])


def test_one_row_per_learner_and_skill(checkpoint: Path, history: pd.DataFrame) -> None:
    out = predict_frame(checkpoint, history)
    assert len(out) == 12 * 5
    assert out["p_correct"].between(0, 1).all()
    assert set(out["skill_id"]) == {"0", "1", "2", "3", "4"}
    lengths = history.groupby("student_id").size()
    counted = out.groupby("student_id")["n_answers"].first()
    assert counted.sort_index().tolist() == lengths.sort_index().tolist()


def test_prediction_uses_the_history_and_the_difficulty(checkpoint: Path, history: pd.DataFrame) -> None:
    base = predict_frame(checkpoint, history)
    flipped = history.assign(correct=1 - history["correct"])
    assert not np.allclose(base["p_correct"], predict_frame(checkpoint, flipped)["p_correct"])
    # The query of each skill carries the learner's last difficulty on it.
    last = history.sort_values("t").groupby(["student_id", "skill_id"])["difficulty"].last()
    keyed = base.set_index(["student_id", "skill_id"])["difficulty"]
    np.testing.assert_allclose(keyed.reindex(last.index).to_numpy(), last.to_numpy())


def test_row_order_does_not_matter(checkpoint: Path, history: pd.DataFrame) -> None:
    a = predict_frame(checkpoint, history).sort_values(["student_id", "skill_id"]).reset_index(drop=True)
    shuffled = history.sample(frac=1.0, random_state=1)
    b = predict_frame(checkpoint, shuffled).sort_values(["student_id", "skill_id"]).reset_index(drop=True)
    np.testing.assert_allclose(a["p_correct"], b["p_correct"], rtol=1e-5, atol=1e-6)


def test_unseen_skill_in_history_is_tolerated(checkpoint: Path, history: pd.DataFrame) -> None:
    odd = history.copy()
    odd.loc[odd.index[::7], "skill_id"] = "never-seen"
    out = predict_frame(checkpoint, odd)
    assert "never-seen" not in set(out["skill_id"]) and len(out) == 12 * 5


def test_predict_cli(checkpoint: Path, history: pd.DataFrame, tmp_path: Path) -> None:
    source = tmp_path / "history.csv"
    history.to_csv(source, index=False)
    target = tmp_path / "pred.csv"
    result = run_cli("predict.py", f"ckpt_path={checkpoint}", f"input={source}", f"output={target}",
                     f"paths.root_dir={tmp_path}")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(pd.read_csv(target)) == 12 * 5
    assert "Traceback" not in result.stderr and "error" not in result.stderr.lower()


def test_predict_bad_history_value_is_one_paragraph(checkpoint: Path, history: pd.DataFrame, tmp_path: Path,
                                                    make_cfg, capsys) -> None:  # fmt: skip
    """The same entry function as predict.py (in-process: the CLI's own run is checked above)."""
    from ktlab.predict import run

    source = tmp_path / "history.csv"
    broken = history.copy()
    broken.loc[3, "phase_type"] = "recess"
    broken.to_csv(source, index=False)
    cfg = make_cfg("predict", f"ckpt_path={checkpoint}", f"input={source}", f"output={tmp_path / 'p.csv'}",
                   tiny=False)  # fmt: skip
    with pytest.raises(SystemExit) as info:
        run(cfg)
    assert info.value.code == 2
    err = capsys.readouterr().err.replace("\n", " ")
    assert "row 4 (line 5), column 'phase_type': value 'recess'" in err
    assert "Traceback" not in err


def test_prediction_arguments_are_all_checked_at_once(tmp_path: Path) -> None:
    from ktlab.errors import ConfigError
    from ktlab.predict import check_paths
    from tests.conftest import compose_config

    cfg = compose_config("predict", ["ckpt_path=x.ckpt", "input=''", "batch_size=0", "max_len=2.5"], tmp_path)
    with pytest.raises(ConfigError) as err:
        check_paths(cfg)
    message = str(err.value)
    assert message.startswith("Invalid prediction arguments: ")
    for part in (
        "input='???': is missing",
        "batch_size=0: must be >= 1",
        "max_len=2.5: must be an integer >= 1",
    ):
        assert part in message
