"""Write a small template interaction CSV that shows every column of the ktlab schema.

python scripts/make_template.py [--out interactions_template.csv]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ktlab.cli import report_user_errors, setup_logging
from ktlab.data.io import write_table
from ktlab.data.schema import validate_interactions
from ktlab.data.template import GUIDE, template_frame


@report_user_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default="interactions_template.csv", help="where to write the template")
    args = parser.parse_args(argv)
    setup_logging()
    frame = template_frame()
    validate_interactions(frame, "template")
    path = write_table(frame, Path(args.out))
    print(f"wrote {path}\n\n{GUIDE}\n\nTrain on your file with: python train.py data=csv data.path={path}")


if __name__ == "__main__":
    main()
