"""Validation of interaction tables: every error names file, row, column and value."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ktlab.data.io import read_table
from ktlab.data.schema import INTERACTION_COLUMNS, required_columns, validate_interactions
from ktlab.data.sources import FileSource
from ktlab.data.template import ROWS, template_frame
from ktlab.errors import ConfigError, DataValidationError


def template() -> pd.DataFrame:
    return template_frame()


def write(tmp_path: Path, frame: pd.DataFrame, name: str = "bad.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_template_is_valid_and_typed() -> None:
    clean = validate_interactions(template(), "template")
    assert list(clean.columns) == [*INTERACTION_COLUMNS, "split"]
    assert clean["correct"].dtype.kind == "i" and clean["student_id"].iloc[0] == "alice"


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("difficulty", 0.95, "not a number in [0.2, 0.9]"),
        ("adjustment", 2, "not -1, 0 or 1"),
        ("time_spent", 0, "not a number of seconds > 0"),
        ("motivation", 1.5, "not a number in [0, 1]"),
        ("anxiety_level", -0.1, "not a number in [0, 1]"),
        ("phase_type", "lesson", "not one of hub, exploration"),
        ("correct", "yes", "not 0 or 1"),
        ("t", None, "an empty value"),
        ("skill_id", None, "an empty value"),
    ],
)
def test_bad_value_names_file_row_line_column_and_value(
    tmp_path: Path, column: str, value, expected: str
) -> None:
    frame = template().astype(object)
    frame.loc[5, column] = value
    path = write(tmp_path, frame)
    with pytest.raises(DataValidationError) as info:
        FileSource(path).load(INTERACTION_COLUMNS)
    message = str(info.value)
    assert str(path) in message
    assert "row 6 (line 7)" in message
    assert f"column '{column}'" in message
    assert expected in message


def test_all_problems_reported_at_once_with_counts(tmp_path: Path) -> None:
    frame = template()
    frame.loc[[1, 2], "difficulty"] = 5.0
    frame.loc[3, "motivation"] = 2.0
    with pytest.raises(DataValidationError) as info:
        validate_interactions(frame, "x.csv")
    message = str(info.value)
    assert "column 'difficulty'" in message and "column 'motivation'" in message
    assert "1 more row(s)" in message


def test_duplicate_student_step(tmp_path: Path) -> None:
    frame = template()
    frame.loc[2, "t"] = 1
    with pytest.raises(
        DataValidationError, match=r"row 3.*\('alice', 1\) appears again and names the same skill twice"
    ):
        validate_interactions(frame, "dup.csv")


def test_missing_column_lists_what_is_there(tmp_path: Path) -> None:
    path = write(tmp_path, template().drop(columns=["anxiety_level"]))
    with pytest.raises(DataValidationError, match="lacks the column\\(s\\) anxiety_level"):
        FileSource(path).load(INTERACTION_COLUMNS)


def test_missing_column_allowed_when_feature_disabled(tmp_path: Path) -> None:
    path = write(tmp_path, template().drop(columns=["anxiety_level", "time_spent"]))
    frame = FileSource(path).load(required_columns(["difficulty"], ["difficulty"]))
    assert "anxiety_level" not in frame and len(frame) == len(ROWS)


def test_empty_missing_and_unknown_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataValidationError, match=r"empty\.csv: the file is empty"):
        read_table(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(INTERACTION_COLUMNS) + "\n")
    with pytest.raises(DataValidationError, match="holds no interactions"):
        FileSource(header_only).load()
    with pytest.raises(DataValidationError, match="no such file"):
        read_table(tmp_path / "nope.csv")
    odd = tmp_path / "data.xlsx"
    odd.write_text("x")
    with pytest.raises(DataValidationError, match=r"unknown file type '\.xlsx'"):
        read_table(odd)


def test_parquet_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    template().to_parquet(path)
    assert len(FileSource(path).load()) == len(ROWS)


def test_query_features_cannot_leak_the_answer() -> None:
    with pytest.raises(ConfigError, match="'time_spent', which is measured while answering"):
        required_columns(["difficulty"], ["time_spent"])
    with pytest.raises(ConfigError, match="names 'skill', which is not a context signal"):
        required_columns(["skill"], [])
