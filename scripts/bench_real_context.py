"""Benchmark: the enriched GRU's context signals on real answers, an ablation over 3 seeds.

    python scripts/bench_real_context.py --dbe-dir ../shared/data/dbe_kt22 \
        --assist-raw ../shared/data/assist2009_raw_sample/as.csv [--quick]

The enriched GRU (``model=dkt_gru``) on one learner split (``data.split_seed=0``), with each set of
context signals, seeds 7, 8, 9 (the network's initialisation and batch order):

* DBE-KT22 (``data=dbe_kt22 data.source.attempts=all``: every attempt, so the attempt number varies):
  answers only; + attempt number (answered step and query); + duration bin (answered step); + gap bin
  (answered step and query); all three;
* raw ASSISTments 2009 (``data=assist2009_raw``): answers only; + response time; + attempt count;
  + hint count (each of the answered step: they are measured while answering); all three.

Prints one JSON object: for each data set and signal set, the test AUC's mean and standard deviation over
the seeds, the per-seed values, and the difference of the means from answers only. ``--quick``: one
seed, answers only against all signals, fewer epochs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.real_runs import fit_and_score, quiet

#: signal set -> (context_features, query_features)
DBE_SETS: dict[str, tuple[str, str]] = {
    "answers_only": ("[]", "[]"),
    "attempt_no": ("[attempt_no]", "[attempt_no]"),
    "duration_bin": ("[duration_bin]", "[]"),
    "gap_bin": ("[gap_bin]", "[gap_bin]"),
    "all": ("[attempt_no,duration_bin,gap_bin]", "[attempt_no,gap_bin]"),
}
ASSIST_SETS: dict[str, tuple[str, str]] = {
    "answers_only": ("[]", "[]"),
    "time_spent": ("[time_spent]", "[]"),
    "attempt_count": ("[attempt_count]", "[]"),
    "hint_count": ("[hint_count]", "[]"),
    "all": ("[time_spent,attempt_count,hint_count]", "[]"),
}


def ablation(base: list[str], sets: dict[str, tuple[str, str]], seeds: list[int], epochs: int) -> dict:
    """Every signal set over every seed: ``{set: {"mean", "std", "aucs", "delta"}}``."""
    table: dict[str, dict] = {}
    for name, (context, query) in sets.items():
        aucs = []
        for seed in seeds:
            overrides = [
                *base,
                f"data.context_features={context}",
                f"data.query_features={query}",
                f"seed={seed}",
            ]
            result = fit_and_score(overrides, epochs)
            aucs.append(result["scores"]["all"]["auc"])
            print(
                f"{base[0]} {name} seed {seed}: {aucs[-1]:.4f} ({result['epochs']} epochs)", file=sys.stderr
            )
        table[name] = {
            "mean": statistics.mean(aucs),
            "std": statistics.stdev(aucs) if len(aucs) > 1 else 0.0,
            "aucs": aucs,
        }
    if "answers_only" in table:  # a --sets run without it has nothing to compare with
        for row in table.values():
            row["delta"] = row["mean"] - table["answers_only"]["mean"]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dbe-dir", help="the DBE-KT22 folder")
    parser.add_argument("--assist-raw", help="a raw ASSISTments skill-builder CSV")
    parser.add_argument("--quick", action="store_true", help="one seed, answers only against all, 4 epochs")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--sets", default=None, help="comma-separated signal sets (default: every one)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(1)
    quiet()
    seeds = [7] if args.quick else [7, 8, 9]
    epochs = args.epochs or (4 if args.quick else 15)
    out: dict = {"settings": {"seeds": seeds, "epochs": epochs, "model": "dkt_gru", "split_seed": 0}}
    for key, path, data, sets in (
        ("dbe_kt22", args.dbe_dir, ["data=dbe_kt22", "data.source.attempts=all"], DBE_SETS),
        ("assist2009_raw", args.assist_raw, ["data=assist2009_raw"], ASSIST_SETS),
    ):
        if not path:
            continue
        if args.quick or args.sets:
            chosen = args.sets.split(",") if args.sets else ["answers_only", "all"]
            sets = {name: sets[name] for name in chosen if name in sets}
        base = [*data, f"data.path={Path(path).resolve()}", "data.split_seed=0", "model=dkt_gru"]
        if key == "dbe_kt22":
            base.append("data.problem_dropout=0.0")  # every id known: the signals alone differ
        out[key] = ablation(base, sets, seeds, epochs)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
