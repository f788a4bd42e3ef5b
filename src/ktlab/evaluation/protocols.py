"""Evaluation protocols: which positions of a batch of windows are scored.

A protocol is an object passed to the :class:`~ktlab.evaluation.Evaluator` (and used by the training
module), so the rule is written once. Today's is the next-step protocol of the released splits (DKVMN's
and most papers before 2022); others (pyKT's windows and question-level fusion, question-held-out folds)
are further subclasses.
"""

from __future__ import annotations

import torch


class Protocol:
    """Which answers of a batch count. Subclasses set ``name`` and implement :meth:`scored`."""

    name: str = "protocol"

    def scored(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """``[B, T]`` bool: the positions whose predictions are scored."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class NextStepProtocol(Protocol):
    """Every answer of a window but its first: the first step has no history to be predicted from.

    Windows are consecutive, non-overlapping cuts of a learner's sequence (``data.max_len``), so each
    answer is scored at most once, and a learner's very first answer never. An answer tagged with several
    skills is scored once, on its first skill's row: the rows of its other skills (``copy`` in the batch)
    follow that row, whose answer they would see.
    """

    name = "next_step"

    def scored(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        scored = batch["mask"].clone()
        scored[:, 0] = False
        if "copy" in batch:
            scored &= ~batch["copy"]
        return scored
