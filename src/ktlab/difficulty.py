"""Estimating the difficulty of new questions by asking the synthetic students (or a direct regression).

    python estimate_difficulty.py ckpt_path=<run>/checkpoints/best.ckpt questions=new.csv output=difficulty.csv
    python estimate_difficulty.py ckpt_path=<per-student sweep folder> questions=new.csv
    python estimate_difficulty.py ckpt_path=<run of experiment=text_pooled>/checkpoints/best.ckpt questions=test

``ckpt_path`` is a pooled model's checkpoint (its students are every student it knows) or a folder of
per-student runs (every ``*/checkpoints/best.ckpt`` below it, one student each). For each question the
students' predicted success probabilities give

* ``success_rate``: their mean, the predicted success rate across students;
* ``spread``: their standard deviation across students;
* ``difficulty``: an item-response-scale difficulty, ``-mean_s logit(p_s)`` (the Rasch difficulty when
  the students' mean ability is 0; higher is harder).

``ckpt_path`` may also be a direct difficulty regression (``data=item_difficulty``: a text model trained on
questions' observed success rates, knowing no student): its one prediction per question is the
``success_rate`` (``spread`` 0, ``n_students`` 1).

``questions=test`` asks about the checkpoint's own held-out test questions (it needs
``data.split_by=question``, as in ``experiment=text_pooled``, so that none of them was seen in training) and
validates the estimates: Spearman correlation with the true success rate where the data knows it (and the
text ceiling), with the observed success rate on the held-out answers (agreement of simulated and observed),
and the same for two baselines fitted on the training answers: the topic's success rate, and TF-IDF + ridge
regression. A scatter plot shows estimated against observed (and true).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig
from scipy.stats import pearsonr, spearmanr

from ktlab.cli import report_user_errors
from ktlab.data.io import read_table, write_table
from ktlab.data.text.baselines import TextRidge, observed_rates, topic_rate
from ktlab.data.text.datamodule import TextDataModule
from ktlab.errors import CheckpointError, ConfigError
from ktlab.inference import Predictor
from ktlab.models.checkpoint import restore_datamodule
from ktlab.predict import check_output

log = logging.getLogger(__name__)

_EPS = 1e-4


def checkpoint_paths(ckpt_path: str | Path) -> list[Path]:
    """The checkpoint itself, or every ``checkpoints/best.ckpt`` below a folder of runs (sorted)."""
    path = Path(ckpt_path).expanduser()
    if path.is_dir():
        found = sorted(path.glob("**/checkpoints/best.ckpt"))
        if not found:
            raise CheckpointError(
                f"{path}: a folder with no */checkpoints/best.ckpt below it; pass a checkpoint, or the folder of "
                "a per-student multirun (`python train.py -m experiment=text_per_student`)."
            )
        return found
    return [path]


def load_students(ckpt_path: str | Path) -> list[Predictor]:
    """The trained student models of ``ckpt_path`` (see :func:`checkpoint_paths`), each loaded once.

    Raises:
        CheckpointError: a checkpoint is missing or damaged, or holds a model of another family.
    """
    text_data = {"_target_": f"{TextDataModule.__module__}.{TextDataModule.__qualname__}"}
    fix = "e.g. `python train.py experiment=text_pooled`"
    students = [Predictor.load(p, data=text_data, fix=fix) for p in checkpoint_paths(ckpt_path)]
    for student, path in zip(students, checkpoint_paths(ckpt_path), strict=True):
        if not hasattr(student.model, "success_probability"):
            raise CheckpointError(
                f"{path}: holds a {type(student.model).__name__}, not a question-text student model."
            )
    return students


def student_probabilities(students: list[Predictor], questions: pd.DataFrame, batch_size: int = 512,
                          source: str = "questions", line_offset: int | None = None) -> pd.DataFrame:  # fmt: skip
    """Every student's success probability on every question: ``problem_id, student_id, p_correct``."""
    frames = [
        student.predict(questions, source=source, line_offset=line_offset, batch_size=batch_size,
                        all_students=True)
        for student in students
    ]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def summarize(probabilities: pd.DataFrame) -> pd.DataFrame:
    """``success_rate``, ``spread``, ``difficulty`` and ``n_students`` per question (see the module docstring)."""
    p = probabilities["p_correct"].clip(_EPS, 1 - _EPS)
    frame = probabilities.assign(logit=np.log(p / (1 - p)))
    grouped = frame.groupby("problem_id", sort=False)
    out = pd.DataFrame({
        "success_rate": grouped["p_correct"].mean(),
        "spread": grouped["p_correct"].std(ddof=0),
        "difficulty": -grouped["logit"].mean(),
        "n_students": grouped["student_id"].nunique(),
    })  # fmt: skip
    return out.reset_index()


