"""Benchmark: encoding throughput (interactions/s) on a synthetic table of ~1M interactions.

    python scripts/bench_encoding.py [--students 13334] [--repeats 3]

Prints one JSON object. ``encode`` = fit + transform + windowing (what the DataModule does after loading);
``validate`` = the schema check; ``total`` = both.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from ktlab.data.encoding import InteractionEncoder, make_windows
from ktlab.data.schema import TEMPLATE_SIGNALS, validate_interactions
from ktlab.data.synthetic import ClassroomConfig, generate_classroom


def _best_of(repeats: int, func) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=13334, help="learners (75 answers each on average)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-len", type=int, default=100)
    args = parser.parse_args()
    frame = generate_classroom(ClassroomConfig(n_students=args.students))
    n = len(frame)
    features = list(TEMPLATE_SIGNALS)
    query = ["difficulty", "adjustment", "phase_type"]
    validated = validate_interactions(frame, "bench")

    def encode() -> None:
        encoder = InteractionEncoder(features, query).fit(validated)
        encoded = encoder.transform(validated)
        make_windows(encoded.offsets, args.max_len)

    t_validate = _best_of(args.repeats, lambda: validate_interactions(frame, "bench"))
    t_encode = _best_of(args.repeats, encode)
    result = {
        "benchmark": "encoding",
        "interactions": n,
        "learners": args.students,
        "validate_s": round(t_validate, 4),
        "encode_s": round(t_encode, 4),
        "encode_interactions_per_s": round(n / t_encode),
        "validate_plus_encode_interactions_per_s": round(n / (t_validate + t_encode)),
        "target_interactions_per_s": 500_000,
        "meets_target": bool(n / (t_validate + t_encode) >= 500_000),
        "numpy": np.__version__,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
