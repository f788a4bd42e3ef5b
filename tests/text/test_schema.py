"""Answer-log validation: one paragraph naming file, row, line, column and value; duplicates dropped."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from ktlab.data.schema import SCHEMA
from ktlab.data.text.schema import NOTEBOOK_COLUMNS, question_key, validate_answers, validate_questions
from ktlab.data.text.sources import AnswerFileSource
from ktlab.errors import DataValidationError
from tests.conftest import ASSETS

SAMPLE = ASSETS / "text_answers_sample.csv"


def _write(frame: pd.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "answers.csv"
    frame.to_csv(path, index=False)
    return path


def test_the_sample_log_validates_and_ids_questions_by_text() -> None:
    log = AnswerFileSource(SAMPLE).load()
    assert len(log.answers) == len(pd.read_csv(SAMPLE))
    assert set(log.answers["correct"].unique()) <= {0, 1}
    assert log.questions["problem_id"].is_unique and log.questions["problem_id"].str.startswith("q_").all()
    assert not {"user_id", "is_correct", "question_id"} & set(log.answers.columns)  # renamed on read
    assert (log.answers["option_e"] == "").any()  # four-option questions keep an empty fifth option


def test_a_bad_cell_is_named_by_row_line_column_and_value(tmp_path: Path) -> None:
    frame = pd.read_csv(SAMPLE, dtype=str)
    frame.loc[4, "is_correct"] = "maybe"
    frame.loc[7, "question_title"] = "  "
    with pytest.raises(DataValidationError) as info:
        AnswerFileSource(_write(frame, tmp_path)).load()
    message = str(info.value)
    assert "answers.csv, row 5 (line 6), column 'is_correct': value 'maybe' is not 0 or 1" in message
    assert "row 8 (line 9), column 'question_title'" in message
    assert "\n" not in message


def test_a_missing_column_lists_what_an_answer_log_needs(tmp_path: Path) -> None:
    frame = pd.read_csv(SAMPLE).drop(columns=["axis_name"])
    with pytest.raises(DataValidationError, match=r"lacks the column\(s\) axis_name"):
        AnswerFileSource(_write(frame, tmp_path)).load()


def test_duplicate_answer_ids_are_dropped_and_counted(tmp_path: Path, caplog) -> None:
    frame = pd.read_csv(SAMPLE)
    doubled = pd.concat([frame, frame.iloc[:3]], ignore_index=True)
    with caplog.at_level(logging.WARNING):
        log = AnswerFileSource(_write(doubled, tmp_path)).load()
    assert len(log.answers) == len(frame)
    assert "dropped 3 row(s) repeating an earlier answer_id" in caplog.text


def test_a_question_id_naming_two_questions_is_refused(tmp_path: Path) -> None:
    frame = pd.read_csv(SAMPLE)
    frame["question_id"] = "same"
    with pytest.raises(DataValidationError, match="column 'question_id': value 'same' names a question"):
        validate_answers(frame, "answers.csv", line_offset=2)
    record = frame.rename(columns=NOTEBOOK_COLUMNS)  # the same file in the record's names
    with pytest.raises(DataValidationError, match="column 'problem_id': value 'same' names a question"):
        validate_answers(record, "answers.csv", line_offset=2)


def test_true_false_answers_and_absent_option_e_are_accepted() -> None:
    frame = pd.read_csv(SAMPLE).drop(columns=["option_e"])
    frame["is_correct"] = frame["is_correct"].map({1: "true", 0: "False"})
    clean = validate_answers(frame, "x")
    assert clean["correct"].tolist() == pd.read_csv(SAMPLE)["is_correct"].tolist()
    assert (clean["option_e"] == "").all()


def test_question_ids_depend_on_text_and_options_only() -> None:
    questions = validate_questions(pd.read_csv(SAMPLE).drop_duplicates("question_title"), "x")
    other = questions.copy()
    other["topic_name"] = "another topic"
    assert question_key(other).tolist() == questions["problem_id"].tolist()
    other["option_a"] = other["option_a"] + "0"
    assert not (question_key(other) == questions["problem_id"]).any()


HEAD = "answer_id,user_id,is_correct,question_title,option_a,option_b,option_c,option_d,option_e,topic_name,subject_name,axis_name"


def test_options_and_ids_reach_the_model_as_written(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(
        f"{HEAD}\n"
        "0,007,1,Which is half?,0.50,007,1e3,74,,Fractions,Numbers,Number\n"
        "00,7,0,Which is half?,0.50,007,1e3,74,,Fractions,Numbers,Number\n"
        "NA,null,1,Which is half?,0.50,007,1e3,74,NA,Fractions,Numbers,Number\n"
    )
    log = AnswerFileSource(path).load()
    assert log.answers["answer_id"].tolist() == ["0", "00", "NA"]
    assert log.answers["student_id"].tolist() == ["007", "7", "null"]
    first = log.questions.iloc[0]
    assert [first[c] for c in ("option_a", "option_b", "option_c", "option_d")] == [
        "0.50",
        "007",
        "1e3",
        "74",
    ]
    assert log.questions["option_e"].tolist() == ["", "NA"]


def test_unknown_columns_of_an_answer_log_are_refused_unless_ignored(tmp_path: Path) -> None:
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    with_f = frame.assign(option_f="12")
    with pytest.raises(DataValidationError) as info:
        AnswerFileSource(_write(with_f, tmp_path)).load()
    message = str(info.value)
    assert "answers.csv, line 1 (the header): the column(s) option_f are not question options" in message
    assert "option_a, option_b, option_c, option_d, option_e" in message
    extra = frame.assign(answered_at="2026-01-01")
    with pytest.raises(DataValidationError, match=r"unknown column\(s\) answered_at; an answer log has the "
                       "columns answer_id, user_id"):  # fmt: skip
        AnswerFileSource(_write(extra, tmp_path)).load()
    assert len(
        AnswerFileSource(_write(extra, tmp_path), ignore_columns=["answered_at"]).load().answers
    ) == len(frame)


def test_a_trailing_comma_in_an_answer_log_is_named_once(tmp_path: Path) -> None:
    lines = SAMPLE.read_text().splitlines()
    path = tmp_path / "answers.csv"
    path.write_text("\n".join([lines[0], *(line + "," for line in lines[1:])]) + "\n")
    with pytest.raises(DataValidationError) as info:
        AnswerFileSource(path).load()
    assert str(info.value).startswith(
        f"{path}, line 2: the data lines have more fields than the header: line 2 has 13, the last of them "
        "empty (a trailing separator?), the header (line 1) names 12 columns"
    )


def test_the_notebook_names_are_the_answer_records_columns() -> None:
    assert set(NOTEBOOK_COLUMNS.values()) <= set(SCHEMA)  # declared by ktlab.data.schema


def test_a_log_in_the_records_names_reads_as_the_notebooks(tmp_path: Path) -> None:
    notebook = AnswerFileSource(SAMPLE).load()
    renamed = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).rename(columns=NOTEBOOK_COLUMNS)
    record = AnswerFileSource(_write(renamed, tmp_path)).load()
    pd.testing.assert_frame_equal(record.answers, notebook.answers)
    pd.testing.assert_frame_equal(record.questions, notebook.questions)


def test_messages_name_the_columns_as_the_file_does(tmp_path: Path) -> None:
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    record = frame.rename(columns=NOTEBOOK_COLUMNS)
    record.loc[2, "correct"] = "maybe"
    record.loc[3, "student_id"] = " "
    with pytest.raises(DataValidationError) as info:
        AnswerFileSource(_write(record, tmp_path)).load()
    message = str(info.value)
    assert "row 3 (line 4), column 'correct': value 'maybe'" in message
    assert "row 4 (line 5), column 'student_id': an empty value is not a non-empty text" in message
    with pytest.raises(DataValidationError) as info:  # a notebook file lacking its answers
        AnswerFileSource(_write(frame.drop(columns=["is_correct"]), tmp_path)).load()
    message = str(info.value)
    assert "lacks the column(s) is_correct; it has answer_id, user_id, question_title" in message
    assert "An answer log needs answer_id, user_id, is_correct, question_title" in message
    assert "student_id or user_id, correct or is_correct, problem_id or question_id" in message
    with pytest.raises(
        DataValidationError, match=r"lacks the column\(s\) correct; it has answer_id, student_id"
    ):
        AnswerFileSource(_write(record.drop(columns=["correct"]), tmp_path)).load()


def test_a_column_named_both_ways_is_refused(tmp_path: Path) -> None:
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    both = frame.assign(student_id=frame["user_id"])
    with pytest.raises(DataValidationError) as info:
        AnswerFileSource(_write(both, tmp_path)).load()
    assert str(info.value) == (
        f"{tmp_path / 'answers.csv'}, line 1 (the header): has the columns user_id and student_id, the "
        "original notebook's and ktlab's name of one column; keep one of them (see docs/text_students.md)."
    )
