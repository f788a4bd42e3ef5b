"""Training entry point: instantiate from config, fit, test, write metrics, return the swept metric.

The root ``train.py`` wraps :func:`run` with ``@hydra.main``; tests call :func:`train` with a config
composed through Hydra's compose API. Nothing here depends on which model or data source is configured.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from ktlab.cli import report_user_errors
from ktlab.config_checks import check_config
from ktlab.models.checkpoint import read_checkpoint
from ktlab.utils.instantiate import instantiate_group
from ktlab.utils.metrics_io import to_floats, write_metrics
from ktlab.utils.run_record import RunRecord

log = logging.getLogger(__name__)


def _best_checkpoint(trainer: L.Trainer) -> str | None:
    callback = trainer.checkpoint_callback
    if callback is None:
        return None
    best = getattr(callback, "best_model_path", "") or getattr(callback, "last_model_path", "")
    return best or None


def train(cfg: DictConfig) -> dict[str, float]:
    """Fit and test the configured model on the configured data.

    Args:
        cfg: the composed ``train`` config.

    Returns:
        The final metrics: the validation metrics of the last epoch, ``val/auc_best``, and the test
        metrics of the best checkpoint (``test/auc``, ``test/acc``, ``test/loss``, ``test/oracle_auc``).
    """
    check_config(cfg)
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)

    resume = cfg.get("ckpt_path")
    data_overrides: dict[str, Any] = {}
    if resume:
        data_overrides["encoder_state"] = read_checkpoint(resume)["hyper_parameters"]["encoder"]

    log.info("Instantiating datamodule <%s>", cfg.data._target_)
    datamodule = instantiate(cfg.data, **data_overrides)
    datamodule.prepare_data()
    datamodule.setup("fit")

    log.info("Instantiating model <%s> with network <%s>", cfg.model._target_, cfg.model.net._target_)
    model = instantiate(
        cfg.model,
        dims=datamodule.encoder.dims,
        encoder=datamodule.encoder.state_dict(),
        data=OmegaConf.to_container(cfg.data, resolve=True),
    )
    callbacks = instantiate_group(cfg.get("callbacks"), "callback")
    loggers = instantiate_group(cfg.get("logger"), "logger")
    log.info("Instantiating trainer <%s>", cfg.trainer._target_)
    trainer: L.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))

    if cfg.get("train", True):
        log.info("Starting training")
        trainer.fit(model=model, datamodule=datamodule, ckpt_path=resume, weights_only=False)
    metrics = to_floats(trainer.callback_metrics)

    best = _best_checkpoint(trainer)
    if cfg.get("test", True):
        log.info("Testing %s", f"best checkpoint {best}" if best else "the final weights")
        trainer.test(model=model, datamodule=datamodule, ckpt_path=best, weights_only=False)
        metrics.update(to_floats(trainer.callback_metrics))

    if trainer.is_global_zero:
        output_dir = Path(cfg.paths.output_dir)
        path = write_metrics(
            output_dir / "metrics.json", metrics, checkpoint=best, model=cfg.model.get("name")
        )
        log.info("Metrics written to %s: %s", path, {k: round(v, 4) for k, v in metrics.items() if "/" in k})
        if cfg.get("registry") is not None:
            registry = instantiate(cfg.registry)
            registry.record(
                RunRecord(
                    name=str(cfg.model.get("name", "model")),
                    metrics=metrics,
                    checkpoint_path=best,
                    config=OmegaConf.to_container(cfg, resolve=True),
                    output_dir=str(output_dir),
                )
            )
    return metrics


@report_user_errors
def run(cfg: DictConfig) -> float | None:
    """Train and return ``cfg.optimized_metric`` (for sweeps), or None when it is not set."""
    metrics = train(cfg)
    key = cfg.get("optimized_metric")
    if not key:
        return None
    if key not in metrics:
        log.warning("optimized_metric '%s' was not logged; available: %s", key, sorted(metrics))
        return None
    return metrics[key]
