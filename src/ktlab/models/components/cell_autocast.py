"""Recurrent cells under CPU autocast, on CPUs whose oneDNN has no low-precision kernel for them.

Under CPU autocast (``trainer.precision=bf16-mixed`` or ``16-mixed`` on the CPU) torch runs an LSTM through
oneDNN in the autocast dtype. oneDNN has a bfloat16 LSTM only on CPUs with AVX-512 (natively with
AVX-512 BF16 or AMX, emulated on plain AVX-512); on an AVX2-only CPU the forward pass dies with "could not
create a primitive descriptor for the LSTM forward propagation primitive". Whether a kernel exists is
known only to oneDNN (``ONEDNN_MAX_CPU_ISA`` caps what it may use, whatever ``/proc/cpuinfo`` says), so
:func:`autocast_runs` asks it: it runs a tiny cell of the same type under autocast once per process and
remembers the answer. Where the kernel is missing, :func:`run_cell` runs the cell in float32 with autocast
off around it (the rest of the network stays in the autocast dtype) and a warning says so once.
"""

from __future__ import annotations

import functools
import logging

import torch
from torch import nn

log = logging.getLogger(__name__)


@functools.cache
def autocast_runs(cell_type: type[nn.RNNBase], dtype: torch.dtype) -> bool:
    """Whether a ``cell_type`` runs forward and backward under CPU autocast to ``dtype`` in this process.

    The probe is a one-layer cell of width 4 on two steps; it draws its weights from a forked random
    state, so asking never moves the seeded stream of a run.
    """
    try:
        with torch.random.fork_rng(devices=[]), torch.inference_mode(False), torch.enable_grad():
            probe = cell_type(4, 4, batch_first=True)
            inputs = torch.zeros(1, 2, 4, requires_grad=True)
            with torch.autocast("cpu", dtype=dtype):
                states, _ = probe(inputs)
            states.float().sum().backward()
    except RuntimeError as err:
        name = str(dtype).removeprefix("torch.")
        log.warning(
            "oneDNN has no %s %s kernel on this CPU (%s): under autocast the recurrent cells run in "
            "float32, the rest of the network in %s.",
            name,
            cell_type.__name__,
            str(err).split(". ", 1)[0],
            name,
        )
        return False
    return True


def run_cell(cell: nn.RNNBase, inputs: torch.Tensor) -> torch.Tensor:
    """The cell's states after each step ``[B, T, H]`` for ``inputs [B, T, D]`` (``batch_first``).

    Under CPU autocast to a dtype for which this CPU has no kernel of the cell (:func:`autocast_runs`),
    the cell runs in float32 outside autocast; everywhere else it runs as it is.
    """
    if inputs.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
        dtype = torch.get_autocast_dtype("cpu")
        if not autocast_runs(type(cell), dtype):
            with torch.autocast("cpu", enabled=False):
                return cell(inputs.float())[0]
    return cell(inputs)[0]
