"""How many threads torch uses on the CPU: the root config's ``cpu_threads``.

torch starts one intra-op thread per core. ktlab's networks are small (a GRU of 128 units, a 64-wide
ModernBERT): each operation is too short for several threads to pay for their synchronization, and when
another process holds a core the threads wait for each other. On a shared 2-core machine the default run
took 723 s with torch's threads against 105 s with one. So ``cpu_threads: auto`` gives a CPU run one thread,
and the other cores stay free for other work (pytest-xdist workers, DDP ranks, a sweep's jobs).

* ``auto``: one thread when the run trains on the CPU, unless ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``
  is set (then torch already follows it); a GPU run keeps torch's choice.
* a number ``N >= 1``: ``torch.set_num_threads(N)`` (e.g. a large pretrained encoder on an idle machine).
* ``null``: torch's own choice (one thread per core, or ``OMP_NUM_THREADS``).

DataLoader workers (``data.num_workers``, 0 by default) are separate processes, each of which torch keeps
to one thread. Under DDP, Lightning's launcher gives each process ``cores / processes`` threads when
``OMP_NUM_THREADS`` is not set.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from ktlab.errors import ConfigError

log = logging.getLogger(__name__)

#: The environment variables torch reads its thread count from when it starts.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _on_cpu(accelerator: Any) -> bool:
    """Whether a Trainer with this ``accelerator`` trains on the CPU (``auto`` picks a GPU if there is one)."""
    if accelerator == "cpu":
        return True
    if accelerator != "auto":
        return False
    mps = getattr(torch.backends, "mps", None)
    return not (torch.cuda.is_available() or (mps is not None and mps.is_available()))


def threads_problems(value: Any) -> list[str]:
    """The problem of a ``cpu_threads`` value, if any (for :func:`ktlab.config_checks.check_config`)."""
    if (
        value is None
        or value == "auto"
        or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)
    ):
        return []
    return [
        f"cpu_threads={value!r}: must be auto (one thread for a CPU run unless OMP_NUM_THREADS is set), "
        "a number of threads >= 1, or null (torch's own choice)"
    ]


def cpu_threads(value: Any, accelerator: Any) -> int | None:
    """The thread count ``cpu_threads=value`` asks for on this run, or None to leave torch as it is.

    Raises:
        ConfigError: ``value`` is neither ``auto``, null, nor a whole number >= 1.
    """
    problems = threads_problems(value)
    if problems:
        raise ConfigError(problems[0] + ".")
    if value == "auto":
        explicit = [name for name in THREAD_VARIABLES if os.environ.get(name)]
        return None if explicit or not _on_cpu(accelerator) else 1
    return value


def set_cpu_threads(cfg: DictConfig) -> None:
    """Give torch the thread count of the config's ``cpu_threads`` (``auto`` where the key is absent)."""
    value = cfg.get("cpu_threads", "auto")
    threads = cpu_threads(value, OmegaConf.select(cfg, "trainer.accelerator", default="cpu"))
    if threads is None:
        log.debug("cpu_threads=%s: torch keeps its %d thread(s)", value, torch.get_num_threads())
        return
    torch.set_num_threads(threads)
    log.info(
        "torch uses %d CPU thread(s) (cpu_threads=%s, %s cores; set cpu_threads=N to change)",
        threads,
        value,
        os.cpu_count(),
    )
