"""Benchmark: next-step prediction for one learner, loading the checkpoint once against once per call.

    python scripts/bench_predict.py [--ckpt PATH] [--answers 200] [--calls 200] [--model dkt_gru]

Without ``--ckpt`` it first trains a small model of ``--model`` on the synthetic classroom (a few seconds,
in a temporary folder). Prints one JSON object: the latency of ``Predictor.predict`` for one learner of
``--answers`` answers after one ``Predictor.load`` (p50/p90/p99 in ms over ``--calls`` calls), beside a
full reload per call (``Predictor.load(...).predict(...)``, as a script that loads per request would do).
The target is p50 <= 5 ms on the CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ktlab import Predictor
from ktlab.data.synthetic import ClassroomConfig, generate_classroom

ROOT = Path(__file__).resolve().parents[1]
TARGET_P50_MS = 5.0


def _train(model: str, folder: Path) -> Path:
    """Train a small model with ``train.py`` and return its best checkpoint."""
    run_dir = folder / "run"
    command = [
        sys.executable,
        str(ROOT / "train.py"),
        f"model={model}",
        "data.source.n_students=300",
        "trainer.max_epochs=2",
        "test=false",
        "callbacks.progress_bar=null",
        f"paths.root_dir={folder}",
        f"hydra.run.dir={run_dir}",
    ]
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return run_dir / "checkpoints" / "best.ckpt"


def _quantiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {f"p{q}_ms": round(float(np.percentile(ms, q)), 3) for q in (50, 90, 99)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ckpt", type=Path, help="a checkpoint of the sequence family (default: train one)")
    parser.add_argument("--model", default="dkt_gru", help="model option trained when --ckpt is not given")
    parser.add_argument("--answers", type=int, default=200, help="answers in the learner's history")
    parser.add_argument("--calls", type=int, default=200, help="timed calls after 5 warm-up calls")
    parser.add_argument("--reload-calls", type=int, default=20, help="timed calls of the reload-per-call arm")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = args.ckpt or _train(args.model, Path(tmp))
        history = generate_classroom(
            ClassroomConfig(n_students=1, min_len=args.answers, max_len=args.answers, seed=11)
        )
        start = time.perf_counter()
        predictor = Predictor.load(ckpt)
        load_s = time.perf_counter() - start
        for _ in range(5):
            predictor.predict(history)
        loaded = []
        for _ in range(args.calls):
            start = time.perf_counter()
            predictor.predict(history)
            loaded.append(time.perf_counter() - start)
        reload = []
        for _ in range(args.reload_calls):
            start = time.perf_counter()
            Predictor.load(ckpt).predict(history)
            reload.append(time.perf_counter() - start)
    once = _quantiles(loaded)
    result = {
        "benchmark": "predict_one_learner",
        "model": str(args.ckpt) if args.ckpt else args.model,
        "answers": args.answers,
        "skills_scored": len(predictor.predict(history)),
        "threads": args.threads,
        "load_ms": round(load_s * 1000, 1),
        "load_once": once,
        "reload_per_call": _quantiles(reload),
        "speedup_p50": round(_quantiles(reload)["p50_ms"] / once["p50_ms"], 1),
        "target_p50_ms": TARGET_P50_MS,
        "meets_target": bool(once["p50_ms"] <= TARGET_P50_MS),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
