"""Bulk ingestion, reading answers back as training data, concurrent writers and the model registry."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ktlab.data.schema import CORE_COLUMNS, INTERACTION_COLUMNS
from ktlab.data.synthetic import ClassroomConfig, generate_classroom
from ktlab.db.errors import DatabaseError
from ktlab.db.ingest import add_answer, difficulty_level, ensure_users, ingest_file
from ktlab.db.models import ExerciseResponse, MLModel, User
from ktlab.db.registry import DatabaseRegistry, active_model
from ktlab.db.source import DatabaseSource
from ktlab.utils.run_record import RunRecord

from .helpers import counts, run_script


@pytest.fixture
def classroom(tmp_path: Path) -> tuple[pd.DataFrame, Path]:
    frame = generate_classroom(ClassroomConfig(n_students=25, min_len=8, max_len=15, seed=11))
    path = tmp_path / "interactions.csv"
    frame.to_csv(path, index=False)
    return frame, path


def test_difficulty_levels() -> None:
    levels = difficulty_level(pd.Series([0.2, 0.33, 0.35, 0.55, 0.76, 0.9, np.nan]))
    assert levels.tolist()[:6] == [1, 1, 2, 3, 5, 5]
    assert levels.isna().tolist()[-1]


def test_ingest_then_load_round_trip(
    migrated_url: str, engine: Engine, sessions: sessionmaker[Session], classroom
) -> None:
    frame, path = classroom
    with sessions.begin() as session:
        assert ingest_file(session, path) == len(frame)
    assert counts(engine)["exercise_responses"] == len(frame)
    assert counts(engine)["users"] == frame["student_id"].nunique()

    loaded = DatabaseSource(migrated_url).load(INTERACTION_COLUMNS)
    expected = frame[list(INTERACTION_COLUMNS)].sort_values(["student_id", "t"]).reset_index(drop=True)
    expected["student_id"] = expected["student_id"].astype(str)
    expected["skill_id"] = expected["skill_id"].astype(str)
    loaded = loaded.sort_values(["student_id", "t"]).reset_index(drop=True)
    for column in INTERACTION_COLUMNS:
        if loaded[column].dtype.kind == "f":
            np.testing.assert_allclose(
                loaded[column], expected[column].astype(float), rtol=0, atol=1e-12, err_msg=column
            )
        else:
            assert loaded[column].astype(str).tolist() == expected[column].astype(str).tolist(), column

    with sessions() as session:
        levels = session.scalars(select(ExerciseResponse.difficulty_level).distinct()).all()
        assert set(levels) <= {1, 2, 3, 4, 5}

    # The same file again is refused as a whole: nothing is stored twice.
    with pytest.raises(DatabaseError, match="ingested before"), sessions.begin() as session:
        ingest_file(session, path)
    assert counts(engine)["exercise_responses"] == len(frame)


def test_bulk_ingestion_restores_the_learner_key(
    migrated_url: str, engine: Engine, sessions: sessionmaker[Session], classroom, monkeypatch
) -> None:
    """On PostgreSQL a large file lifts the foreign key during COPY; it must be back, and enforced, after."""
    from sqlalchemy import insert, inspect

    import ktlab.db.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "BULK_KEY_ROWS", 10)
    frame, path = classroom
    with sessions.begin() as session:
        assert ingest_file(session, path) == len(frame)
    keys = inspect(engine).get_foreign_keys("exercise_responses")
    assert [k["referred_table"] for k in keys] == ["users"]
    with pytest.raises(Exception, match=r"(?i)foreign key"), sessions.begin() as session:
        session.execute(insert(ExerciseResponse).values(user_id=10**9, t=0, exercise_id="x", skill_domain="x",
                                                        difficulty_level=1, is_correct=True, time_taken=1.0))  # fmt: skip
    assert counts(engine)["exercise_responses"] == len(frame)


def test_ingest_core_columns_only_and_source_refuses_missing_signal(
    migrated_url: str, sessions, tmp_path: Path
) -> None:
    path = tmp_path / "core.csv"
    pd.DataFrame(
        {"student_id": ["a", "a", "b"], "t": [0, 1, 0], "skill_id": ["x", "y", "x"], "correct": [1, 0, 1]}
    ).to_csv(path, index=False)
    with sessions.begin() as session:
        assert ingest_file(session, path) == 3
    source = DatabaseSource(migrated_url)
    assert len(source.load(CORE_COLUMNS)) == 3
    with pytest.raises(Exception, match="column 'motivation': an empty value"):
        source.load([*CORE_COLUMNS, "motivation"])


def test_ingest_script_bad_row_exits_2(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    pd.DataFrame({"student_id": ["a", "a"], "t": [0, 1], "skill_id": ["x", "x"], "correct": [1, 3]}).to_csv(
        path, index=False
    )
    done = run_script("ingest.py", str(path), "--url", sqlite_url, "--init-db", cwd=tmp_path)
    assert done.returncode == 2
    assert "row 2 (line 3), column 'correct': value" in done.stderr.replace("\n", " ")
    assert not (tmp_path / "ktlab.db").exists()  # validated before connecting


def test_source_without_schema_or_answers(sqlite_url: str, migrated_url: str) -> None:
    with pytest.raises(DatabaseError, match="alembic upgrade head"):
        DatabaseSource(f"{sqlite_url}.other").load(CORE_COLUMNS)
    with pytest.raises(DatabaseError, match="holds no answers"):
        DatabaseSource(migrated_url).load(CORE_COLUMNS)


def test_concurrent_writers_store_every_answer_once(engine: Engine, sessions: sessionmaker[Session]) -> None:
    writers, answers = 8, 40
    with sessions.begin() as session:
        ids = ensure_users(session, [f"w{i}" for i in range(writers)])
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            for i in range(answers):
                with sessions.begin() as session:  # one transaction per answer, as on the platform
                    add_answer(
                        session,
                        ids[f"w{k % 4}"],
                        t=k * 1000 + i,
                        skill_domain="fractions",
                        is_correct=i % 3 == 0,
                    )
        except BaseException as err:  # collected and re-raised in the main thread
            errors.append(err)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ExerciseResponse)) == writers * answers
        distinct = conn.scalar(
            select(func.count()).select_from(
                select(ExerciseResponse.user_id, ExerciseResponse.t).distinct().subquery()
            )
        )
        assert distinct == writers * answers


def test_registry_versions_and_active_flag(migrated_url: str, sessions: sessionmaker[Session]) -> None:
    registry = DatabaseRegistry({"url": migrated_url})
    config = {"model": {"net": {"_target_": "ktlab.models.components.recurrent.RecurrentTracer"}}, "seed": 7}
    first = registry.record(
        RunRecord("dkt_gru", {"test/auc": 0.71, "val/loss": float("nan")}, "/tmp/a.ckpt", config, "/tmp/run1")
    )
    second = registry.record(RunRecord("dkt_gru", {"test/auc": 0.74}, "/tmp/b.ckpt", config, "/tmp/run2"))
    other = registry.record(RunRecord("dkt_lstm", {"test/auc": 0.70}, None, config, "/tmp/run3"))
    assert (first.version, second.version, other.version) == (1, 2, 1)
    with sessions() as session:
        active = active_model(session, "dkt_gru")
        assert active is not None and active.version == 2 and active.artifact_path == "/tmp/b.ckpt"
        assert active.kind == "RecurrentTracer" and active.metrics == {"test/auc": 0.74}
        stored_first = session.get(MLModel, first.id)
        assert stored_first.metrics["val/loss"] is None and not stored_first.is_active
        assert stored_first.config["seed"] == 7 and stored_first.config["output_dir"] == "/tmp/run1"
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_an_answer_of_several_skills_is_refused_before_anything_is_stored(sessions, engine: Engine) -> None:
    from ktlab.data.schema import validate_interactions
    from ktlab.db.ingest import ingest_frame
    from ktlab.errors import DataValidationError

    frame = pd.DataFrame(
        {
            "student_id": ["ana", "ana", "ana"],
            "t": [0, 1, 1],
            "skill_id": ["add", "sub", "mul"],
            "correct": [1, 0, 0],
        }
    )
    with (
        pytest.raises(
            DataValidationError, match=r"1 row\(s\) tag an answer with a further skill .*'ana', t=1"
        ),
        sessions.begin() as session,
    ):
        ingest_frame(session, validate_interactions(frame, "multi.csv", required=CORE_COLUMNS), "multi.csv")
    assert counts(engine)["exercise_responses"] == 0 and counts(engine)["users"] == 0
