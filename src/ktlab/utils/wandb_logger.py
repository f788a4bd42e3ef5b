"""A Weights & Biases logger that goes online when it can and never fails for lack of network."""

from __future__ import annotations

import os
from typing import Any

from lightning.pytorch.loggers import WandbLogger

from ktlab.utils.logging import get_logger

log = get_logger(__name__)


def _has_api_key() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        import netrc

        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        return False


def make_wandb_logger(
    project: str, save_dir: str, mode: str = "auto", init_timeout: float = 30.0, **kwargs: Any
) -> WandbLogger:
    """Build a :class:`WandbLogger`.

    Args:
        project: the W&B project.
        save_dir: where run files go (offline runs can be uploaded later with ``wandb sync``).
        mode: ``auto`` (online when an API key is set and ``WANDB_MODE`` is not ``offline``, else
            offline), ``online``, ``offline`` or ``disabled``.
        init_timeout: seconds to wait for the server before falling back to offline.
        **kwargs: passed to :class:`WandbLogger` (``name``, ``tags``, ``group``, ``entity``...).
    """
    env_mode = os.environ.get("WANDB_MODE")
    if mode == "auto":
        mode = env_mode or ("online" if _has_api_key() else "offline")
    os.makedirs(save_dir, exist_ok=True)
    if mode == "online":
        import wandb

        settings = wandb.Settings(init_timeout=init_timeout)
        wandb_logger = WandbLogger(
            project=project, save_dir=save_dir, mode="online", settings=settings, **kwargs
        )
        try:
            _ = wandb_logger.experiment  # connect now, so a network failure is caught here
            return wandb_logger
        except Exception as err:  # wandb raises its own error types on connection problems
            log.warning("W&B is unreachable (%s); logging offline to %s instead", err, save_dir)
    log.info("W&B logging in %s mode under %s", mode, save_dir)
    return WandbLogger(project=project, save_dir=save_dir, mode=mode, **kwargs)
