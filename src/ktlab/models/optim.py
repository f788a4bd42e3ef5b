"""Building the configured optimizer and scheduler; every LightningModule of ktlab uses this one function."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from hydra.utils import instantiate
from lightning import LightningModule
from lightning.pytorch.plugins.precision import MixedPrecision

from ktlab.utils.logging import get_logger

log = get_logger(__name__)

#: Optimizer arguments that choose an implementation; when the config sets one, it is used as given.
KERNEL_ARGS = ("fused", "foreach")


def build_optimizer(
    factory: functools.partial, params: Iterable[torch.nn.Parameter], allow_fused: bool
) -> torch.optim.Optimizer:
    """Call the optimizer factory of the config, asking for its fused kernel when that is possible.

    torch's Adam, AdamW and SGD update each parameter tensor in turn by default on a CPU; their fused
    kernel updates them all in one pass, with the same arithmetic. It is asked for when the optimizer
    takes ``fused``, the config sets neither ``fused`` nor ``foreach`` and ``allow_fused`` holds; when the
    parameters' device has no fused kernel, torch's default is kept.

    Args:
        factory: the partial optimizer of ``model.optimizer`` (``_partial_: true``).
        params: the parameters to optimize.
        allow_fused: False where the training setup rules the fused kernel out (Lightning refuses to
            clip gradients for an optimizer that unscales them itself, under mixed precision).
    """
    params = list(params)
    chosen = any(key in factory.keywords for key in KERNEL_ARGS)
    takes_fused = "fused" in inspect.signature(factory.func).parameters
    if allow_fused and takes_fused and not chosen:
        try:
            optimizer = factory(params=params, fused=True)
        except RuntimeError as err:  # e.g. a device without a fused kernel
            log.info("%s: fused kernel unavailable (%s); using the default one", factory.func.__name__, err)
        else:
            log.info("%s: fused kernel", factory.func.__name__)
            return optimizer
    return factory(params=params)


def configure_optimization(
    module: LightningModule, optimizer: Mapping[str, Any], scheduler: Mapping[str, Any] | None = None
) -> Any:
    """What ``configure_optimizers`` returns for the module's parameters.

    Args:
        module: the LightningModule, attached to its Trainer (which tells whether the fused kernel is allowed).
        optimizer: partial optimizer config (``_target_``, ``_partial_: true``, its arguments).
        scheduler: optional partial LR scheduler config; ``monitor`` (default ``val/auc``) names the
            metric it reads and ``interval`` (``epoch`` or ``step``) how often it steps.
    """
    trainer = module.trainer  # configure_optimizers is called by a Trainer
    mixed = isinstance(trainer.precision_plugin, MixedPrecision)
    allow_fused = not (mixed and trainer.gradient_clip_val)
    built = build_optimizer(instantiate(dict(optimizer)), module.parameters(), allow_fused)
    if not scheduler:
        return built
    scheduler = dict(scheduler)
    monitor = scheduler.pop("monitor", "val/auc")
    interval = scheduler.pop("interval", "epoch")
    return {
        "optimizer": built,
        "lr_scheduler": {
            "scheduler": instantiate(scheduler)(optimizer=built),
            "monitor": monitor,
            "interval": interval,
            "frequency": 1,
        },
    }