def estimate_difficulty(students: list[Predictor], questions: pd.DataFrame, batch_size: int = 512,
                        source: str = "questions", line_offset: int | None = None) -> pd.DataFrame:  # fmt: skip
    """Per question of ``questions``: ``problem_id, success_rate, spread, difficulty, n_students``."""
    return summarize(student_probabilities(students, questions, batch_size, source, line_offset))


def held_out(
    student: Predictor, split: str = "test", path: str | Path = "the checkpoint"
) -> tuple[Any, pd.DataFrame]:
    """The model's data over all students (its split as trained) and the questions of ``split`` not in training.

    Raises:
        ConfigError: the model was trained on a split where every question of ``split`` was also trained on
            (``data.split_by=answer``, the default run's), naming ``path`` and the run to train instead.
    """
    data = {**student.model.hparams.data, "student_rank": None, "top_students": None}
    datamodule = restore_datamodule(student.model, data)
    datamodule.prepare_data()
    datamodule.setup("test")
    seen = set(datamodule.parts["train"]["problem_id"])
    wanted = set(datamodule.parts[split]["problem_id"]) - seen
    questions = datamodule.questions[datamodule.questions["problem_id"].isin(wanted)].reset_index(drop=True)
    if questions.empty:
        raise ConfigError(
            f"questions={split}: {path} was trained with data.split_by={datamodule.split_by}, so its {split} "
            "split holds no question unseen in training, and estimates of questions the students were "
            "trained on say nothing about new ones. Validate a model whose questions are split: `python "
            "train.py experiment=text_pooled` (data.split_by=question), then `python estimate_difficulty.py "
            f"ckpt_path=<run>/checkpoints/best.ckpt questions={split}`; or pass questions=FILE (new questions)."
        )
    return datamodule, questions


def _spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    ok = np.isfinite(a) & np.isfinite(b)
    return float(spearmanr(a[ok], b[ok]).statistic) if ok.sum() > 2 else None


def validate(estimates: pd.DataFrame, datamodule: Any, questions: pd.DataFrame, split: str = "test",
             plot: str | Path | None = None) -> tuple[dict[str, Any], pd.DataFrame]:  # fmt: skip
    """Spearman correlations of the estimates and of the two baselines with truth and with observed rates.

    Returns:
        The figures (JSON-ready) and the per-question table (estimates, baselines, observed, truth).
    """
    train = datamodule.parts["train"]
    table = questions.merge(estimates, on="problem_id", how="left", suffixes=("_true", ""))
    observed = observed_rates(datamodule.parts[split]).rename(columns={"success_rate": "observed_success", "n_answers": "n_observed"})  # fmt: skip
    table = table.merge(observed, left_on="problem_id", right_index=True, how="left")
    table["topic_baseline"] = topic_rate(train, table)
    rates = observed_rates(train)
    train_questions = datamodule.questions.merge(rates, left_on="problem_id", right_index=True)
    ridge = TextRidge().fit(datamodule.template.render(train_questions), train_questions["success_rate"].to_numpy(),
                            train_questions["n_answers"].to_numpy())  # fmt: skip
    table["tfidf_ridge_baseline"] = ridge.predict(datamodule.template.render(table))
    columns = {
        "students": "success_rate",
        "topic_baseline": "topic_baseline",
        "tfidf_ridge_baseline": "tfidf_ridge_baseline",
    }
    figures: dict[str, Any] = {
        "n_questions": len(table),
        "n_answers_observed": int(table["n_observed"].sum()),
    }
    has_truth = "true_success" in table
    for name, column in columns.items():
        figures[name] = {
            "spearman_observed": _spearman(table[column].to_numpy(), table["observed_success"].to_numpy())
        }
        if has_truth:
            figures[name]["spearman_true"] = _spearman(
                table[column].to_numpy(), table["true_success"].to_numpy()
            )
    ok = table["observed_success"].notna()
    figures["students"]["pearson_observed"] = float(pearsonr(table.loc[ok, "success_rate"], table.loc[ok, "observed_success"]).statistic)  # fmt: skip
    if has_truth and "visible_success" in table:
        figures["text_ceiling"] = _spearman(
            table["visible_success"].to_numpy(), table["true_success"].to_numpy()
        )
    if plot:
        scatter(table, plot)
    return figures, table


