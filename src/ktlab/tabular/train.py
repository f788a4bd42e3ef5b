"""Training entry point of the tabular models (``python train_tabular.py``, config ``conf/tabular/train.yaml``).

Instantiates the data, the feature builder, the estimator and its task from config; splits learners into
training and held-out sets; fits; scores; and writes into the run directory ``metrics.json``,
``model.skops`` (+ ``model.json`` metadata; see :mod:`ktlab.tabular.io`), ``shap_summary.png``, ``calibration.png`` and the fairness
report (``fairness.json``, ``fairness.txt``). With a registry configured (``data=db`` sets one) the model is
recorded in ``ml_models``, with the sha256 of its file. Nothing here depends on which model is configured.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from ktlab.cli import report_user_errors
from ktlab.tabular.config import check_config
from ktlab.tabular.data import PlatformData
from ktlab.tabular.errors import TabularError
from ktlab.tabular.evaluate import calibration_plot
from ktlab.tabular.explain import ExplainableAI
from ktlab.tabular.fairness import bias_detection, fairness_audit, write_reports
from ktlab.tabular.io import SHA256_KEY, SUFFIX, save_model, sha256_of
from ktlab.tabular.labels import Table, split_learners
from ktlab.utils.metrics_io import to_floats, write_metrics
from ktlab.utils.run_record import RunRecord
from ktlab.utils.secrets import mask_files, mask_secrets

log = logging.getLogger(__name__)


#: What the labels of each training table are, for messages.
_LABELS = {"next": "next-answer rows (label correct)", "risk": "at-risk examples (label: at risk)"}


def _split(
    tables: dict[str, Table], test_users: np.ndarray, source: str
) -> tuple[dict[str, Table], dict[str, Table]]:
    """The training and held-out rows of each table; refuses a split whose labels are of one class."""
    train, test = {}, {}
    for name, table in tables.items():
        held = np.isin(table.student_id, test_users)
        train[name], test[name] = table.rows(~held), table.rows(held)
    for split, part in (("training", train), ("held-out", test)):
        for name, table in part.items():
            classes = np.unique(table.y)
            if classes.size < 2:
                label = f"all labelled {classes[0]}" if classes.size else "no rows"
                raise TabularError(
                    f"{source}: the {split} learners ({np.unique(table.student_id).size}) have "
                    f"{len(table.y)} {_LABELS.get(name, name)} of {classes.size} class ({label}); training "
                    "and scoring need both classes in each split. Use more learners or data with both "
                    "outcomes (or another test_fraction / seed)."
                )
    return train, test


def _check_answers(data: PlatformData) -> None:
    """Refuse answers of one outcome: there is nothing to tell apart."""
    outcomes = data.answers["correct"].value_counts()
    if len(outcomes) < 2:
        raise TabularError(
            f"{data.source}: {len(data.answers)} answers of {data.answers['student_id'].nunique()} learners, all "
            f"with correct={outcomes.index[0]} (1 class); a model of success needs right and wrong "
            "answers. Nothing was trained or stored."
        )


def _fairness(cfg: DictConfig, model: Any, table: Table, out_dir: Path) -> dict[str, float]:
    p = model.predict_proba(table.X)[:, 1]
    reports = [
        fairness_audit(
            table.y,
            p,
            table.sensitive[attribute].rename(attribute),
            threshold=float(cfg.fairness.threshold),
            tolerance=float(cfg.fairness.tolerance),
            learner_ids=table.student_id,
            alpha=float(cfg.fairness.alpha),
            n_permutations=int(cfg.fairness.n_permutations),
            seed=int(cfg.seed),
        )
        for attribute in cfg.fairness.attributes
    ]
    sample = table.X.sample(min(len(table.X), int(cfg.fairness.bias_rows)), random_state=int(cfg.seed))
    bias = [
        bias_detection(model, sample, a, seed=int(cfg.seed)) for a in cfg.fairness.attributes if a in sample
    ]
    json_path, txt_path = write_reports(reports, bias, out_dir)
    log.info("fairness report written to %s and %s", json_path, txt_path)
    out: dict[str, float] = {}
    for report in reports:
        if not report.judged:
            log.warning("fairness audit by %s %s", report.attribute, report.assessment)
            continue
        out[f"fairness/{report.attribute}/dp_difference"] = report.demographic_parity_difference
        out[f"fairness/{report.attribute}/eo_difference"] = report.equalized_odds_difference
        out[f"fairness/{report.attribute}/score"] = report.score
    for entry in bias:
        out[f"bias/{entry['feature']}/mean_abs_change"] = float(entry["mean_abs_change"])
    return out


def train(cfg: DictConfig) -> dict[str, float]:
    """Fit and score the configured tabular model; returns the metrics written to ``metrics.json``."""
    check_config(cfg)
    out_dir = Path(cfg.paths.output_dir)
    mask_files(out_dir / ".hydra")  # Hydra wrote the composed config before this ran
    log.info("Instantiating data <%s>", cfg.data._target_)
    data: PlatformData = instantiate(cfg.data)
    features = instantiate(cfg.features)
    model = instantiate(cfg.model.estimator, features=features, _convert_="all")  # plain lists: saved as such
    task = instantiate(cfg.model.labels)
    log.info(
        "Building features and labels for %d answers of %d learners", len(data.answers), len(data.learners)
    )
    _check_answers(data)
    tables = task.tables(data, features)
    _, test_users = split_learners(
        data.answers["student_id"].to_numpy(), float(cfg.test_fraction), int(cfg.seed)
    )
    train_tables, test_tables = _split(tables, test_users, data.source)
    log.info("Fitting %s on %d rows", type(model).__name__, len(train_tables["next"].y))
    task.fit(model, train_tables)
    metrics, curves = task.evaluate(model, train_tables, test_tables, data.subset(test_users))
    metrics.update(_fairness(cfg, model, test_tables["next"], out_dir))
    metrics = to_floats(metrics)

    ExplainableAI(model).summary_plot(
        test_tables["next"].X,
        out_dir / "shap_summary.png",
        int(cfg.shap_rows),
        int(cfg.seed),
        name=str(cfg.model.name),
    )
    calibration_plot(curves, out_dir / "calibration.png")
    config = mask_secrets(
        OmegaConf.to_container(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]), resolve=True)
    )
    model_path = save_model(
        model, out_dir / f"model{SUFFIX}", metrics, name=str(cfg.model.name), data=data.source
    )
    write_metrics(out_dir / "metrics.json", metrics, model=str(cfg.model.name), model_path=str(model_path))
    log.info(
        "Metrics: %s",
        {k: v if v is None else round(v, 4) for k, v in metrics.items() if k.startswith("test/")},
    )
    if cfg.get("registry") is not None:
        registry = instantiate(cfg.registry)
        registry.record(
            RunRecord(
                name=str(cfg.model.name),
                metrics=metrics,
                checkpoint_path=str(model_path),
                config={**config, SHA256_KEY: sha256_of(model_path)},  # type: ignore[dict-item]
                output_dir=str(out_dir),
                kind=type(model).__name__,
            )
        )
    return metrics


@report_user_errors
def run(cfg: DictConfig) -> float | None:
    """Train and return ``cfg.optimized_metric`` (for sweeps)."""
    metrics = train(cfg)
    key = cfg.get("optimized_metric")
    return metrics.get(key) if key else None
