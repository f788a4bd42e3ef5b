"""Interaction files read as written: ids verbatim, encodings, line numbers and field counts in messages."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ktlab.data.encoding import InteractionEncoder
from ktlab.data.formats import read_lines
from ktlab.data.io import read_table
from ktlab.data.sources import FileSource
from ktlab.errors import DataValidationError

CORE = ["student_id", "t", "skill_id", "correct"]
HEADER = "student_id,t,skill_id,correct,problem_id\n"


def _csv(tmp_path: Path, text: str, name: str = "answers.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_numeric_looking_ids_are_kept_as_written(tmp_path: Path) -> None:
    rows = ["007,0,s1,1,7", "7,0,s1,0,007", "NA,0,None,1,null", "nan,0,s1,0,1e3", "null,0,s2,1, 7 "]
    path = _csv(tmp_path, HEADER + "\n".join(rows) + "\n")
    frame = FileSource(path).load([*CORE, "problem_id"])
    assert frame["student_id"].tolist() == ["007", "7", "NA", "nan", "null"]
    assert frame["problem_id"].tolist() == ["7", "007", "null", "1e3", "7"]
    assert frame["skill_id"].tolist() == ["s1", "s1", "None", "s1", "s2"]
    encoder = InteractionEncoder([], [], ["skill_id", "problem_id"]).fit(frame)
    assert sorted(encoder.vocab["problem_id"]) == ["007", "1e3", "7", "null"]


def test_only_an_empty_cell_is_empty_and_its_line_is_named(tmp_path: Path) -> None:
    path = _csv(tmp_path, HEADER + "NA,0,s1,1,7\nNA,1,,0,7\n")
    with pytest.raises(DataValidationError) as info:
        FileSource(path).load(CORE)
    assert f"{path}, row 2 (line 3), column 'skill_id': an empty value is not a non-empty skill id" in str(
        info.value
    )
    assert "student_id" not in str(info.value)


def test_a_trailing_comma_on_data_lines_is_named_once(tmp_path: Path) -> None:
    path = _csv(tmp_path, "student_id,t,skill_id,correct\na,0,s,1,\na,1,s,0,\nb,0,s,1,\n")
    with pytest.raises(DataValidationError) as info:
        FileSource(path).load(CORE)
    message = str(info.value)
    assert message.startswith(f"{path}, line 2: the data lines have more fields than the header")
    assert "line 2 has 5, the last of them empty (a trailing separator?)" in message
    assert "the header (line 1) names 4 columns (2 more data line(s) are longer too)" in message
    assert "Invalid interaction data" not in message


def test_a_trailing_comma_on_every_line_is_harmless(tmp_path: Path) -> None:
    path = _csv(tmp_path, "student_id,t,skill_id,correct,\na,0,s,1,\na,1,s,0,\n")
    assert FileSource(path).load(CORE)["correct"].tolist() == [1, 0]


def test_lines_are_counted_across_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    path = _csv(tmp_path, 'student_id,t,skill_id,correct\na,0,"two\nlines",1\n\n\nb,0,s,2\n')
    with pytest.raises(DataValidationError, match=r"row 2 \(line 6\), column 'correct': value 2 is not"):
        FileSource(path).load(CORE)


def test_unknown_columns_are_left_out_with_one_warning(tmp_path: Path, caplog) -> None:
    path = _csv(tmp_path, "student_id,t,skill_id,correct,problem_ids,attempts\na,0,s,1,p,3\na,1,s,0,p,1\n")
    with caplog.at_level(logging.WARNING):
        frame = FileSource(path).load(CORE)
    assert list(frame.columns) == CORE
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert (
        "problem_ids (did you mean problem_id?), attempts (did you mean attempt_no?) are not part of the interaction schema"
        in (warnings[0])
    )


@pytest.mark.parametrize("suffix", [".csv", ".txt"])
def test_latin1_text_is_refused_naming_line_and_byte(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"latin{suffix}"
    if suffix == ".csv":
        path.write_bytes("student_id,t,skill_id,correct\ncaf\xe9,0,s,1\n".encode("latin-1"))
    else:
        path.write_bytes("2\nfractions,d\xe9cimales\n1,0\n".encode("latin-1"))
    with pytest.raises(DataValidationError) as info:
        FileSource(path).load(CORE) if suffix == ".csv" else read_lines(path)
    message = str(info.value)
    assert message.startswith(f"{path}, line 2, byte ")
    assert "byte 0xe9 is not UTF-8" in message and "Save it as UTF-8" in message


def test_utf16_with_a_byte_order_mark_is_read_and_without_one_refused(tmp_path: Path) -> None:
    table = tmp_path / "u16.csv"
    table.write_bytes("student_id,t,skill_id,correct\ncafé,0,s,1\n".encode("utf-16"))
    assert FileSource(table).load(CORE)["student_id"].tolist() == ["café"]
    lines = tmp_path / "u16.txt"
    lines.write_bytes("2\n7,007\n1,0\n".encode("utf-16"))
    assert read_lines(lines)["skill_id"].tolist() == ["7", "007"]
    lines.write_bytes("2\n7,007\n1,0\n".encode("utf-16-le"))
    with pytest.raises(DataValidationError, match=r"u16\.txt, line 1: the file holds NUL characters"):
        read_lines(lines)


def test_a_utf8_byte_order_mark_does_not_rename_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffstudent_id,t,skill_id,correct\na,0,s,1\n".encode())
    frame, lines = read_table(path)
    assert list(frame.columns) == CORE and lines == 2