#: The estimates drawn in the scatter plot and named in its Spearman box: column, label.
_DRAWN = (
    ("success_rate", "synthetic students"),
    ("tfidf_ridge_baseline", "TF-IDF + ridge"),
    ("topic_baseline", "topic rate"),
)


def scatter_figure(table: pd.DataFrame) -> Any:
    """The figure of :func:`scatter`: one panel per reference (observed, and true when known).

    Rates are drawn clipped to [0, 1] on [0, 1] axes (the ridge baseline can leave that range); each panel
    prints the Spearman correlation of every estimate with its reference, on the unclipped values.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("observed_success", "observed success rate (held-out answers)")]
    if "true_success" in table:
        panels.append(("true_success", "true success rate"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 5), squeeze=False)
    for ax, (column, label) in zip(axes[0], panels, strict=True):
        x = table[column].clip(0, 1)
        ax.scatter(x, table["success_rate"].clip(0, 1), s=10, alpha=0.6, label="synthetic students")
        ax.scatter(
            x, table["tfidf_ridge_baseline"].clip(0, 1), s=6, alpha=0.4, marker="x", label="TF-IDF + ridge"
        )
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel(label)
        ax.set_ylabel("estimated success rate")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
        lines = []
        for estimate, name in _DRAWN:
            if estimate in table:
                rho = _spearman(table[estimate].to_numpy(float), table[column].to_numpy(float))
                lines.append(f"{name}: {'n/a' if rho is None else f'{rho:.3f}'}")
        box = {"facecolor": "white", "alpha": 0.8, "lw": 0.5}
        ax.text(0.98, 0.02, "Spearman with the x axis\n" + "\n".join(lines), transform=ax.transAxes,
                ha="right", va="bottom", multialignment="left", fontsize=8, bbox=box)  # fmt: skip
    fig.tight_layout()
    return fig


def scatter(table: pd.DataFrame, path: str | Path) -> Path:
    """Estimated success rate against observed (and true, when known) per question, saved to ``path``."""
    import matplotlib.pyplot as plt

    fig = scatter_figure(table)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


@report_user_errors
def run(cfg: DictConfig) -> Path:
    """CLI: estimate the difficulty of ``cfg.questions`` with the students of ``cfg.ckpt_path``."""
    for key in ("ckpt_path", "questions", "output"):
        if cfg.get(key) in (None, "", "???"):
            raise ConfigError(f"{key} is missing: pass {key}=... (see conf/estimate_difficulty.yaml).")
    batch_size = cfg.get("batch_size", 512)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size={batch_size}: must be an integer >= 1; set batch_size.")
    held = str(cfg.questions) in ("test", "val")
    source = None if held else Path(str(cfg.questions)).expanduser()
    output = check_output(cfg, "output", source, "the questions")
    if held and cfg.get("plot"):
        check_output(cfg, "plot")
    if source is not None and not source.is_file():
        raise ConfigError(
            f"questions={source}: no such file. Pass a questions file (CSV, TSV or Parquet; `python "
            "scripts/make_template.py --questions new_questions.csv` writes a template), or questions=test "
            "for the checkpoint's held-out questions."
        )
    students = load_students(cfg.ckpt_path)
    log.info("asking %d student model(s) from %s", len(students), cfg.ckpt_path)
    if held:
        datamodule, questions = held_out(students[0], str(cfg.questions), checkpoint_paths(cfg.ckpt_path)[0])
        estimates = estimate_difficulty(students, questions, batch_size)
        figures, table = validate(estimates, datamodule, questions, str(cfg.questions), cfg.get("plot"))
        figures["n_models"] = len(students)
        (output.parent / "difficulty_validation.json").parent.mkdir(parents=True, exist_ok=True)
        (output.parent / "difficulty_validation.json").write_text(json.dumps(figures, indent=2) + "\n")
        log.info("validation on %d held-out questions: %s", len(table), json.dumps(figures))
    else:
        raw, line_offset = read_table(cfg.questions)
        table = estimate_difficulty(
            students, raw, batch_size, source=str(cfg.questions), line_offset=line_offset
        )
    path = write_table(table, output)
    log.info("wrote the difficulty of %d question(s) -> %s", len(table), path)
    return path
