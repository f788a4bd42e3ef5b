"""The predictor reads learners' histories from the learner database (SQLite file and PostgreSQL)."""

from __future__ import annotations

import pandas as pd
import pytest

from ktlab import Predictor
from ktlab.data.schema import validate_interactions
from ktlab.data.synthetic import ClassroomConfig, generate_classroom
from ktlab.db.ingest import ingest_frame
from ktlab.errors import ConfigError
from tests.conftest import tiny_checkpoint


@pytest.fixture(scope="module")
def predictor(tmp_path_factory: pytest.TempPathFactory) -> Predictor:
    return Predictor.load(tiny_checkpoint(tmp_path_factory.mktemp("predictor_db")))


def test_predictions_from_stored_answers_equal_those_from_the_frame(
    predictor: Predictor, migrated_url: str, sessions
) -> None:
    frame = generate_classroom(ClassroomConfig(n_students=4, min_len=20, max_len=30, seed=9))
    with sessions.begin() as session:
        ingest_frame(session, validate_interactions(frame, "classroom"), "classroom")
    learners = sorted(frame["student_id"].unique())[:2]
    from_db = predictor.predict_learners([*learners, "nobody"], db=migrated_url)
    wanted = frame[frame["student_id"].isin(learners)].drop(columns="p_correct_true")
    from_frame = predictor.predict(wanted)
    assert sorted(from_db["student_id"].unique()) == learners
    pd.testing.assert_frame_equal(
        from_db.sort_values(["student_id", "skill_id"]).reset_index(drop=True),
        from_frame.sort_values(["student_id", "skill_id"]).reset_index(drop=True),
        check_exact=False,
        atol=1e-6,
    )


def test_learners_without_answers_are_refused(predictor: Predictor, migrated_url: str) -> None:
    with pytest.raises(ConfigError, match="holds no answers of ghost"):
        predictor.predict_learners(["ghost"], db=migrated_url)
