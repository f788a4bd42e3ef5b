"""Write pyKT's ``data.txt`` from a raw release: ``python -m ktlab.data.pykt.raw DATASET PATH... --out DIR``.

Also ``ktlab pykt-prepare DATASET PATH... --out DIR``. A ``data.txt`` already in DIR is kept unless
``--force``. A mistake in the files (a missing column, a value that does not parse) stops with one
paragraph naming the file, row, field and value, and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from ktlab.cli import report_user_errors, setup_logging
from ktlab.data.pykt.raw.datasets import DATASETS, prepare


def _parser() -> argparse.ArgumentParser:
    listing = "\n".join(f"  {name:<19} {d.title}: {d.inputs}" for name, d in DATASETS.items())
    parser = argparse.ArgumentParser(
        prog="python -m ktlab.data.pykt.raw",
        description="Write pyKT's 6-line data.txt from a raw release into --out.\n\ndata sets:\n" + listing,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "dataset", choices=list(DATASETS), metavar="DATASET", help="one of the data sets below"
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="the raw file(s) or folder")
    parser.add_argument("--out", required=True, help="folder to write data.txt into")
    parser.add_argument("--force", action="store_true", help="replace a data.txt already there")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, warnings only")
    return parser


@report_user_errors
def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    setup_logging(logging.WARNING if args.quiet else logging.INFO)
    if args.quiet:
        written = prepare(args.dataset, args.paths, args.out, force=args.force)
    else:
        columns = (TextColumn("reading"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("read", total=None)
            written = prepare(
                args.dataset,
                args.paths,
                args.out,
                force=args.force,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    questions = "no question ids" if written.questions is None else f"{written.questions} questions"
    print(
        f"{written.path}: {written.learners} learners, {written.answers} answers, {questions}, "
        f"{written.skills} skills"
    )


if __name__ == "__main__":
    main()
