"""Run the benchmark (or ablation) arms of ``experiments/suites.yaml`` over seeds; write RESULTS.md + JSON.

    python experiments/run_benchmarks.py --suite benchmarks --seeds 1 2 3 --data-dir ../shared/data
    python experiments/run_benchmarks.py --suite benchmarks --only dkt:assist2009 --seeds 1 --max-epochs 5
    python experiments/run_benchmarks.py --suite ablation --seeds 1 2 3
    python experiments/run_benchmarks.py --collect --seeds 1 2 3 --out experiments   # the committed table
    python experiments/run_benchmarks.py --dry-run          # list the runs, run nothing

Each run is ``python train.py <arm overrides> seed=<s>`` in its own process and folder
(``<log-dir>/<suite>/<arm>/seed_<s>``); a finished run (its ``metrics.json`` exists) is read, not rerun,
so an interrupted suite resumes where it stopped. The best checkpoint of each run is then scored once
more on the test learners for the calibration figures (Brier score, expected calibration error), which
the training metrics do not include. The table's header states the protocol.

The table and the JSON go to ``<log-dir>/<suite>/``; the committed ``experiments/RESULTS.md`` and
``results.json`` are rewritten only when asked for with ``--out experiments`` (a failed run never replaces
a result they hold). ``--only NAME:DATA`` runs exactly the arms named (NAME as the suites file spells it,
or its slug, e.g. ``dkt_batches_of_32:statics2011``). The exit status is 1 when a run failed (the failed
arms are named on stderr) and 2 for a mistake on the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_table import (  # noqa: E402
    PROTOCOL,
    arm_key,
    log_table_to_wandb,
    markdown,
    slug,
    summarize,
)


def shown_path(path: Path) -> str:
    """``path`` relative to the checkout when it lies inside it (the table names no machine's folders)."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def select_arms(arms: list[dict[str, Any]], only: list[str]) -> list[dict[str, Any]]:
    """The arms ``only`` names as ``NAME:DATA``, NAME exactly as in the suites file or as its slug.

    Raises:
        ValueError: an item names no arm (the message lists the arms of the suite).
    """
    chosen: list[dict[str, Any]] = []
    unknown = []
    for item in only:
        name, _, data = item.rpartition(":")
        found = [a for a in arms if a["data"] == data and name in (a["name"], slug(a["name"]))]
        if not found:
            unknown.append(item)
        chosen += [a for a in found if a not in chosen]
    if unknown:
        known = ", ".join(f"{slug(a['name'])}:{a['data']}" for a in arms)
        raise ValueError(f"--only {' '.join(unknown)}: no such arm (NAME:DATA); the suite has {known}")
    return [a for a in arms if a in chosen]  # in the suite's order


@torch.no_grad()
def score_checkpoint(ckpt: Path) -> dict[str, float]:
    """Test AUC, accuracy, Brier score and ECE of a checkpoint, on its own test learners.

    With problem ids it also scores the answers apart from the rows that repeat the previous row's
    problem (ASSISTments 2009 lists a problem of several skills once per skill, with one answer):
    ``auc_first_rows`` leaves those rows out, ``auc_copy_repeats`` predicts each of them as the answer
    of the row before (what a model that spots the repeat can reach), ``repeat_share`` is their share.
    """
    from ktlab.evaluation import Evaluator
    from ktlab.evaluation.metrics import defined_auc
    from ktlab.models.checkpoint import load_model, restore_datamodule

    model = load_model(ckpt)
    model.eval()
    datamodule = restore_datamodule(model)
    datamodule.setup("test")
    evaluator = Evaluator()
    repeats, previous = [], []
    for batch in datamodule.dataloader("test"):
        evaluator.update(batch, model(batch))
        if "problem" in batch:
            scored = evaluator.protocol.scored(batch)
            problem = batch["problem"]
            repeat = torch.zeros_like(scored)
            repeat[:, 1:] = (problem[:, 1:] == problem[:, :-1]) & (problem[:, 1:] > 0)
            repeats.append(repeat[scored])
            previous.append(batch["correct"].roll(1, dims=1)[scored].float())
    scores = evaluator.metrics()
    scores.pop("oracle_auc", None)
    scores["params"] = int(sum(t.numel() for t in model.parameters()))
    if repeats:
        p, y = evaluator.probabilities, evaluator.labels
        repeat, before = torch.cat(repeats).numpy(), torch.cat(previous).numpy()
        scores["repeat_share"] = float(repeat.mean())
        scores["auc_first_rows"] = defined_auc(p[~repeat], y[~repeat])
        scores["auc_copy_repeats"] = defined_auc(np.where(repeat, before, p), y)
    return scores


def epoch_seconds(run_dir: Path) -> tuple[float | None, int]:
    """Median seconds per training epoch (``time/train_epoch_s``) and the number of epochs run."""
    import pandas as pd

    path = run_dir / "csv" / "metrics.csv"
    if not path.exists():
        return None, 0
    frame = pd.read_csv(path)
    trained = frame["train/loss"].notna() if "train/loss" in frame else frame["epoch"].notna()
    epochs = int(frame.loc[trained, "epoch"].nunique())  # the test pass logs one more epoch index
    if "time/train_epoch_s" not in frame:
        return None, epochs
    seconds = frame["time/train_epoch_s"].dropna()
    return (float(seconds.median()) if len(seconds) else None), epochs


def run_one(
    arm: dict[str, Any], seed: int, run_dir: Path, extra: list[str], collect_only: bool = False
) -> dict[str, Any]:
    """Train one arm with one seed (unless already done, or ``collect_only``) and return its record."""
    metrics_path = run_dir / "metrics.json"
    overrides = [
        *arm["overrides"],
        f"seed={seed}",
        *extra,
        f"hydra.run.dir={run_dir}",
        "callbacks.progress_bar=null",
    ]
    if not metrics_path.exists() and collect_only:
        return {"arm": arm["name"], "data": arm["data"], "seed": seed, "skipped": "not run"}
    if not metrics_path.exists():
        run_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline"}
        start = time.perf_counter()
        with open(run_dir / "stdout.log", "w") as log:
            done = subprocess.run(
                [sys.executable, str(ROOT / "train.py"), *overrides],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        if done.returncode != 0:
            return {
                "arm": arm["name"],
                "data": arm["data"],
                "seed": seed,
                "error": f"exit {done.returncode}, see {run_dir}/stdout.log",
            }
        (run_dir / "wall_seconds.txt").write_text(f"{time.perf_counter() - start:.1f}\n")
    metrics = json.loads(metrics_path.read_text())
    recorded = run_dir / ".hydra" / "overrides.yaml"  # what the run was actually launched with
    if recorded.exists():
        overrides = list(yaml.safe_load(recorded.read_text()))
    ckpt = metrics.get("checkpoint") or str(run_dir / "checkpoints" / "best.ckpt")
    scores = score_checkpoint(Path(ckpt))
    seconds, epochs = epoch_seconds(run_dir)
    wall = run_dir / "wall_seconds.txt"
    return {
        "arm": arm["name"],
        "data": arm["data"],
        "seed": seed,
        "overrides": overrides,
        "test_auc_logged": metrics.get("test/auc"),
        "val_auc_best": metrics.get("val/auc_best"),
        **scores,
        "epoch_seconds": seconds,
        "epochs": epochs,
        "wall_seconds": float(wall.read_text()) if wall.exists() else None,
        "run_dir": shown_path(run_dir),
    }


def merge_record(records: list[dict[str, Any]], record: dict[str, Any]) -> list[dict[str, Any]]:
    """``records`` with ``record`` in place of the same arm and seed; a failure never replaces a result."""
    same = [
        r
        for r in records
        if (r["arm"], r["data"], r["seed"]) == (record["arm"], record["data"], record["seed"])
    ]
    if "error" in record and any("error" not in r for r in same):
        return records
    return [r for r in records if not any(r is o for o in same)] + [record]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", default="benchmarks", help="a suite of the suites file")
    parser.add_argument("--suites", type=Path, default=ROOT / "experiments" / "suites.yaml")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--only", nargs="*", default=None, help="arms as NAME:DATA (e.g. dkt:assist2009)")
    parser.add_argument("--data-dir", default=None, help="paths.data_dir for the runs (e.g. ../shared/data)")
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--log-dir", type=Path, default=ROOT / "logs" / "benchmarks")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for RESULTS.md and results.json (default: <log-dir>/<suite>; the committed table: "
        "--out experiments)",
    )
    parser.add_argument("--set", dest="extra", nargs="*", default=[], help="more overrides for every run")
    parser.add_argument(
        "--seed-major", action="store_true", help="run every arm with the first seed before the next seed"
    )
    parser.add_argument("--dry-run", action="store_true", help="list the runs and write nothing")
    parser.add_argument(
        "--wandb",
        metavar="PROJECT",
        default=None,
        help="also log the final table to this W&B project (offline without an API key)",
    )
    parser.add_argument(
        "--collect", action="store_true", help="train nothing: tabulate the finished runs only"
    )
    args = parser.parse_args(argv)
    args.argv = argv if argv is not None else sys.argv[1:]
    suites = yaml.safe_load(args.suites.read_text())
    if args.suite not in suites:
        parser.error(f"--suite {args.suite}: {args.suites} has no such suite")
    arms = suites[args.suite]
    if args.only:
        try:
            arms = select_arms(arms, args.only)
        except ValueError as err:
            parser.error(str(err))
    extra = list(args.extra)
    if args.data_dir:
        extra.append(f"paths.data_dir={Path(args.data_dir).resolve()}")
    if args.max_epochs:
        extra.append(f"trainer.max_epochs={args.max_epochs}")
    order = (
        [(arm, seed) for seed in args.seeds for arm in arms]
        if args.seed_major
        else [(arm, seed) for arm in arms for seed in args.seeds]
    )
    if args.dry_run:
        for arm, seed in order:
            print(" ".join(["python train.py", *arm["overrides"], f"seed={seed}", *extra]))
        return 0
    out = args.out if args.out is not None else args.log_dir / args.suite
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / ("results.json" if args.suite == "benchmarks" else f"results_{args.suite}.json")
    md_path = out / ("RESULTS.md" if args.suite == "benchmarks" else f"RESULTS_{args.suite}.md")
    previous: dict[str, Any] = json.loads(json_path.read_text()) if json_path.exists() else {}
    records: list[dict[str, Any]] = previous.get("runs", [])
    # The seeds planned for each arm: this invocation's for its arms, the earlier table's for the others.
    planned = {
        arm_key({"name": row["arm"], "data": row["data"]}): row.get("planned_seeds", [])
        for row in previous.get("table", [])
    }
    planned.update({arm_key(a): list(args.seeds) for a in arms})
    all_arms = suites[args.suite]
    failed: list[str] = []
    for arm, seed in order:
        run_dir = args.log_dir / args.suite / arm_key(arm) / f"seed_{seed}"
        print(
            f"[{time.strftime('%H:%M:%S')}] {arm['name']} on {arm['data']}, seed {seed} -> {run_dir}",
            flush=True,
        )
        record = run_one(arm, seed, run_dir, extra, collect_only=args.collect)
        if "skipped" in record:
            continue
        if "error" in record:
            failed.append(f"{arm['name']} on {arm['data']}, seed {seed} ({record['error']})")
        records = merge_record(records, record)
        rows = summarize(records, suites, all_arms, planned)
        json_path.write_text(json.dumps({"protocol": PROTOCOL, "runs": records, "table": rows}, indent=2))
        md_path.write_text(markdown(rows, suites, args.suite, args))
        print(
            f"    {json.dumps({k: record.get(k) for k in ('auc', 'brier', 'ece', 'epoch_seconds', 'epochs', 'error')})}",
            flush=True,
        )
    if args.wandb:
        rows = summarize(records, suites, all_arms, planned)
        folder = log_table_to_wandb(rows, args.suite, args.wandb, args.log_dir / "wandb")
        print(f"W&B table logged: {folder}", flush=True)
    print(f"results: {md_path}, {json_path}", flush=True)
    if failed:
        print(f"{len(failed)} run(s) failed: " + "; ".join(failed), file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
