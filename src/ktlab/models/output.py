"""What a network returns: logits, or logits with an extra loss term the module adds to its loss."""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor


class NetOutput(NamedTuple):
    """A network's output when it has a loss term of its own (e.g. DKT+'s regularizers).

    Attributes:
        logits: ``[B, T]`` success logits; position ``t`` predicts step ``t`` from the steps before it.
        aux_loss: a scalar added to the training loss (and logged as ``<stage>/aux_loss``).
    """

    logits: Tensor
    aux_loss: Tensor


def split_output(output: Tensor | NetOutput) -> tuple[Tensor, Tensor | None]:
    """``(logits, aux_loss or None)`` from what a network returned."""
    if isinstance(output, NetOutput):
        return output.logits, output.aux_loss
    return output, None
