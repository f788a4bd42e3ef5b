"""Training entry point: instantiate from config, fit, test, write metrics, return the swept metric.

The root ``train.py`` wraps :func:`run` with ``@hydra.main``; tests call :func:`train` with a config
composed through Hydra's compose API. Nothing here depends on which model or data is configured: the
DataModule hands the model its ``model_inputs()`` (sizes and fitted state), and a resumed run takes the
fitted state back from the checkpoint.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from ktlab.cli import report_user_errors
from ktlab.config_checks import check_config
from ktlab.errors import CheckpointError
from ktlab.evaluation.suites import protocol_record, protocol_test_metrics
from ktlab.models.checkpoint import INPUTS_KEY, read_checkpoint, shape_mismatches
from ktlab.utils.csv_logger import CSVLogger
from ktlab.utils.instantiate import instantiate_group
from ktlab.utils.logging import get_logger
from ktlab.utils.metrics_io import to_floats, write_metrics
from ktlab.utils.quiet import quiet_libraries, terminal_progress_bar
from ktlab.utils.run_record import RunRecord
from ktlab.utils.run_summary import fit_summary, summary_line
from ktlab.utils.secrets import mask_files, mask_secrets
from ktlab.utils.threads import set_cpu_threads

log = get_logger(__name__)


def _best_checkpoint(trainer: L.Trainer) -> str | None:
    """The checkpoint chosen on the monitored metric (``best.ckpt``), else the latest one written."""
    callbacks = trainer.checkpoint_callbacks
    judged = [c for c in callbacks if getattr(c, "monitor", None) and getattr(c, "best_model_path", "")]
    if judged:
        return judged[0].best_model_path
    latest = [getattr(c, "last_model_path", "") or getattr(c, "best_model_path", "") for c in callbacks]
    return next((path for path in latest if path), None)


def _differences(stored: Any, current: Any, prefix: str) -> list[str]:
    """Keys whose values differ between two plain configs, as ``key: stored -> current``."""
    if isinstance(stored, dict) and isinstance(current, dict):
        out = []
        for key in sorted(set(stored) | set(current)):
            out += _differences(stored.get(key), current.get(key), f"{prefix}.{key}")
        return out
    return [] if stored == current else [f"{prefix}: {stored!r} -> {current!r}"]


def _check_resume(path: str, checkpoint: dict[str, Any], model: L.LightningModule, data: dict) -> None:
    """Refuse a checkpoint whose weights do not fit the configured model; warn about changed data settings."""
    problems = shape_mismatches(model, checkpoint["state_dict"])
    if problems:
        stored_net = checkpoint["hyper_parameters"].get("net", {})
        changed = _differences(stored_net, model.hparams.net, "model.net")
        hint = f" The network config differs: {'; '.join(changed)}." if changed else ""
        raise CheckpointError(
            f"{path}: cannot resume: its weights do not fit the configured model "
            f"({'; '.join(problems[:3])}{' ...' if len(problems) > 3 else ''}).{hint} Resume with the "
            "model config the checkpoint was trained with, or drop ckpt_path to start afresh."
        )
    changed = _differences(checkpoint["hyper_parameters"].get("data"), data, "data")
    if changed:
        log.warning("resuming with data settings that differ from the checkpoint's: %s", "; ".join(changed))


def resume_path(cfg: DictConfig) -> str | None:
    """The checkpoint to resume from: ``ckpt_path``, where ``last`` means this run's own ``last.ckpt``.

    ``ckpt_path=last`` resumes from ``last.ckpt`` of the run's checkpoint folder when it is there and starts
    afresh when it is not, so a rerun into the same run folder (a multirun over students, say) goes on where
    it stopped.
    """
    value = cfg.get("ckpt_path")
    if value != "last":
        return value
    folder = OmegaConf.select(cfg, "callbacks.last_checkpoint.dirpath", default=None) or OmegaConf.select(
        cfg, "callbacks.model_checkpoint.dirpath", default=None
    )
    path = Path(folder or Path(cfg.paths.output_dir) / "checkpoints") / "last.ckpt"
    if path.is_file():
        log.info("ckpt_path=last: resuming from %s", path)
        return str(path)
    log.info("ckpt_path=last: no %s yet; starting afresh", path)
    return None


def train(cfg: DictConfig) -> dict[str, float]:
    """Fit and test the configured model on the configured data.

    Args:
        cfg: the composed ``train`` config.

    Returns:
        The final metrics: the validation metrics of the last epoch, ``val/auc_best``, and the test
        metrics of the best checkpoint (``test/auc``, ``test/acc``, ``test/loss``, ...).
    """
    quiet_libraries()
    check_config(cfg)
    set_cpu_threads(cfg)
    output_dir = Path(cfg.paths.output_dir)
    mask_files(output_dir / ".hydra")  # Hydra wrote the composed config before this ran
    stored_cfg = mask_secrets(OmegaConf.to_container(cfg, resolve=True))
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True, verbose=False)

    resume = resume_path(cfg)
    checkpoint = read_checkpoint(resume, cfg.data, "or drop ckpt_path to start afresh") if resume else None
    data_overrides: dict[str, Any] = {}
    if checkpoint is not None:
        data_overrides["fitted_state"] = checkpoint["hyper_parameters"][INPUTS_KEY]["state"]

    log.info("Instantiating datamodule <%s>", cfg.data._target_)
    datamodule = instantiate(cfg.data, **data_overrides)
    datamodule.prepare_data()
    datamodule.setup("fit")

    log.info("Instantiating model <%s>", cfg.model._target_)
    model = instantiate(cfg.model, inputs=datamodule.model_inputs(), data=stored_cfg["data"])
    resumed_epoch: int | None = None
    if checkpoint is not None:
        _check_resume(resume, checkpoint, model, stored_cfg["data"])
        resumed_epoch = int(checkpoint.get("epoch", 0))
        del checkpoint
    callbacks = instantiate_group(cfg.get("callbacks"), "callback")
    loggers = instantiate_group(cfg.get("logger"), "logger")
    log.info("Instantiating trainer <%s>", cfg.trainer._target_)
    if resumed_epoch is not None:
        for logger in loggers:
            if isinstance(logger, CSVLogger):
                logger.continue_from(resumed_epoch)
    callbacks, progress = terminal_progress_bar(callbacks)
    trainer: L.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False, **progress)
    for logger in loggers:
        logger.log_hyperparams(stored_cfg)

    if cfg.get("train", True):
        log.info("Starting training")
        with warnings.catch_warnings():
            if resumed_epoch is not None:  # the run's own folder: its checkpoints are the ones resumed
                warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")
            trainer.fit(model=model, datamodule=datamodule, ckpt_path=resume, weights_only=True)
    metrics = to_floats(trainer.callback_metrics)

    best = _best_checkpoint(trainer)
    fitted = fit_summary(trainer, best) if cfg.get("train", True) else None
    if cfg.get("test", True):
        log.info("Testing %s", f"best checkpoint {best}" if best else "the final weights")
        trainer.test(model=model, datamodule=datamodule, ckpt_path=best, weights_only=True)
        metrics.update(to_floats(trainer.callback_metrics))
        # a data protocol's own test metrics (pyKT's), by the best weights test loaded into the model
        metrics.update(to_floats(protocol_test_metrics(model, datamodule)))

    if trainer.is_global_zero:
        path = write_metrics(
            output_dir / "metrics.json",
            metrics,
            checkpoint=best,
            model=cfg.model.get("name"),
            **protocol_record(datamodule),
        )
        log.debug(
            "Metrics written to %s: %s",
            path,
            {k: v if v is None else round(v, 4) for k, v in metrics.items() if "/" in k},
        )
        if cfg.get("registry") is not None:
            registry = instantiate(cfg.registry)
            registry.record(
                RunRecord(
                    name=str(cfg.model.get("name", "model")),
                    metrics=metrics,
                    checkpoint_path=best,
                    config=stored_cfg,
                    output_dir=str(output_dir),
                )
            )
        log.info("%s", summary_line(fitted, metrics, output_dir))
    return metrics


@report_user_errors
def run(cfg: DictConfig) -> float | None:
    """Train and return ``cfg.optimized_metric`` (for sweeps), or None when it is not set."""
    metrics = train(cfg)
    key = cfg.get("optimized_metric")
    if not key:
        return None
    value = metrics.get(key)
    if value is None:
        log.warning("optimized_metric '%s' was not logged; available: %s", key, sorted(metrics))
    return value
