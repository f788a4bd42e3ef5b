"""A Weights & Biases logger that goes online when it can and never fails for lack of network."""

from __future__ import annotations

import os
from typing import Any

from lightning.fabric.utilities.rank_zero import rank_zero_only
from lightning.pytorch.loggers import WandbLogger

from ktlab.utils.logging import get_logger
from ktlab.utils.secrets import masked_argv

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
    log_model = kwargs.pop("log_model", False)
    if getattr(rank_zero_only, "rank", 0) != 0:  # other DDP ranks log nothing; Lightning gives them a dummy
        return WandbLogger(project=project, save_dir=save_dir, mode=mode, log_model=log_model, **kwargs)
    if mode == "online":
        try:
            run = _start_run(project, save_dir, "online", kwargs, init_timeout)
            return WandbLogger(project=project, save_dir=save_dir, experiment=run, log_model=log_model)
        except Exception as err:  # wandb raises its own error types on connection problems
            log.warning("W&B is unreachable (%s); logging offline to %s instead", err, save_dir)
            mode = "offline"
    log.info("W&B logging in %s mode under %s", mode, save_dir)
    run = _start_run(project, save_dir, mode, kwargs, init_timeout)
    return WandbLogger(project=project, save_dir=save_dir, experiment=run, log_model=log_model)


def _start_run(project: str, save_dir: str, mode: str, kwargs: dict[str, Any], init_timeout: float) -> Any:
    """Start the W&B run here rather than in Lightning's logger.

    Lightning's logger passes ``anonymous=None`` to ``wandb.init``, which this wandb version answers with a
    deprecation warning on every run; started here, the run is the same without that line. W&B records the
    command line in the run's metadata: it sees it with URL passwords masked.
    """
    import wandb

    # A sweep's jobs run one after another in one process: each gets its own run, the previous one finished.
    settings = wandb.Settings(init_timeout=init_timeout, reinit="finish_previous")
    with masked_argv():
        run = wandb.init(project=project, dir=save_dir, mode=mode, settings=settings, **kwargs)
    run.define_metric("trainer/global_step")
    run.define_metric("*", step_metric="trainer/global_step", step_sync=True)
    return run
