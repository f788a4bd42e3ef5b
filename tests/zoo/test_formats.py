"""Readers of the released formats (3-line, 4-line, raw ASSISTments) and their sources, on real slices."""

from __future__ import annotations

from pathlib import Path

import pytest

from ktlab.data.formats import AssistmentsCSVSource, KTLinesSource, read_assistments_csv, read_lines
from ktlab.errors import DataValidationError
from tests.zoo.conftest import KT, PID

CORE = ["student_id", "t", "skill_id", "correct"]


def test_three_line_file_reads_every_answer_in_order() -> None:
    frame = read_lines(KT / "assist2009" / "assist2009_updated_train1.csv", "3line")
    lines = (KT / "assist2009" / "assist2009_updated_train1.csv").read_text().splitlines()
    assert frame["student_id"].nunique() == len(lines) // 3 == 40
    assert len(frame) == sum(int(n) for n in lines[0::3])
    first = frame[frame["student_id"] == "assist2009_updated_train1:0"]
    assert first["skill_id"].tolist() == lines[1].split(",")
    assert first["correct"].tolist() == [int(v) for v in lines[2].split(",")]
    assert first["t"].tolist() == list(range(int(lines[0])))


def test_trailing_commas_are_ignored() -> None:
    text = (KT / "synthetic5" / "naive_c5_q50_s4000_v0_train.csv").read_text().splitlines()
    assert text[1].endswith(",")
    frame = read_lines(KT / "synthetic5" / "naive_c5_q50_s4000_v0_train.csv", "3line")
    assert len(frame) == 30 * 50 and frame["skill_id"].ne("").all()


def test_four_line_file_keeps_problem_ids_and_user_ids() -> None:
    frame = read_lines(PID / "assist2009_pid_train1.csv", "4line")
    lines = (PID / "assist2009_pid_train1.csv").read_text().splitlines()
    first_user = lines[0].split(",")[1]
    mine = frame[frame["student_id"] == first_user]
    assert mine["problem_id"].tolist() == lines[1].split(",")
    assert mine["skill_id"].tolist() == lines[2].split(",")
    assert mine["correct"].tolist() == [int(v) for v in lines[3].split(",")]


def test_source_follows_the_released_files() -> None:
    source = KTLinesSource(
        train=PID / "assist2009_pid_train1.csv",
        valid=PID / "assist2009_pid_valid1.csv",
        test=PID / "assist2009_pid_test1.csv",
        format="4line",
    )
    frame = source.load([*CORE, "problem_id"])
    per_split = frame.groupby("split")["student_id"].nunique().to_dict()
    assert per_split == {"train": 40, "val": 10, "test": 10}
    assert set(frame.columns) == {*CORE, "problem_id", "split"}


def test_without_a_valid_file_a_seeded_share_of_training_learners_validates() -> None:
    def load(seed: int):
        return KTLinesSource(
            train=KT / "synthetic5" / "naive_c5_q50_s4000_v0_train.csv",
            test=KT / "synthetic5" / "naive_c5_q50_s4000_v0_test.csv",
            val_fraction=0.2,
            seed=seed,
        ).load(CORE)

    frame = load(0)
    assert frame.groupby("split")["student_id"].nunique().to_dict() == {"train": 24, "val": 6, "test": 10}
    val = set(frame.loc[frame["split"] == "val", "student_id"])
    assert val == set(load(0).query("split == 'val'")["student_id"])
    assert val != set(load(1).query("split == 'val'")["student_id"])


def test_missing_files_name_the_path_the_place_and_the_release(tmp_path: Path) -> None:
    source = KTLinesSource(
        train=tmp_path / "assist2009" / "a_train1.csv",
        test=tmp_path / "assist2009" / "a_test.csv",
        release="github.com/jennyzhang0215/DKVMN",
        dataset="ASSISTments 2009",
    )
    with pytest.raises(DataValidationError) as err:
        source.load(CORE)
    text = str(err.value)
    assert str(tmp_path / "assist2009" / "a_train1.csv") in text and "a_test.csv" in text
    assert "paths.data_dir" in text and "github.com/jennyzhang0215/DKVMN" in text
    with pytest.raises(DataValidationError, match=r"as\.csv are missing"):
        AssistmentsCSVSource(tmp_path / "as.csv", release="x").load(CORE)


def test_a_malformed_record_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("3\n1,2,3\n1,0,1\n2\n4,5\n1,x\n")
    with pytest.raises(DataValidationError, match=r"bad.csv, line 6: answer 'x' is not 0 or 1"):
        read_lines(bad)
    bad.write_text("3\n1,2,3\n1,0\n")
    with pytest.raises(DataValidationError, match=r"bad.csv, line 3: 2 answers, but the learner's record "
                       r"\(from line 1\) has 3 answers \(line 1 says so\)"):  # fmt: skip
        read_lines(bad)
    bad.write_text("3\n1,2,3\n1,0,1\n2\n")
    with pytest.raises(DataValidationError, match=r"line 4: the file ends inside the record starting at line "
                       r"4: it has 1 of its 3 lines, and line 5 should hold the skill ids"):  # fmt: skip
        read_lines(bad)


