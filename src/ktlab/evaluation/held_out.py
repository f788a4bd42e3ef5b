"""Scores on answers to seen and to held-out questions, apart (question-held-out tracing).

Batches of :class:`~ktlab.data.held_out.QuestionHeldOutDataModule` flag every answer to a question held
out of training (batch key ``held_out``). :class:`FlaggedProtocol` narrows any protocol to the answers
with (or without) that flag, and :func:`held_out_scores` runs a model once over the batches and returns
the metrics of both sets and of all answers.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from ktlab.evaluation.evaluator import Evaluator
from ktlab.evaluation.protocols import NextStepProtocol, Protocol

#: The batch key of the flag (see :mod:`ktlab.data.held_out`).
HELD_OUT = "held_out"


class FlaggedProtocol(Protocol):
    """The positions ``base`` scores whose ``key`` flag equals ``flagged`` (a batch without the flag
    has none flagged).

    Args:
        base: the protocol narrowed (default :class:`NextStepProtocol`).
        flagged: keep the flagged answers (True) or the others (False).
        key: the batch key of the flag.
    """

    def __init__(self, base: Protocol | None = None, flagged: bool = True, key: str = HELD_OUT) -> None:
        self.base = base or NextStepProtocol()
        self.flagged = flagged
        self.key = key
        self.name = f"{self.base.name}_{'' if flagged else 'not_'}{key}"

    def scored(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        scored = self.base.scored(batch)
        flag = batch.get(self.key)
        if flag is None:  # data that holds nothing out: no answer is flagged
            return scored if not self.flagged else torch.zeros_like(scored)
        return scored & (flag == self.flagged)


@torch.no_grad()
def held_out_scores(
    model: torch.nn.Module, batches: Iterable[dict[str, torch.Tensor]], base: Protocol | None = None
) -> dict[str, dict[str, float | None]]:
    """``{"seen": ..., "unseen": ..., "all": ...}``: the metrics of :meth:`Evaluator.metrics` of each set."""
    base = base or NextStepProtocol()
    evaluators = {
        "seen": Evaluator(FlaggedProtocol(base, flagged=False)),
        "unseen": Evaluator(FlaggedProtocol(base, flagged=True)),
        "all": Evaluator(base),
    }
    model.eval()
    for batch in batches:
        logits = model(batch)
        for evaluator in evaluators.values():
            evaluator.update(batch, logits)
    return {name: evaluator.metrics() for name, evaluator in evaluators.items()}
