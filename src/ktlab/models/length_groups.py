"""Run a network on a batch in groups of windows of similar length: the same logits, less padding.

A batch taken in file order (pyKT's protocol: 256 learners' chunks as they come) mixes a few windows of 200
steps with many of a few steps. Padded to its longest window, about 80% of its positions are padding on
ASSISTments 2015, and a network spends most of its time on them. Every sequence network here predicts step
``t`` of a window from that window's steps up to ``t`` only (the leakage test holds each of them to it),
and windows are padded at their end, so running the windows in groups, each group cut to its own longest
window, gives the same logits for the same batch (up to float rounding), hence the same loss and
gradients: the batches, their order and what is learnt from them stay pyKT's; only the work shrinks.
Dropout masks are drawn group by group, so a training run with groups follows another random stream than
one without (on ASSISTments 2015 fold 0, DKT's ``window_testauc`` moved by 0.0003).

The windows, sorted by length (longest first), are cut into at most ``groups`` contiguous runs that
minimise the positions computed, the sum over runs of (windows in the run) x (its longest window), by
dynamic programming over the sorted lengths. This is written here because no library partitions a sorted
sequence under that cost; it is a few tensor operations over a ``[B, B]`` table per group. A batch whose
grouping would save less than :data:`MIN_SAVING` of its positions runs whole.

A network's ``aux_loss`` on a grouped batch is the mean of the groups' aux losses weighted by their real
steps. The networks here return per-step means (DKT+'s regularizers, AKT's Rasch penalty per practised
step, QIKT's module losses) or parameter penalties (the same in every group), for which that is the batch's
own value (exactly for the penalties, up to which steps a mean counts for the others).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import Tensor

from ktlab.models.output import NetOutput

#: Group a batch only when that saves at least this share of the positions it is padded to ([B, T]).
MIN_SAVING = 0.25

Output = Tensor | NetOutput


def plan_groups(lengths: Tensor, groups: int) -> list[Tensor] | None:
    """Row indices of each group (longest windows first), or None when the batch should run whole.

    Args:
        lengths: real steps of each window ``[B]``.
        groups: the most groups to cut the batch into.
    """
    n = int(lengths.shape[0])
    groups = min(groups, n)
    if groups <= 1:
        return None
    order = torch.argsort(lengths, descending=True, stable=True)
    longest = lengths[order].clamp(min=1).to(device="cpu", dtype=torch.float64)
    # cost[i, j - 1]: positions computed for the run of sorted windows i..j-1 (its first is its longest)
    start = torch.arange(n)[:, None]
    end = torch.arange(1, n + 1)[None, :]
    cost = torch.where(end > start, (end - start) * longest[:, None], float("inf"))
    best = torch.full((n + 1,), float("inf"), dtype=torch.float64)
    best[0] = 0.0  # best[j]: fewest positions for the first j windows in the runs so far
    choices = []
    for _ in range(groups):
        totals, choice = (best[:-1, None] + cost).min(dim=0)  # over the run's start, for each end
        best = torch.cat([best.new_zeros(1), totals])
        best[0] = float("inf")  # from the second run on, every run holds at least one window
        choices.append(choice)
    if best[n] > (1.0 - MIN_SAVING) * n * float(lengths.max().clamp(min=1)):
        return None
    runs, stop = [], n
    for choice in reversed(choices):
        begin = int(choice[stop - 1])
        runs.append(order[begin:stop].to(lengths.device))
        stop = begin
    return runs[::-1]


def _rows(value: object, rows: Tensor, width: int, size: int, steps: int) -> object:
    """``value`` for the windows ``rows``, its step axis cut to ``width`` (anything not per window as is)."""
    if not isinstance(value, Tensor) or value.dim() == 0 or value.shape[0] != size:
        return value
    value = value[rows]
    if value.dim() >= 2 and value.shape[1] == steps:
        value = value[:, :width]
    return value


def _place(pieces: list[Tensor], runs: list[Tensor], size: int, steps: int) -> Tensor:
    """The groups' ``[b, w, ...]`` outputs back in one ``[B, T, ...]`` tensor (zeros on padding)."""
    first = pieces[0]
    whole = first.new_zeros((size, steps, *first.shape[2:]))
    for piece, rows in zip(pieces, runs, strict=True):
        whole[rows, : piece.shape[1]] = piece
    return whole


def run_grouped(
    fn: Callable[[dict[str, Tensor]], Output], batch: Mapping[str, Tensor], groups: int
) -> Output:
    """``fn(batch)`` computed group by group (see the module docstring); ``groups`` <= 1 runs it whole.

    ``fn`` returns ``[B, T, ...]`` (logits, or what an output layer reads) or a
    :class:`~ktlab.models.output.NetOutput`.
    """
    mask = batch["mask"]
    lengths = mask.sum(dim=1)
    runs = plan_groups(lengths, groups) if groups > 1 and mask.dim() == 2 else None
    if runs is None:
        return fn(dict(batch))
    size, steps = mask.shape
    pieces, aux, weights = [], [], []
    for rows in runs:
        width = int(lengths[rows].max().clamp(min=1))
        out = fn({key: _rows(value, rows, width, size, steps) for key, value in batch.items()})
        if isinstance(out, NetOutput):
            aux.append(out.aux_loss)
            weights.append(float(lengths[rows].sum()))
            out = out.logits
        pieces.append(out)
    whole = _place(pieces, runs, size, steps)
    if not aux:
        return whole
    total = sum(weights) or 1.0
    return NetOutput(whole, sum(loss * (weight / total) for loss, weight in zip(aux, weights, strict=True)))
