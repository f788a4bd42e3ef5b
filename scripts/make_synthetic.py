"""Export a synthetic classroom in the ktlab schema (with p_correct_true) to CSV or Parquet.

python scripts/make_synthetic.py --out data/classroom.csv [--students 2500 --skills 5 --seed 7]
"""

from __future__ import annotations

import argparse

from ktlab.cli import report_user_errors, setup_logging
from ktlab.data.io import write_table
from ktlab.data.synthetic import ClassroomConfig, generate_classroom


@report_user_errors
def main(argv: list[str] | None = None) -> None:
    defaults = ClassroomConfig()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", default="data/synthetic_classroom.csv", help="output .csv/.tsv/.parquet file"
    )
    parser.add_argument("--students", type=int, default=defaults.n_students)
    parser.add_argument("--skills", type=int, default=defaults.n_skills)
    parser.add_argument("--min-len", type=int, default=defaults.min_len)
    parser.add_argument("--max-len", type=int, default=defaults.max_len)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args(argv)
    setup_logging()
    config = ClassroomConfig(
        n_students=args.students,
        n_skills=args.skills,
        min_len=args.min_len,
        max_len=args.max_len,
        seed=args.seed,
    )
    frame = generate_classroom(config)
    path = write_table(frame, args.out)
    print(f"wrote {len(frame):,} interactions of {args.students:,} learners to {path}")


if __name__ == "__main__":
    main()
