"""Diagnostic: what a network's text difficulty does to seen and to held-out questions of DBE-KT22.

    python scripts/diagnose_text_difficulty.py --data-dir ../shared/data/dbe_kt22 --model akt --fold 3

Trains the ``text_aware`` arm of ``scripts/bench_text_aware.py`` on one question-held-out fold (the same
overrides, seed and epochs) with ``model.net.text_difficulty=true``, then reads the test learners' answers
to seen and to unseen questions apart and prints one JSON object with, for each part:

* ``auc``, and ``auc_difficulty_zeroed``: the same model with the weights that read the difficulty from
  the text set to 0 (the text embeddings kept);
* ``difficulty_vs_success``: Spearman correlation, over the questions with at least ``--min-answers``
  test answers, of the difficulty read from a question's text with its observed success rate;
* ``shift_vs_residual``: Spearman correlation of the mean logit shift the text difficulty causes on a
  question with its observed success rate minus the rate predicted with the difficulty zeroed;
* ``skills_moved`` / ``skills_moved_up``: how many skills the difficulty moves, and of them how many it
  moves towards a right answer as it grows. The network adds the difficulty to ``mu`` in
  ``mu * d[skill]``, so its sign per skill is set by each skill's learned direction ``d``; a difficulty
  read the same way for every skill would move all of them one way;
* ``predicted_vs_success``: Spearman correlation of each question's mean predicted and observed success.

The model must read text with Rasch problem embeddings (``akt``, ``dkt_gru``, ``simplekt``,
``sparsekt_*``). Runs offline (``HF_HUB_OFFLINE=1``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from hydra.errors import ConfigCompositionException
from scipy.special import expit
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from ktlab.evaluation.protocols import NextStepProtocol
from ktlab.models.output import split_output

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.bench_text_aware import VARIANTS
from scripts.real_runs import fit, quiet


def collect(model: torch.nn.Module, batches) -> pd.DataFrame:
    """One row per scored answer: question, skill, held-out flag, answer, the logit with and without the
    text difficulty, and the difficulty read from the question's text."""
    text = model.net.text
    weight = text.to_difficulty.weight
    protocol = NextStepProtocol()
    rows = []
    model.eval()
    with torch.no_grad():
        for batch in batches:
            scored = protocol.scored(batch)
            difficulty = text.difficulty(batch)
            with_it = split_output(model(batch))[0]
            kept = weight.detach().clone()
            weight.zero_()
            without = split_output(model(batch))[0]
            weight.copy_(kept)
            columns = [
                batch["text_row"],
                batch["skill"],
                batch["held_out"],
                batch["correct"],
                with_it,
                without,
                difficulty,
            ]
            rows.append(np.stack([c[scored].double().numpy() for c in columns], axis=1))
    names = ["question", "skill", "held_out", "correct", "logit", "logit_zeroed", "difficulty"]
    return pd.DataFrame(np.concatenate(rows), columns=names)


def spearman(a: pd.Series, b: pd.Series) -> float | None:
    """Spearman correlation, or None when either side is constant."""
    if a.nunique() < 2 or b.nunique() < 2:
        return None
    return float(spearmanr(a, b).statistic)


def describe(answers: pd.DataFrame, min_answers: int) -> dict:
    """The diagnostics of the module docstring for one set of answers."""

    def rate(logits: pd.Series) -> float:
        return float(expit(logits).mean())

    grouped = answers.groupby("question")
    questions = pd.DataFrame(
        {
            "answers": grouped.size(),
            "success": grouped["correct"].mean(),
            "predicted": grouped["logit"].agg(rate),
            "predicted_zeroed": grouped["logit_zeroed"].agg(rate),
            "shift": grouped["logit"].mean() - grouped["logit_zeroed"].mean(),
            "difficulty": grouped["difficulty"].mean(),
        }
    )
    questions = questions[questions["answers"] >= min_answers]
    moved = answers[answers["difficulty"].abs() > 1e-4]
    per_skill = (
        ((moved["logit"] - moved["logit_zeroed"]) / moved["difficulty"]).groupby(moved["skill"]).mean()
    )
    return {
        "answers": len(answers),
        "questions": len(questions),
        "auc": float(roc_auc_score(answers["correct"], answers["logit"])),
        "auc_difficulty_zeroed": float(roc_auc_score(answers["correct"], answers["logit_zeroed"])),
        "difficulty_vs_success": spearman(questions["difficulty"], questions["success"]),
        "shift_vs_residual": spearman(
            questions["shift"], questions["success"] - questions["predicted_zeroed"]
        ),
        "predicted_vs_success": spearman(questions["predicted"], questions["success"]),
        "skills_moved": len(per_skill),
        "skills_moved_up": int((per_skill > 0).sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="the DBE-KT22 folder (items.csv, interactions.csv)")
    parser.add_argument("--model", default="akt", help="a model config that reads text with Rasch embeddings")
    parser.add_argument("--fold", type=int, default=3, help="the fold of questions held out (0-4)")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--min-answers", type=int, default=20, help="questions with fewer test answers are left out"
    )
    parser.add_argument("--cache-dir", default=None, help="text-vector cache (default: ./data/cache)")
    parser.add_argument("--override", action="append", default=[], help="a Hydra override added to the run")
    args = parser.parse_args()
    torch.set_num_threads(1)
    quiet()
    data_dir = Path(args.data_dir).resolve()
    cache = Path(args.cache_dir).resolve() if args.cache_dir else Path.cwd().resolve() / "data" / "cache"
    overrides = [
        "data=dbe_kt22",
        f"data.path={data_dir}",
        f"data.text_cache_dir={cache}/item_text",
        f"data.item_features={VARIANTS['text_aware']}",
        f"data.held_out_fold={args.fold}",
        f"model={args.model}",
        f"seed={args.seed}",
        "model.net.text_difficulty=true",
        *args.override,
    ]
    try:
        model, datamodule, info = fit(overrides, args.epochs)
    except ConfigCompositionException as error:
        print(f"error: model={args.model} cannot run with a text difficulty: {error}", file=sys.stderr)
        sys.exit(2)
    if getattr(model.net, "text", None) is None or model.net.text.to_difficulty is None:
        print(
            f"error: model={args.model} read no text difficulty (it needs problem ids and Rasch embeddings)",
            file=sys.stderr,
        )
        sys.exit(2)
    answers = collect(model, datamodule.dataloader("test"))
    result = {
        "model": args.model,
        "fold": args.fold,
        "seed": args.seed,
        "overrides": args.override,
        **info,
        "seen": describe(answers[answers["held_out"] == 0], args.min_answers),
        "unseen": describe(answers[answers["held_out"] == 1], args.min_answers),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
