"""Table per student and F1-vs-answers plot of a per-student multirun.

    python scripts/summarize_students.py logs/text_students/per_student

Writes ``students.csv`` and ``f1_vs_answers.png`` into the folder and prints the table.
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from ktlab.cli import report_user_errors, setup_logging
from ktlab.text_report import summarize_students


@report_user_errors
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="the multirun folder (holding student_<rank>/ runs)")
    args = parser.parse_args()
    setup_logging()
    frame = summarize_students(args.folder)
    table = Table(title=f"{len(frame)} per-student models")
    for column in ("rank", "student", "answers", "accuracy", "f1_weighted", "auc"):
        table.add_column(column, justify="right")
    for row in frame.itertuples():
        table.add_row(str(row.rank), row.student, str(row.answers),
                      *(f"{v:.3f}" if v == v and v is not None else "-" for v in (row.accuracy, row.f1_weighted, row.auc)))  # fmt: skip
    Console().print(table)


if __name__ == "__main__":
    main()