def test_a_blank_line_is_named_where_it_stands(tmp_path: Path) -> None:
    lines = [line for i in range(40) for line in ("2", f"{i},{i + 1}", "1,0")]
    lines.insert(10, "")  # line 11, between the count and the skill ids of the record of line 10
    bad = tmp_path / "blank.csv"
    bad.write_text("\n".join(lines) + "\n\n\n")
    with pytest.raises(DataValidationError, match=r"blank.csv, line 11: the line is blank, where the skill "
                       r"ids of the record starting at line 10 belong"):  # fmt: skip
        read_lines(bad)


def test_a_learner_without_answers_and_an_empty_id_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("2\n1,2\n1,0\n0\n\n\n")
    with pytest.raises(DataValidationError, match=r"bad.csv, line 4: the learner has 0 answers; a record needs "
                       "at least one answer"):  # fmt: skip
        read_lines(bad)
    bad.write_text("2\n1,2\n1,0\n3\n4,,5\n1,0,1\n")
    with pytest.raises(DataValidationError, match=r"bad.csv, line 5: value 2 of the skill ids is empty"):
        read_lines(bad)
    bad.write_text("7,u1\n1,2\n3\n1,0\n")
    with pytest.raises(DataValidationError, match=r"bad.csv, line 3: 1 skill ids, but the learner's record "
                       r"\(from line 1\) has 2 answers \(line 2 lists that many problem ids\)"):  # fmt: skip
        read_lines(bad, "4line")


def test_ids_of_line_files_are_kept_as_written(tmp_path: Path) -> None:
    (tmp_path / "tr.csv").write_text("1,NA\n7,007,07\n1,1,01\n1,0,1\n2,None\n7\n1\n1\n")
    (tmp_path / "te.csv").write_text("3,007\n7\n1\n0\n4,7\n007\n1\n1\n")
    source = KTLinesSource(
        train=tmp_path / "tr.csv", test=tmp_path / "te.csv", format="4line", val_fraction=0.5
    )
    frame = source.load([*CORE, "problem_id"])
    assert sorted(frame["student_id"].unique()) == ["007", "7", "NA", "None"]
    assert frame.loc[frame["student_id"] == "NA", "problem_id"].tolist() == ["7", "007", "07"]
    assert frame.loc[frame["student_id"] == "NA", "skill_id"].tolist() == ["1", "1", "01"]
    assert frame["problem_id"].nunique() == 3


def test_a_learner_in_two_released_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tr.csv").write_text("7,u1\n1,2\n3,3\n1,0\n")
    (tmp_path / "te.csv").write_text("8,u1\n1\n3\n1\n")
    with pytest.raises(DataValidationError, match="appears in more than one"):
        KTLinesSource(train=tmp_path / "tr.csv", test=tmp_path / "te.csv", format="4line").load(CORE)


def test_raw_assistments_rows_map_onto_the_schema() -> None:
    raw = read_assistments_csv(KT / "assist2009_raw_sample" / "as.csv")
    assert {
        "student_id",
        "t",
        "skill_id",
        "correct",
        "problem_id",
        "time_spent",
        "attempt_count",
        "hint_count",
    } <= set(raw)
    assert (raw["time_spent"] > 0).all() and raw["skill_id"].isin(["1"]).all()
    frame = AssistmentsCSVSource(KT / "assist2009_raw_sample" / "as.csv").load(
        [*CORE, "time_spent", "problem_id"]
    )
    assert len(frame) == len(raw) and frame["correct"].isin([0, 1]).all()
    first = frame.iloc[0]
    assert (first["student_id"], first["t"], first["problem_id"]) == ("64525", 33022537.0, "51424")
    assert first["time_spent"] == pytest.approx(32.454)


def test_raw_assistments_ids_are_kept_and_bad_rows_named_by_line(tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    header = "order_id,user_id,skill_id,problem_id,correct,ms_first_response\n"
    path.write_text(header + "1,007,5,007,1,900\n2,7,5,7,0,800\n3,7,,8,1,700\n4,NA,5.0,9,1,600\n")
    frame = AssistmentsCSVSource(path).load([*CORE, "problem_id"])
    assert frame["student_id"].tolist() == ["007", "7", "NA"]
    assert frame["problem_id"].tolist() == ["007", "7", "9"]
    path.write_text(header + "1,007,5,007,1,900\n2,7,,7,0,800\n3,7,5,8,2,700\n")
    with pytest.raises(DataValidationError, match=r"raw.csv, row 2 \(line 4\), column 'correct': value 2"):
        AssistmentsCSVSource(path).load(CORE)
