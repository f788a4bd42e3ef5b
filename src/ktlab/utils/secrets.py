"""Keeping passwords out of everything a run stores (configs, logs, checkpoints, the registry, W&B files).

A database URL with a password (``db.url=postgresql+psycopg2://user:PW@host/db``) reaches many writers:

* Hydra's own files (``.hydra/config.yaml``, ``hydra.yaml``, ``overrides.yaml``, a sweep's
  ``multirun.yaml``), where a sweep writes the overrides escaped (``postgresql+psycopg2\\://user\\:PW@``):
  :class:`MaskSecretsCallback`, set in ``conf/hydra/default.yaml``, rewrites them masked as soon as Hydra
  has written them, before the task runs, and again when the job and the sweep end.
* Log lines (the console, ``<task>.log``, Hydra's list of a sweep's jobs): :class:`MaskSecretsFilter` on
  every handler of ``conf/hydra/default.yaml``.
* What the task stores itself (checkpoints, the registry, logger hyperparameters): :func:`mask_secrets`.
* Weights & Biases, which records the command line: :func:`masked_argv` around ``wandb.init``.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)

#: ``scheme://user:password@host``: the password part of a URL with credentials, also in the escaped form
#: of Hydra's sweep overrides (``scheme\://user\:password@host``). The password runs to the first ``@``
#: (SQLAlchemy's own rule) and may hold ``/``, ``:`` and backslash escapes, never unescaped whitespace.
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[a-zA-Z][\w+.-]*\\?://(?:\\[^:]|[^\s:/@\\])*\\?:)(?P<password>(?:\\.|[^\s@\\])+)(?P<tail>@)"
)
MASK = "***"


def mask_text(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", text)


def mask_secrets(value: Any) -> Any:
    """A copy of a plain config (dicts, lists, strings) with URL passwords masked."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: mask_secrets(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_secrets(item) for item in value]
    return value


def mask_file(path: Path) -> bool:
    """Rewrite a text file with URL passwords masked (atomically, keeping its mode); True if it changed."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    masked = mask_text(text)
    if masked == text:
        return False
    temp = path.with_name(f".{path.name}.{os.getpid()}.masking")
    temp.write_text(masked, encoding="utf-8")
    os.chmod(temp, path.stat().st_mode & 0o777)
    os.replace(temp, path)
    return True


def mask_files(folder: str | Path, pattern: str = "*.yaml") -> list[Path]:
    """Mask URL passwords in the files of ``folder`` matching ``pattern`` (Hydra's ``.hydra/*.yaml``).

    Returns:
        The files that held a password and were rewritten.
    """
    return [path for path in sorted(Path(folder).glob(pattern)) if path.is_file() and mask_file(path)]


@contextmanager
def masked_argv() -> Iterator[None]:
    """``sys.argv`` with URL passwords masked for the duration (for libraries that record the command line).

    The real arguments come back afterwards: Lightning's DDP launcher starts its workers with them.
    """
    original = list(sys.argv)
    sys.argv[:] = [mask_text(arg) for arg in original]
    try:
        yield
    finally:
        sys.argv[:] = original


class MaskSecretsFilter(logging.Filter):
    """A logging filter that masks URL passwords in every record it passes (message and traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: the handler reports it as logging always does
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


def _job_folders(config: DictConfig) -> tuple[Path | None, Path | None]:
    """The job's Hydra folder (``.hydra``) and, in a sweep, the sweep folder holding ``multirun.yaml``."""
    hydra = config.hydra
    output_dir = OmegaConf.select(hydra, "runtime.output_dir", default=None)
    if not output_dir:
        return None, None
    subdir = OmegaConf.select(hydra, "output_subdir", default=None)
    hydra_dir = Path(output_dir) / subdir if subdir else None
    sweep_dir = None
    if str(OmegaConf.select(hydra, "mode", default="")) == "RunMode.MULTIRUN":
        job_subdir = OmegaConf.select(hydra, "sweep.subdir", default=None)
        depth = len(Path(str(job_subdir)).parts) if job_subdir else 0
        sweep_dir = Path(output_dir).parents[depth - 1] if depth else Path(output_dir)
    return hydra_dir, sweep_dir


class MaskSecretsCallback(Callback):
    """Hydra callback: mask URL passwords in the files Hydra writes for a run, each job and a sweep."""

    def _mask_job(self, config: DictConfig) -> None:
        hydra_dir, sweep_dir = _job_folders(config)
        changed = mask_files(hydra_dir) if hydra_dir is not None else []
        if sweep_dir is not None:
            changed += mask_files(sweep_dir)
        if changed:
            log.debug("masked passwords in %s", ", ".join(str(p) for p in changed))

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._mask_job(config)

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        self._mask_job(config)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = OmegaConf.select(config, "hydra.sweep.dir", default=None)
        if sweep_dir and Path(sweep_dir).is_dir():
            mask_files(sweep_dir)
