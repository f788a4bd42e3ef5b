"""What a learner did the last time they met the same problem: a known-before signal for every step.

For step ``t`` on problem ``p`` (id > 0), the latest earlier step ``tau < t`` of the same window on
problem ``p`` gives three numbers::

    seen_t    = 1 if there is such a tau, else 0
    correct_t = correct_tau (0 when unseen)
    repeat_t  = 1 if tau = t - 1: the step right before is the same problem

Only answers of steps before ``t`` are read, so the signal may join the query of step ``t``. ASSISTments
2009 lists a problem tagged with several skills once per skill, one row after the other with the same
answer; ``repeat_t`` is how a recurrent model can tell those rows apart, as AKT's attention does by
matching problem embeddings. Written here because no library looks up "the last earlier step with the same
id" on padded batches.
"""

from __future__ import annotations

import torch

from ktlab.models.components.monotonic import allowed_keys

#: Features per step.
WIDTH = 3


def problem_history(problem: torch.Tensor, correct: torch.Tensor) -> torch.Tensor:
    """``[B, T, 3]`` floats (seen, correct the last time, repeats the step before) per step.

    Args:
        problem: problem ids ``[B, T]`` (0: padding or unseen in training, never matched).
        correct: answers ``[B, T]`` (0/1).
    """
    t = problem.shape[1]
    steps = torch.arange(t, device=problem.device)
    same = problem.unsqueeze(2) == problem.unsqueeze(1)  # [B, query step, earlier step]
    same &= allowed_keys(t, strict=True, device=problem.device)  # earlier steps only
    same &= (problem > 0).unsqueeze(2)
    last = torch.where(same, steps, -1).amax(dim=2)  # [B, T]: latest earlier step, -1 when none
    seen = last >= 0
    before = correct.float().gather(1, last.clamp_min(0)) * seen
    repeat = seen & (last == steps - 1)
    return torch.stack([seen.float(), before, repeat.float()], dim=-1)
