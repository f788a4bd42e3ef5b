"""Benchmark: the difficulty of held-out questions, estimated by the synthetic students, against the truth.

    python scripts/bench_difficulty.py [--epochs 10] [--students 800] [--top 5] [--student-epochs 6] [override ...]

Trains, on questions split by question (``data.split_by=question``: the test questions were never seen in
training), one pooled model and ``--top`` per-student models on the default generated data, then asks
each mode about the held-out test questions (``ktlab.difficulty``). Reports, per mode and for the two
baselines (topic success rate; TF-IDF + ridge), the Spearman correlation of the estimated success rate
with the true one, the text ceiling (what the text-visible part of the difficulty alone reaches) and the
ratio to it, the correlation with the observed success rates of the held-out answers, and the pooled
model's test AUC against the oracle AUC. Prints one JSON object.

Targets: Spearman(estimated, true) >= 0.9 x the text ceiling for the better mode, above both baselines.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from ktlab.benchmark import timed_train
from ktlab.difficulty import estimate_difficulty, held_out, load_students, validate


def _ask(ckpt: Path, plot: Path | None = None) -> dict:
    models = load_students(ckpt)
    datamodule, questions = held_out(models[0])
    figures, _ = validate(estimate_difficulty(models, questions), datamodule, questions, plot=plot)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="pooled model's epochs (early stopping on)")
    parser.add_argument(
        "--students", type=int, default=800, help="simulated students (400 runs in half the time)"
    )
    parser.add_argument("--top", type=int, default=5, help="per-student models for the most active students")
    parser.add_argument("--student-epochs", type=int, default=6)
    parser.add_argument("--plot", default=None, help="also save the pooled mode's scatter plot here")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    warnings.filterwarnings("ignore")
    base = ["experiment=text_pooled", "model.export_dir=null", f"data.source.students.n_students={args.students}",
            *args.overrides]  # fmt: skip
    out: dict = {"config": vars(args)}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        pooled, _ = timed_train([*base, f"trainer.max_epochs={args.epochs}"], root / "pooled")
        out["pooled_train_s"] = round(time.perf_counter() - started, 1)
        figures = _ask(root / "pooled" / "checkpoints" / "best.ckpt", Path(args.plot) if args.plot else None)
        aucs = []
        started = time.perf_counter()
        for rank in range(args.top):
            metrics, _ = timed_train([*base, "model.net._target_=ktlab.models.components.text_encoder.PerStudentNet", f"data.student_rank={rank}",
                                      f"data.top_students={args.top}", "data.batch_size=32",
                                      f"trainer.max_epochs={args.student_epochs}"], root / "students" / f"student_{rank}")  # fmt: skip
            aucs.append(metrics["test/auc"])
        out["per_student_train_s"] = round(time.perf_counter() - started, 1)
        per_student = _ask(root / "students")
    ceiling = figures["text_ceiling"]
    modes = {"pooled": figures["students"], "per_student": per_student["students"]}
    for values in modes.values():
        values["ratio_to_ceiling"] = round(values["spearman_true"] / ceiling, 3)
    best = max(modes, key=lambda m: modes[m]["spearman_true"])
    baselines = {name: figures[name] for name in ("topic_baseline", "tfidf_ridge_baseline")}
    known = [a for a in aucs if a is not None]
    out.update({
        "held_out_questions": figures["n_questions"], "text_ceiling": ceiling, "modes": modes,
        "baselines": baselines, "better_mode": best,
        "target_met": modes[best]["spearman_true"] >= 0.9 * ceiling
        and all(modes[best]["spearman_true"] > b["spearman_true"] for b in baselines.values()),
        "pooled_answers": {"test_auc": pooled["test/auc"], "oracle_auc": pooled["test/oracle_auc"],
                           "ratio": round(pooled["test/auc"] / pooled["test/oracle_auc"], 3)},
        "per_student_test_auc": {"mean": statistics.mean(known) if known else None,
                                 "sd": statistics.pstdev(known) if len(known) > 1 else None, "each": aucs},
    })  # fmt: skip
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
