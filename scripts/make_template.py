"""Write a small template file that shows every column ktlab reads.

python scripts/make_template.py [--out interactions_template.csv]   # answers, for data=csv
python scripts/make_template.py --questions new_questions.csv       # for estimate_difficulty.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ktlab.cli import report_user_errors, setup_logging
from ktlab.data.io import write_table
from ktlab.data.schema import validate_interactions
from ktlab.data.template import GUIDE, template_frame
from ktlab.data.text.question_template import GUIDE as QUESTIONS_GUIDE
from ktlab.data.text.question_template import question_template_frame
from ktlab.data.text.schema import validate_questions


@report_user_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument(
        "--out", default="interactions_template.csv", help="where to write the interaction template"
    )
    what.add_argument(
        "--questions",
        metavar="FILE",
        default=None,
        help="write a questions file for estimate_difficulty.py here",
    )
    args = parser.parse_args(argv)
    setup_logging()
    if args.questions:
        frame = question_template_frame()
        validate_questions(frame, "template")
        path = write_table(frame, Path(args.questions))
        print(
            f"wrote {path}\n\n{QUESTIONS_GUIDE}\n\nEstimate their difficulty with: python "
            f"estimate_difficulty.py ckpt_path=<text run>/checkpoints/best.ckpt questions={path} "
            "output=difficulty.csv"
        )
        return
    frame = template_frame()
    validate_interactions(frame, "template")
    path = write_table(frame, Path(args.out))
    print(f"wrote {path}\n\n{GUIDE}\n\nTrain on your file with: python train.py data=csv data.path={path}")


if __name__ == "__main__":
    main()
