"""Benchmark: text-aware tracing on DBE-KT22, AUC on answers to seen and to held-out (unseen) questions.

    python scripts/bench_text_aware.py --data-dir ../shared/data/dbe_kt22 [--quick] [--models dkt,dkt_gru]

For each model and each fold ``k`` of the questions (5 folds, questions grouped by their skill set, see
:mod:`ktlab.data.held_out`), two runs on the same learner split and seed:

* ``id_only``: skills and question ids (``data.item_features=[skill_id,problem_id]``); a held-out
  question's id is unknown (0);
* ``text_aware``: the same plus each question's text vector from the frozen MiniLM encoder
  (``question_text``), known for held-out questions too.

The answers to held-out questions are dropped from the training and validation learners; the test
learners' AUC is computed apart on answers to seen and to unseen questions. Prints one JSON object:
``{model: {"text_aware": {"auc_seen", "auc_unseen"}, "id_only": {...}, "gain_unseen", "gain_seen",
"folds": [...]}}`` (AUCs: the mean over folds), and ``text_aware`` / ``id_only`` at the top level for the
first model. ``--quick``: fold 0 only, fewer epochs. Runs offline (``HF_HUB_OFFLINE=1``).
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

VARIANTS = {"id_only": "[skill_id,problem_id]", "text_aware": "[skill_id,problem_id,question_text]"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="the DBE-KT22 folder (items.csv, interactions.csv)")
    parser.add_argument("--quick", action="store_true", help="fold 0 only, 4 epochs")
    parser.add_argument("--models", default="dkt,dkt_gru", help="comma-separated model configs")
    parser.add_argument("--folds", type=int, default=None, help="how many of the 5 folds to run")
    parser.add_argument("--only-folds", default=None, help="comma-separated folds to run (e.g. 2,3,4)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache-dir", default=None, help="text-vector cache (default: ./data/cache)")
    parser.add_argument(
        "--variants", default="id_only,text_aware", help="comma-separated subset of the two runs"
    )
    parser.add_argument(
        "--override", action="append", default=[], help="a Hydra override added to every run (repeatable)"
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(1)
    quiet()
    folds = args.folds or (1 if args.quick else 5)
    epochs = args.epochs or (4 if args.quick else 12)
    data_dir = Path(args.data_dir).resolve()
    cache = Path(args.cache_dir).resolve() if args.cache_dir else Path.cwd().resolve() / "data" / "cache"
    out: dict = {}
    for model in args.models.split(","):
        variants = {name: VARIANTS[name] for name in args.variants.split(",")}
        runs = {name: [] for name in variants}
        chosen = [int(k) for k in args.only_folds.split(",")] if args.only_folds else range(folds)
        for fold in chosen:
            for name, items in variants.items():
                result = fit_and_score(
                    [
                        "data=dbe_kt22",
                        f"data.path={data_dir}",
                        f"data.text_cache_dir={cache}/item_text",
                        f"data.item_features={items}",
                        f"data.held_out_fold={fold}",
                        f"model={model}",
                        f"seed={args.seed}",
                        *args.override,
                    ],
                    epochs,
                )
                runs[name].append({"fold": fold, **result})
                print(f"{model} fold {fold} {name}: {json.dumps(result['scores'])}", file=sys.stderr)
        summary = {
            name: {
                f"auc_{part}": statistics.mean(r["scores"][part]["auc"] for r in results)
                for part in ("seen", "unseen")
            }
            for name, results in runs.items()
        }
        if len(summary) == 2:
            summary["gain_unseen"] = summary["text_aware"]["auc_unseen"] - summary["id_only"]["auc_unseen"]
            summary["gain_seen"] = summary["text_aware"]["auc_seen"] - summary["id_only"]["auc_seen"]
        summary["folds"] = runs
        out[model] = summary
    first = out[args.models.split(",")[0]]
    result = {name: first.get(name) for name in VARIANTS} | {"models": out}
    result["settings"] = {
        "folds": args.only_folds or folds,
        "epochs": epochs,
        "seed": args.seed,
        "quick": args.quick,
        "overrides": args.override,
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
