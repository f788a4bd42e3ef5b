"""A file of another layout is read through a column map declared at the reader, not renamed by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from ktlab.data.sources import FileSource
from ktlab.errors import ConfigError, DataValidationError
from ktlab.train import train

LOG = "user_id,seq,skill,is_correct\nu007,1,add,1\nu007,2,add,0\nu7,1,sub,1\n"
MAP = {"student_id": "user_id", "t": "seq", "skill_id": "skill", "correct": "is_correct"}


def test_a_mapped_file_reads_as_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    frame = FileSource(path, columns=MAP).load(["student_id", "t", "skill_id", "correct"])
    assert list(frame.columns) == ["student_id", "t", "skill_id", "correct"]
    assert frame["student_id"].tolist() == ["u007", "u007", "u7"]
    assert frame["correct"].tolist() == [1, 0, 1] and frame["t"].tolist() == [1.0, 2.0, 1.0]


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({**MAP, "correct": "right"}, "it maps correct: right, and the file has no such column"),
        ({**MAP, "correct": "is_correct", "skill_id": "user_id"}, None),  # two onto one: refused up front
    ],
)
def test_a_map_that_does_not_fit_the_file_is_named(
    tmp_path: Path, columns: dict, message: str | None
) -> None:
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    if message is None:
        with pytest.raises(ConfigError, match="maps two columns to one file column"):
            FileSource(path, columns=columns)
        return
    with pytest.raises(DataValidationError, match=message):
        FileSource(path, columns=columns).load(["student_id", "t", "skill_id", "correct"])


def test_only_schema_columns_may_be_mapped(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"columns=.*maps the schema's columns"):
        FileSource(tmp_path / "x.csv", columns={"learner": "user_id"})


def test_training_reads_another_layout_through_the_config(make_cfg, tmp_path: Path) -> None:
    from ktlab.data.synthetic import ClassroomConfig, generate_classroom

    frame = generate_classroom(ClassroomConfig(n_students=60, min_len=12, max_len=24, seed=2))
    frame = frame[["student_id", "t", "skill_id", "correct"]]
    path = tmp_path / "platform.csv"
    frame.rename(columns={"student_id": "user_id", "correct": "is_correct"}).to_csv(path, index=False)
    cfg = make_cfg(
        "train", "data=csv", f"data.path={path}", "model=dkt", "data.context_features=[]",
        "data.query_features=[]", "data.source.columns={student_id: user_id, correct: is_correct}",
        "trainer.max_epochs=1", "test=false",
    )  # fmt: skip
    train(cfg)
    assert (Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt").is_file()
