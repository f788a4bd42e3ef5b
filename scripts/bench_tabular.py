"""Benchmark of the tabular models; prints JSON.

    python scripts/bench_tabular.py            # full: features at 250k / 1M / 4M answers
    python scripts/bench_tabular.py --quick    # features at 250k / 1M only
    python scripts/bench_tabular.py --quick --with-dkt [--dkt-epochs 30]   # plus the enriched DKT

Measures: one recommendation with its reasons on a warm model (p50 / p99), batch scoring (pairs/s), the
feature pass at several sizes, and held-out AUC / accuracy / Brier / ECE of both models beside the
recent-success and logistic baselines and the oracle (the generator's true probabilities).

``--with-dkt`` writes the same answers as an interaction CSV (``ktlab.tabular.interactions``: the same
held-out learners as ``test``, a seeded 10% of the others as ``val``), trains the enriched GRU DKT on it
through ``ktlab.train.train`` (``model=dkt_gru``, early stopping of the default config, at most
``--dkt-epochs`` epochs) and reports its test scores beside those of the tabular models and the oracle on
the answers DKT scores: every held-out answer but each learner's first (one window per learner).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ktlab.benchmark import compose_run
from ktlab.tabular.data import PlatformData
from ktlab.tabular.difficulty import DifficultyOptimizer
from ktlab.tabular.evaluate import scores
from ktlab.tabular.features import FeatureEngineering
from ktlab.tabular.interactions import CONTEXT_FEATURES, QUERY_FEATURES, platform_interactions
from ktlab.tabular.labels import split_learners
from ktlab.tabular.performance import PerformancePredictor
from ktlab.tabular.synthetic import generate_platform
from ktlab.tabular.tasks import NextAnswerTask, PerformanceTask
from ktlab.train import train

ANSWERS_PER_LEARNER_WEEK = 38  # about, with the generator's defaults
ROOT = Path(__file__).resolve().parents[1]


def _percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.asarray(samples) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}


def quality(
    seed: int,
) -> tuple[dict[str, dict[str, float]], dict[str, object], PlatformData, dict[str, np.ndarray]]:
    """Held-out scores of both models; the models, the data and each model's held-out predictions."""
    data = generate_platform(n_learners=600, weeks=4, seed=seed)
    fe = FeatureEngineering()
    out, models, held_out = {}, {}, {}
    for name, task, model in (
        ("difficulty_xgb", NextAnswerTask(with_level=True), DifficultyOptimizer(features=fe)),
        (
            "performance_rf",
            PerformanceTask(),
            PerformancePredictor(
                n_estimators=60,
                max_depth=12,
                min_samples_leaf=50,
                max_features=0.3,
                max_samples=0.3,
                features=fe,
            ),
        ),
    ):
        tables = task.tables(data, fe)
        _, test_users = split_learners(data.answers["student_id"].to_numpy(), 0.2, seed)
        train, test = {}, {}
        for key, table in tables.items():
            held = np.isin(table.student_id, test_users)
            train[key], test[key] = table.rows(~held), table.rows(held)
        start = time.perf_counter()
        task.fit(model, train)
        fit_s = time.perf_counter() - start
        metrics, _ = task.evaluate(model, train, test, data.subset(test_users))
        out[name] = {k: round(v, 4) for k, v in metrics.items()} | {"fit_s": round(fit_s, 2)}
        models[name] = model
        held_out[name] = model.predict_proba(test["next"].X)[:, 1]  # rows of data.answers, held out
    held_out["test_users"] = test_users
    return out, models, data, held_out


