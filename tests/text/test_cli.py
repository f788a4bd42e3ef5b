"""The per-student multirun from the command line: one folder per student, resumed when rerun."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli

TINY = ["data.source.bank.n_questions=48", "data.source.students.n_students=24",
        "data.source.students.median_answers=16", "data.source.students.min_answers=12",
        "data.source.students.max_answers=40", "data.val_fraction=0.2", "data.test_fraction=0.2",
        "trainer.max_epochs=1", "callbacks.progress_bar=null", "callbacks.model_summary=null"]  # fmt: skip


@pytest.mark.slow
def test_per_student_multirun_resumes_each_student_and_summarizes(tmp_path: Path) -> None:
    args = ["train.py", "-m", "experiment=text_per_student", "data.student_rank=range(0,2)", *TINY,
            f"paths.log_dir={tmp_path / 'logs'}", f"paths.data_dir={tmp_path / 'data'}"]  # fmt: skip
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr[-2000:]
    folder = tmp_path / "logs" / "text_students" / "per_student"
    assert sorted(p.name for p in folder.glob("student_*")) == ["student_0", "student_1"]
    again = run_cli(*args, "trainer.max_epochs=2")
    assert again.returncode == 0, again.stderr[-2000:]
    assert (again.stdout + again.stderr).count("ckpt_path=last: resuming from") == 2
    summary = run_cli("scripts/summarize_students.py", str(folder))
    assert summary.returncode == 0, summary.stderr[-2000:]
    assert (folder / "students.csv").is_file() and (folder / "f1_vs_answers.png").is_file()
