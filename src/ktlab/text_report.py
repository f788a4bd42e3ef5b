"""The per-student table of a per-student multirun, and the F1-vs-answers plot.

    python scripts/summarize_students.py logs/text_students/per_student

Reads every ``*/metrics.json`` below the folder and the student it was trained for (from the run's
checkpoint: its student and that student's number of answers), writes ``students.csv`` (student, rank,
answers, test accuracy, weighted F1, AUC) and ``f1_vs_answers.png`` into the folder.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ktlab.errors import ConfigError
from ktlab.models.checkpoint import read_checkpoint

log = logging.getLogger(__name__)

COLUMNS = {"test/acc": "accuracy", "test/f1_weighted": "f1_weighted", "test/auc": "auc",
           "test/oracle_auc": "oracle_auc"}  # fmt: skip


def student_table(folder: str | Path) -> pd.DataFrame:
    """One row per per-student run below ``folder``, sorted by rank."""
    folder = Path(folder).expanduser()
    rows = []
    for metrics_path in sorted(folder.glob("*/metrics.json")):
        metrics = json.loads(metrics_path.read_text())
        ckpt = metrics.get("checkpoint") or metrics_path.parent / "checkpoints" / "last.ckpt"
        hparams = read_checkpoint(ckpt)["hyper_parameters"]
        state = hparams["inputs"]["state"]
        if len(state["students"]) != 1:
            continue  # a pooled run
        rows.append({"student": state["students"][0], "rank": hparams["data"].get("student_rank"),
                     "answers": state["answer_counts"][0], "run": metrics_path.parent.name,
                     **{name: metrics.get(key) for key, name in COLUMNS.items()}})  # fmt: skip
    if not rows:
        raise ConfigError(
            f"{folder}: no per-student run (*/metrics.json of a model=modernbert_per_student run) below it."
        )
    return pd.DataFrame(rows).sort_values("rank").reset_index(drop=True)


def plot_f1_vs_answers(table: pd.DataFrame, path: str | Path) -> Path:
    """Weighted F1 of each student's model against the student's number of answers (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.scatter(table["answers"], table["f1_weighted"], s=18)
    ok = table["f1_weighted"].notna()
    if ok.sum() >= 3:
        slope, intercept = np.polyfit(np.log(table.loc[ok, "answers"]), table.loc[ok, "f1_weighted"], 1)
        xs = np.linspace(table["answers"].min(), table["answers"].max(), 50)
        ax.plot(
            xs,
            intercept + slope * np.log(xs),
            color="grey",
            lw=1,
            label=f"{slope:+.3f} per e-fold of answers",
        )
        ax.legend()
    ax.set_xscale("log")
    ax.set_xlabel("answers of the student")
    ax.set_ylabel("test weighted F1")
    ax.set_title("Per-student models: F1 against the number of answers")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def summarize_students(folder: str | Path) -> pd.DataFrame:
    """Write ``students.csv`` and ``f1_vs_answers.png`` into ``folder``; returns the table."""
    table = student_table(folder)
    table.to_csv(Path(folder) / "students.csv", index=False)
    plot_f1_vs_answers(table, Path(folder) / "f1_vs_answers.png")
    log.info("%d students: AUC %.3f ± %.3f, weighted F1 %.3f ± %.3f", len(table), table["auc"].mean(),
             table["auc"].std(ddof=0), table["f1_weighted"].mean(), table["f1_weighted"].std(ddof=0))  # fmt: skip
    return table
