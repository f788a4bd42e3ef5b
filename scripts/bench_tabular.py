"""Benchmark of the tabular models; prints JSON.

    python scripts/bench_tabular.py            # full: features at 250k / 1M / 4M answers
    python scripts/bench_tabular.py --quick    # features at 250k / 1M only

Measures: one recommendation with its reasons on a warm model (p50 / p99), batch scoring (pairs/s), the
feature pass at several sizes, and held-out AUC / accuracy / Brier / ECE of both models beside the
recent-success and logistic baselines and the oracle (the generator's true probabilities).
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import numpy as np

from ktlab.tabular.difficulty import DifficultyOptimizer
from ktlab.tabular.features import FeatureEngineering
from ktlab.tabular.labels import split_learners
from ktlab.tabular.performance import PerformancePredictor
from ktlab.tabular.synthetic import generate_platform
from ktlab.tabular.tasks import NextAnswerTask, PerformanceTask

ANSWERS_PER_LEARNER_WEEK = 38  # about, with the generator's defaults


def _percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.asarray(samples) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}


def quality(
    seed: int,
) -> tuple[dict[str, dict[str, float]], DifficultyOptimizer, PerformancePredictor, object]:
    data = generate_platform(n_learners=600, weeks=4, seed=seed)
    fe = FeatureEngineering()
    out, models = {}, {}
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
        _, test_users = split_learners(data.answers["user_id"].to_numpy(), 0.2, seed)
        train, test = {}, {}
        for key, table in tables.items():
            held = np.isin(table.user_id, test_users)
            train[key], test[key] = table.rows(~held), table.rows(held)
        start = time.perf_counter()
        task.fit(model, train)
        fit_s = time.perf_counter() - start
        metrics, _ = task.evaluate(model, train, test, data.subset(test_users))
        out[name] = {k: round(v, 4) for k, v in metrics.items()} | {"fit_s": round(fit_s, 2)}
        models[name] = model
    return out, models["difficulty_xgb"], models["performance_rf"], data


def latency(model: DifficultyOptimizer, data: object, repeats: int) -> dict[str, object]:
    fe = model.features or FeatureEngineering()
    answers = data.answers
    user, domain = answers["user_id"].iloc[0], answers["skill_domain"].iloc[0]
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


def feature_scaling(sizes: list[int]) -> list[dict[str, float]]:
    fe = FeatureEngineering()
    rows = []
    for target in sizes:
        learners = max(2, int(target / (ANSWERS_PER_LEARNER_WEEK * 4)))
        data = generate_platform(n_learners=learners, weeks=4, seed=1)
        start = time.perf_counter()
        fe.answer_features(data)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "answers": len(data.answers),
                "seconds": round(seconds, 3),
                "answers_per_s": round(len(data.answers) / seconds),
            }
        )
        del data
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the 4M-answer feature pass")
    parser.add_argument("--repeats", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    scores, difficulty, performance, data = quality(args.seed)
    result = {
        "held_out": scores,
        "latency": latency(difficulty, data, args.repeats),
        "batch": batch(difficulty, performance, data, 200_000),
        "features": feature_scaling([250_000, 1_000_000] + ([] if args.quick else [4_000_000])),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
