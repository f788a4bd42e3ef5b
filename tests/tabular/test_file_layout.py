"""An answer file in the record's names or in the database's (the layout of earlier versions) reads the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ktlab.errors import DataValidationError
from ktlab.tabular.data import FILE_COLUMNS, PlatformData, load_file
from ktlab.tabular.features import FeatureEngineering

#: The database's name of each record column a file of earlier versions used.
OLD_NAMES = {"student_id": "user_id", "skill_id": "skill_domain", "correct": "is_correct",
             "time_spent": "time_taken", "timestamp": "answered_at", "problem_id": "exercise_id"}  # fmt: skip


def _file(platform: PlatformData, path: Path, names: dict[str, str]) -> Path:
    answers = platform.answers.drop(columns=["p_correct_true"]).merge(platform.learners, on="student_id")
    answers.rename(columns=names).to_csv(path, index=False)
    return path


def test_the_file_map_is_the_database_layout() -> None:
    assert {old: new for new, old in OLD_NAMES.items()} == FILE_COLUMNS


def test_both_layouts_give_the_same_answers_and_features(platform: PlatformData, tmp_path: Path) -> None:
    old = load_file(_file(platform, tmp_path / "old.csv", OLD_NAMES))
    new = load_file(_file(platform, tmp_path / "new.csv", {}))
    assert list(old.answers.columns) == list(new.answers.columns)
    assert {"student_id", "skill_id", "correct", "time_spent", "timestamp", "problem_id"} <= set(new.answers)
    assert old.answers["student_id"].dtype.kind == "i"  # pandas parses user_id, as before
    assert set(new.answers["student_id"]) == {str(u) for u in platform.learners["student_id"]}  # text id
    by_id = ["student_id", "timestamp", "t"]
    pd.testing.assert_frame_equal(
        old.answers.assign(student_id=old.answers["student_id"].astype(str)).sort_values(
            by_id, ignore_index=True
        ),
        new.answers.sort_values(by_id, ignore_index=True),
        check_dtype=False,
    )
    assert new.learners.set_index("student_id")["learning_style"].to_dict() == {
        str(k): v for k, v in platform.learners.set_index("student_id")["learning_style"].items()
    }
    fe = FeatureEngineering()
    np.testing.assert_allclose(fe.answer_features(old).to_numpy(), fe.answer_features(platform).to_numpy())


def test_a_column_named_both_ways_is_refused(platform: PlatformData, tmp_path: Path) -> None:
    path = _file(platform, tmp_path / "answers.csv", {"time_spent": "time_taken"})
    pd.read_csv(path).assign(time_spent=1.0).to_csv(path, index=False)
    with pytest.raises(
        DataValidationError, match=r"answers\.csv: the column\(s\) time_taken and time_spent are one"
    ):
        load_file(path)


def test_a_bad_value_is_named_by_the_file_s_column(platform: PlatformData, tmp_path: Path) -> None:
    path = _file(platform, tmp_path / "answers.csv", OLD_NAMES)
    frame = pd.read_csv(path)
    frame.loc[4, "is_correct"] = 3
    frame.to_csv(path, index=False)
    with pytest.raises(
        DataValidationError, match=r"answers\.csv, row 4, column 'is_correct': value 3 is not 0/1"
    ):
        load_file(path)
