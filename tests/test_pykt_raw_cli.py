"""The raw readers' command line: what it writes, what it refuses, and how it says so (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ktlab.__main__ import main as ktlab_main
from ktlab.data.pykt.raw.__main__ import main

HEADER = "user_id,log_id,sequence_id,correct\n"
GOOD = HEADER + "50,9,5542,1\n50,3,5965,0\n40,5,5965,1\n"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of the command."""
    try:
        main(argv)
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


def test_writes_data_txt_and_keeps_it_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = tmp_path / "2015.csv"
    raw.write_text(GOOD)
    out = tmp_path / "out"
    code, printed, _ = run(["assist2015", str(raw), "--out", str(out), "--quiet"], capsys)
    assert code == 0 and "2 learners, 3 answers, no question ids, 2 skills" in printed
    assert (out / "data.txt").read_text() == "50,2\nNA\n5965,5542\n0,1\nNA\nNA\n40,1\nNA\n5965\n1\nNA\nNA\n"

    raw.write_text(HEADER + "7,1,5542,1\n")
    code, _, err = run(["assist2015", str(raw), "--out", str(out), "--quiet"], capsys)
    assert code == 2 and f"{out / 'data.txt'} exists; pass --force" in err
    assert (out / "data.txt").read_text().startswith("50,2\n")  # untouched
    code, _, _ = run(["assist2015", str(raw), "--out", str(out), "--force", "--quiet"], capsys)
    assert code == 0 and (out / "data.txt").read_text() == "7,1\nNA\n5542\n1\nNA\nNA\n"
    assert not list(out.glob("*.partial"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("user_id,sequence_id,correct\n50,5542,1\n", "lacks the column(s) log_id"),
        (HEADER + "50,9,5542,1\n50,nine,5542,0\n", "row 1 (line 3), field log_id: 'nine' is not a number"),
    ],
)
def test_a_bad_file_is_named_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    raw = tmp_path / "2015.csv"
    raw.write_text(text)
    code, _, err = run(["assist2015", str(raw), "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 2 and err.startswith(f"error: {raw}") and message in err
    assert not (tmp_path / "out" / "data.txt").exists()


def test_a_bad_time_names_its_row_and_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "poj_log.csv"
    raw.write_text(
        "User,Problem,Result,Submit Time\nua,1000,Accepted,2019-01-02 10:00:00\nua,1,Accepted,yesterday\n"
    )
    code, _, err = run(["poj", str(raw), "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 2 and "row 1 (line 3), field Submit Time: 'yesterday' is not a time" in err


def test_missing_inputs_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["poj", str(tmp_path / "nope.csv"), "--out", str(tmp_path)], capsys)
    assert code == 2 and "nope.csv: no such file; pass the POJ submission log CSV" in err
    code, _, err = run(["poj", "a.csv", "b.csv", "--out", str(tmp_path)], capsys)
    assert code == 2 and "poj takes poj_log.csv (1 path(s) at most), not 2" in err
    answers = tmp_path / "train_task_3_4.csv"
    answers.write_text("QuestionId,UserId,AnswerId,IsCorrect\n1,1,1,1\n")
    code, _, err = run(["nips_task34", str(answers), "--out", str(tmp_path)], capsys)
    assert code == 2 and f"{tmp_path / 'metadata'}: no such folder" in err
    code, _, err = run(["ednet", str(tmp_path), "--out", str(tmp_path)], capsys)
    assert code == 2 and "has no KT1/ folder" in err


def test_ktlab_pykt_prepare_runs_the_same_command(tmp_path: Path) -> None:
    raw = tmp_path / "2015.csv"
    raw.write_text(GOOD)
    ktlab_main(["pykt-prepare", "assist2015", str(raw), "--out", str(tmp_path / "out")])  # with progress bar
    assert (tmp_path / "out" / "data.txt").read_text().startswith("50,2\nNA\n5965,5542\n")
