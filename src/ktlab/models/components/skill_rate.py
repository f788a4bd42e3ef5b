"""The running success rate per skill, Laplace-smoothed: a classical baseline with nothing to learn.

The prediction of step ``t`` on skill ``k`` reads the learner's earlier answers on ``k`` in the window::

    p_t = (1 + right answers on k at steps < t) / (2 + answers on k at steps < t)

so a skill never seen before is predicted 1/2. It reads the rows as given: on multi-concept data, the
second concept row of a question sees the first row's answer, as any model reading one concept per step
does. It is the predictor of pyKT's protocol conformance test (:mod:`ktlab.evaluation.pykt`).

Its logits are float64, so a float32 probability taken from them (``sigmoid`` in float64, then rounded)
is exactly the float32 nearest to ``p_t``. The network holds one parameter, zero, added to the logits
times zero: Lightning and the optimizers need a parameter with a gradient; training leaves it (and the
predictions) unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ktlab.checks import Problem


class SkillRate(nn.Module):
    """Laplace running success rate per skill (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(()))

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """No arguments, so no problems (see :mod:`ktlab.checks`)."""
        return []

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits ``[B, T]`` (float64): position ``t`` predicts step ``t`` from steps ``< t``."""
        skill, mask = batch["skill"], batch["mask"]  # [B, T]
        correct = batch["correct"].double() * mask
        steps = skill.shape[1]
        earlier = torch.ones(steps, steps, dtype=torch.bool, device=skill.device).tril(-1)  # [t, s]: s < t
        same = (skill[:, :, None] == skill[:, None, :]) & earlier & mask[:, None, :]  # [B, T, T]
        seen = same.double().sum(-1)
        right = (same.double() * correct[:, None, :]).sum(-1)
        p = (1.0 + right) / (2.0 + seen)
        return torch.log(p) - torch.log1p(-p) + self.unused.double() * 0.0