def latency(model: DifficultyOptimizer, data: object, repeats: int) -> dict[str, object]:
    fe = model.features or FeatureEngineering()
    answers = data.answers
    user, domain = answers["student_id"].iloc[0], answers["skill_id"].iloc[0]
    learner = data.subset([user])
    row = fe.features_at(learner, [user], domain, learner.end())
    for _ in range(20):
        model.recommend_row(row, user, domain)
    warm, full = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        model.recommend_row(row, user, domain)
        warm.append(time.perf_counter() - start)
    for _ in range(max(repeats // 4, 20)):
        start = time.perf_counter()
        model.recommend(learner, user, domain)
        full.append(time.perf_counter() - start)
    return {
        "recommend_with_reasons_from_features": _percentiles(warm),
        "recommend_with_reasons_from_learner_history": _percentiles(full),
        "history_answers": len(learner.answers),
    }


def batch(
    difficulty: DifficultyOptimizer, performance: PerformancePredictor, data: object, n: int
) -> dict[str, float]:
    fe = FeatureEngineering()
    X = fe.answer_features(data)
    X = X.sample(n, replace=len(X) < n, random_state=0).reset_index(drop=True)
    start = time.perf_counter()
    difficulty.recommend_features(X)
    level_s = time.perf_counter() - start
    start = time.perf_counter()
    performance.predict_proba(X)
    perf_s = time.perf_counter() - start
    start = time.perf_counter()
    performance.risk_scores(X, 7)
    risk_s = time.perf_counter() - start
    return {
        "pairs": n,
        "difficulty_pairs_per_s (5 levels each)": round(n / level_s),
        "performance_pairs_per_s": round(n / perf_s),
        "risk_pairs_per_s": round(n / risk_s),
    }


def dkt_comparison(data: PlatformData, held_out: dict[str, object], seed: int, epochs: int) -> dict:
    """The enriched GRU DKT on the same answers and held-out learners, beside the tabular models."""
    test_users = held_out["test_users"]
    frame = platform_interactions(data, test_users, val_fraction=0.1, seed=seed)
    longest = int(frame.groupby("student_id").size().max())
    with tempfile.TemporaryDirectory(prefix="bench_tabular_dkt_") as tmp:
        path = Path(tmp) / "answers.csv"
        frame.to_csv(path, index=False)
        cfg = compose_run(
            [
                "data=csv",
                f"data.path={path}",
                "model=dkt_gru",
                f"trainer.max_epochs={epochs}",
                f"data.context_features=[{','.join(CONTEXT_FEATURES)}]",
                f"data.query_features=[{','.join(QUERY_FEATURES)}]",
                f"data.max_len={longest}",  # one window per learner: only its first answer is unscored
                f"seed={seed}",
                "~callbacks.learning_curves",
            ],
            Path(tmp) / "run",
        )
        start = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):  # Lightning prints its test table: stdout is JSON only
            metrics = train(cfg)
        fit_s = time.perf_counter() - start
        logged = pd.read_csv(Path(tmp) / "run" / "csv" / "metrics.csv")
        epochs_run = int(logged["val/auc"].notna().sum())  # one validation row per epoch
    answers = data.answers
    held = np.isin(answers["student_id"].to_numpy(), test_users)
    later = (answers.groupby("student_id").cumcount().to_numpy() > 0)[held]
    y = answers["correct"].to_numpy()[held][later]
    same = {
        name: {k.split("/", 1)[1]: round(v, 4) for k, v in scores(y, held_out[name][later], "s").items()}
        for name in ("difficulty_xgb", "performance_rf")
    }
    same["oracle"] = {
        k.split("/", 1)[1]: round(v, 4)
        for k, v in scores(y, answers["p_correct_true"].to_numpy()[held][later], "s").items()
    }
    wanted = (
        "test/auc",
        "test/acc",
        "test/loss",
        "test/oracle_auc",
        "val/auc_best",
        "test/brier",
        "test/ece",
    )
    return {
        "answers_scored": "held-out learners' answers except each learner's first (DKT predicts an answer "
        "from the earlier ones); the tabular models and the oracle are rescored on exactly these",
        "tabular_held_out_rows": "the held_out section scores every held-out answer, first ones included",
        "inputs": {
            "skill_id": "the platform's skill domain",
            "context_features": list(CONTEXT_FEATURES),
            "query_features": list(QUERY_FEATURES),
            "note": "DKT and difficulty_xgb read the level of the answer being predicted; performance_rf "
            "does not",
        },
        "dkt_brier_ece": "not logged by ktlab's training (test/auc, acc, loss, oracle_auc only)",
        "answers": int(later.sum()),
        "learners": {
            name: int((frame.groupby("student_id")["split"].first() == name).sum())
            for name in ("train", "val", "test")
        },
        "dkt_gru": {k: round(float(metrics[k]), 4) for k in wanted if metrics.get(k) is not None}
        | {"max_len": longest, "epochs_run": epochs_run, "fit_s": round(fit_s, 1)},
        "same_answers": same,
    }


def feature_scaling(sizes: list[int], features: FeatureEngineering | None = None) -> dict[str, object]:
    """Time of ``answer_features`` on generated platforms of about ``sizes`` answers.

    More answers means more learners over the same 4 weeks (the answers per learner stay the same), so a
    linear feature pass keeps its microseconds per answer; ``us_per_answer_ratio`` is that of the largest
    size over that of the smallest (1.0 = linear). Each size is timed once, on its first call.
    """
    fe = features or FeatureEngineering()
    rows = []
    for target in sizes:
        n_learners = max(2, int(target / (ANSWERS_PER_LEARNER_WEEK * 4)))
        data = generate_platform(n_learners=n_learners, weeks=4, seed=1)
        answers = len(data.answers)
        learners = int(data.answers["student_id"].nunique())
        start = time.perf_counter()
        fe.answer_features(data)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "answers": answers,
                "learners": learners,
                "answers_per_learner": round(answers / learners, 1),
                "seconds": round(seconds, 3),
                "us_per_answer": round(seconds / answers * 1e6, 3),
            }
        )
        del data
    smallest, largest = min(rows, key=lambda r: r["answers"]), max(rows, key=lambda r: r["answers"])
    ratio = (largest["seconds"] / largest["answers"]) / (smallest["seconds"] / smallest["answers"])
    return {
        "sizes": rows,
        "us_per_answer_ratio": round(ratio, 2),
        "answers_ratio": round(largest["answers"] / smallest["answers"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the 4M-answer feature pass")
    parser.add_argument("--repeats", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--with-dkt", action="store_true", help="also train the enriched DKT on the answers")
    parser.add_argument(
        "--dkt-epochs", type=int, default=30, help="most DKT epochs (early stopping may stop)"
    )
    args = parser.parse_args()
    os.environ.setdefault("KTLAB_ROOT", str(ROOT))  # compose_run keeps data/ and logs/ there
    logging.basicConfig(level=logging.WARNING)
    held_scores, models, data, held_out = quality(args.seed)
    difficulty, performance = models["difficulty_xgb"], models["performance_rf"]
    result = {
        "held_out": held_scores,
        "latency": latency(difficulty, data, args.repeats),
        "batch": batch(difficulty, performance, data, 200_000),
        "features": feature_scaling([250_000, 1_000_000] + ([] if args.quick else [4_000_000])),
    }
    if args.with_dkt:
        result["dkt"] = dkt_comparison(data, held_out, args.seed, args.dkt_epochs)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
