"""The plots and the cold-start curve of ``scripts/bench_real_students.py`` (kept apart to keep it short)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ktlab.evaluation.cold_start import cold_start_curve, cold_start_figure

#: Answers seen per question at which the cold-start curve is drawn.
COLD_START_KS = (0, 1, 2, 5, 10, 20, 50, 100)


def plots(table: pd.DataFrame, routes: list[str], focus: str, out: Path) -> list[str]:
    """The difficulty scatter (predicted against observed, per route) and the per-question errors of ``focus``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(routes)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.8), squeeze=False)
    for ax, route in zip(axes[0], routes, strict=True):
        image = table["has_image"].to_numpy(bool)
        ax.scatter(
            table.loc[~image, "observed"],
            table.loc[~image, route].clip(0, 1),
            s=9,
            alpha=0.7,
            label="text only",
        )
        ax.scatter(
            table.loc[image, "observed"],
            table.loc[image, route].clip(0, 1),
            s=9,
            alpha=0.7,
            marker="^",
            label="with image",
        )
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
        rho = spearmanr(table[route], table["observed"]).statistic
        ax.set(
            xlim=(0, 1),
            ylim=(0, 1),
            xlabel="observed first-attempt success rate",
            title=f"{route}\nSpearman {rho:.3f}",
        )
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("predicted (out of fold)")
    axes[0][0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(out / "difficulty_scatter.png", dpi=110)
    plt.close(fig)
    best = focus
    order = table.sort_values("observed").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(11, 3.6))
    colors = np.where(order["has_image"], "tab:orange", "tab:blue")
    ax.bar(np.arange(len(order)), order[best] - order["observed"], color=colors, width=0.9)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(xlabel="questions, by observed success rate (orange: with image)", ylabel="predicted - observed",
           title=f"Per-question error out of fold: {best}")  # fmt: skip
    fig.tight_layout()
    fig.savefig(out / "per_question_errors.png", dpi=110)
    plt.close(fig)
    return ["difficulty_scatter.png", "per_question_errors.png"]


def cold_start(
    answers: pd.DataFrame, table: pd.DataFrame, priors: list[str], out: Path, question: str, correct: str
) -> dict:
    """The cold-start curve of ``priors`` (columns of the out-of-fold ``table``), its plot and a summary.

    Writes ``cold_start.csv`` and ``cold_start.png``; returns, per prior, the AUC and
    Spearman at each ``k`` and the prior's weight in answers.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = cold_start_curve(
        answers,
        {name: table[name] for name in dict.fromkeys(priors)},
        ks=COLD_START_KS,
        folds=table["fold"],
        question=question,
        correct=correct,
    )
    curve.to_csv(out / "cold_start.csv", index=False)
    fig = cold_start_figure(curve)
    fig.savefig(out / "cold_start.png", dpi=110)
    plt.close(fig)
    summary = {
        name: {
            "weight_in_answers": round(float(part["weight"].iloc[0]), 1),
            "auc_by_k": {int(k): round(a, 4) for k, a in zip(part["k"], part["auc"], strict=True)},
            "spearman_by_k": {
                int(k): None if np.isnan(r) else round(r, 4)
                for k, r in zip(part["k"], part["spearman"], strict=True)
            },
        }
        for name, part in curve.groupby("prior", sort=False)
    }
    return summary
