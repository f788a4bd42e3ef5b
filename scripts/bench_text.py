"""Benchmark: per-batch padding with length bucketing against padding every text to 512 tokens, and the
pooled model against per-student models over the same answers.

    python scripts/bench_text.py [--questions 240] [--students 50] [--epochs 2] [--top 4] [override ...]

1. Padding: the same pooled model (same seed, same initial weights) trains ``--epochs`` epochs on the same
   answers, once with ktlab's batches (each padded to its longest question, answers sorted by length
   within buckets of ``data.bucket_batches`` batches) and once with every text padded to 512 tokens in
   random batches (``data.pad_to=512 data.bucket_batches=1``). Reports the median epoch time of each, the
   ratio, and both test AUCs (the metrics must agree: padding is masked out).
2. Modes: the ``--top`` most active students; one pooled model over their answers
   (``data.top_students=N``) against N per-student models (``data.student_rank=0..N-1``), same epochs.
   Reports the pooled epoch time against the per-student epochs summed, and the test AUCs: the pooled
   model's over all these students' test answers, and each per-student model's over its student's
   (their mean and spread).

Prints one JSON object. Larger runs: raise the flags, or pass Hydra overrides (``data.batch_size=256``).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import warnings
from pathlib import Path

from ktlab.benchmark import timed_train


def _median(times: list[float]) -> float:
    return statistics.median(times[1:] if len(times) > 1 else times)  # the first epoch warms up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=240)
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--top", type=int, default=4)
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    warnings.filterwarnings("ignore")
    base = ["model=modernbert", "data=questions_synthetic", f"data.source.bank.n_questions={args.questions}",
            f"data.source.students.n_students={args.students}", f"trainer.max_epochs={args.epochs}",
            "callbacks.early_stopping=null", "model.export_dir=null", *args.overrides]  # fmt: skip
    out: dict = {"config": vars(args)}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bucketed, t_bucketed = timed_train(base, root / "bucketed")
        padded, t_padded = timed_train([*base, "data.pad_to=512", "data.bucket_batches=1"], root / "padded")
        out["padding"] = {
            "bucketed_epoch_s": round(_median(t_bucketed), 2), "pad512_epoch_s": round(_median(t_padded), 2),
            "speedup": round(_median(t_padded) / _median(t_bucketed), 2),
            "bucketed_test_auc": bucketed["test/auc"], "pad512_test_auc": padded["test/auc"],
        }  # fmt: skip

        top = [*base, f"data.top_students={args.top}", "data.batch_size=32"]
        pooled, t_pooled = timed_train(top, root / "pooled")
        per_times, per_auc = [], []
        for rank in range(args.top):
            metrics, times = timed_train(
                [
                    *top,
                    "model.net._target_=ktlab.models.components.text_encoder.PerStudentNet",
                    f"data.student_rank={rank}",
                ],
                root / f"s{rank}",
            )
            per_times.append(_median(times))
            per_auc.append(metrics["test/auc"])
        known = [a for a in per_auc if a is not None]
        out["modes"] = {
            "pooled_epoch_s": round(_median(t_pooled), 2), "per_student_epochs_summed_s": round(sum(per_times), 2),
            "speedup": round(sum(per_times) / _median(t_pooled), 2), "pooled_test_auc": pooled["test/auc"],
            "per_student_test_auc_mean": statistics.mean(known) if known else None,
            "per_student_test_auc_sd": statistics.pstdev(known) if len(known) > 1 else None,
            "per_student_test_auc": per_auc, "oracle_auc_pooled_answers": pooled["test/oracle_auc"],
        }  # fmt: skip
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
