"""The predictor: one load, many calls, the same answers as the per-call path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import ktlab
from ktlab import Predictor
from ktlab.data.states import knowledge_states
from ktlab.data.synthetic import ClassroomConfig, generate_classroom
from ktlab.errors import CheckpointError, ConfigError
from ktlab.predict import predict_frame
from tests.conftest import tiny_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_checkpoint(tmp_path_factory.mktemp("predictor"))


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return generate_classroom(ClassroomConfig(n_students=3, min_len=40, max_len=60, seed=3))


def test_predictor_is_exported_lazily() -> None:
    assert ktlab.Predictor is Predictor
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = ktlab.Nope


def test_load_once_answers_like_a_fresh_load_every_call(checkpoint: Path, history: pd.DataFrame) -> None:
    predictor = Predictor.load(checkpoint)
    first = predictor.predict(history)
    again = predictor.predict(history)
    fresh = predict_frame(checkpoint, history)
    assert len(first) == 3 * 5  # three learners, five skills
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first, fresh)
    one = predictor.predict(history[history["student_id"] == history["student_id"].iloc[0]])
    pd.testing.assert_frame_equal(one, first.iloc[:5].reset_index(drop=True), check_exact=False, atol=1e-6)
    assert predictor.max_len == 16


def test_states_are_the_knowledge_states(checkpoint: Path, history: pd.DataFrame) -> None:
    predictor = Predictor.load(checkpoint)
    states = predictor.states(history, max_len=20)
    expected = knowledge_states(predictor.model, history, predictor.datamodule.encoder, max_len=20)
    pd.testing.assert_frame_equal(states, expected)
    assert states.groupby("student_id")["step"].max().tolist() == [19, 19, 19]


def test_a_missing_checkpoint_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        Predictor.load(tmp_path / "nope.ckpt")


def test_a_family_without_states_says_so(checkpoint: Path) -> None:
    predictor = Predictor.load(checkpoint)

    class Questions:  # a DataModule that answers questions only, as the text family's does
        def predict(self, model, frame):  # pragma: no cover - never called
            return frame

    textlike = Predictor(predictor.model, Questions(), source="text.ckpt")
    with pytest.raises(ConfigError, match=r"text\.ckpt: this model traces no knowledge states"):
        textlike.states(pd.DataFrame())
    with pytest.raises(ConfigError, match="reads question texts"):
        textlike.required_columns()
