"""Write a small template interaction CSV that shows every column of the ktlab schema.

python scripts/make_template.py [--out interactions_template.csv]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ktlab.cli import report_user_errors, setup_logging
from ktlab.data.io import write_table
from ktlab.data.schema import INTERACTION_COLUMNS, validate_interactions

ROWS = [
    # student_id, t, skill_id, correct, difficulty, adjustment, time_spent, motivation, anxiety_level, phase_type
    ("alice", 0, "fractions", 1, 0.5, 0, 31.5, 0.8, 0.2, "hub"),
    ("alice", 1, "fractions", 1, 0.5, 0, 22.0, 0.8, 0.2, "lecon"),
    ("alice", 2, "fractions", 0, 0.6, 1, 48.2, 0.75, 0.25, "exploration"),
    ("alice", 3, "decimals", 1, 0.5, 0, 19.7, 0.8, 0.2, "synthese"),
    ("bob", 0, "fractions", 0, 0.5, 0, 55.0, 0.5, 0.6, "hub"),
    ("bob", 1, "fractions", 0, 0.5, 0, 61.3, 0.45, 0.65, "lecon"),
    ("bob", 2, "fractions", 0, 0.5, 0, 70.1, 0.4, 0.7, "exploration"),
    ("bob", 3, "fractions", 1, 0.4, -1, 40.8, 0.45, 0.65, "defi"),
]

GUIDE = """Columns (one row per answer):
  student_id     learner id (text)
  t              order of the learner's answers (number, unique per learner)
  skill_id       skill id (text)
  correct        1 right, 0 wrong
  difficulty     difficulty of the item, in [0.2, 0.9]
  adjustment     difficulty change applied before this step: -1, 0 or 1
  time_spent     seconds spent answering (> 0)
  motivation     in [0, 1]
  anxiety_level  in [0, 1]
  phase_type     hub, exploration, lecon, synthese or defi
Context columns can be left out if the run drops them from data.context_features / data.query_features."""


@report_user_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default="interactions_template.csv", help="where to write the template")
    args = parser.parse_args(argv)
    setup_logging()
    frame = pd.DataFrame(ROWS, columns=list(INTERACTION_COLUMNS))
    validate_interactions(frame, "template")
    path = write_table(frame, Path(args.out))
    print(f"wrote {path}\n\n{GUIDE}\n\nTrain on your file with: python train.py data=csv data.path={path}")


if __name__ == "__main__":
    main()
