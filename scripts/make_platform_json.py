"""Write a sample platform export: ``users_data.json`` and ``users_credentials.json`` (plain PINs included),
and ``interactions.csv``: the learners' answers (skills are domains, with timestamps) for scripts/ingest.py.

python scripts/make_platform_json.py --users 1000 --out data/platform_export
"""

from __future__ import annotations

import argparse
import logging

from ktlab.cli import report_user_errors, setup_logging
from ktlab.db.platform_sample import write_platform_export
from ktlab.tabular.interactions import write_sample_answers

log = logging.getLogger("make_platform_json")


@report_user_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100, help="number of learners (default 100)")
    parser.add_argument("--out", required=True, help="folder to write the two JSON files into")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--events", type=int, default=6, help="analytics events per learner (default 6)")
    parser.add_argument(
        "--answer-weeks",
        type=int,
        default=4,
        help="weeks of answers in interactions.csv (default 4; 0: none)",
    )
    args = parser.parse_args(argv)
    setup_logging()
    out = write_platform_export(args.out, args.users, seed=args.seed, events_per_user=args.events)
    print(f"wrote {args.users} learners to {out}/users_data.json and {out}/users_credentials.json")
    if args.answer_weeks > 0:
        print(f"wrote their answers to {write_sample_answers(out, args.answer_weeks, args.seed)}")


if __name__ == "__main__":
    main()
