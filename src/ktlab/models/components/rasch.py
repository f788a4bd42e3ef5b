"""Rasch model-based problem embeddings (Ghosh, Heffernan and Lan, 2020), shared by AKT and the recurrent tracer.

A problem of skill ``k`` is its skill's embedding moved along one learned direction of that skill by the
problem's scalar difficulty ``mu``::

    question  = c[k]          + mu[problem] * d[k]
    answered  = e[k, correct] + mu[problem] * f[k, correct]

``mu`` has one value per problem (id 0, padding or a problem unseen in training, keeps ``mu = 0``) and is
L2-penalised (:meth:`RaschShift.penalty`), so thousands of rarely seen problems cost one number each
rather than a vector each.
"""

from __future__ import annotations

import torch
from torch import nn


class RaschShift(nn.Module):
    """The problem-dependent shifts ``mu * d[k]`` and ``mu * f[k, correct]`` added to skill embeddings.

    Args:
        n_problems: problems seen in training (ids 1..n_problems; 0 is padding or unseen).
        n_skills: skills seen in training (ids 1..n_skills).
        dim: width of the embeddings the shifts are added to.
    """

    def __init__(self, n_problems: int, n_skills: int, dim: int) -> None:
        super().__init__()
        self.difficulty = nn.Embedding(n_problems + 1, 1, padding_idx=0)  # mu
        nn.init.zeros_(self.difficulty.weight)  # every problem starts at its skill's embedding
        self.skill_variation = nn.Embedding(n_skills + 1, dim, padding_idx=0)  # d
        self.answer_variation = nn.Embedding(2 * (n_skills + 1), dim, padding_idx=0)  # f

    def forward(
        self, problem: torch.Tensor, skill: torch.Tensor, answer: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Shifts of the question and of the answered step, each ``[B, T, dim]``.

        Args:
            problem: problem ids ``[B, T]``.
            skill: skill ids ``[B, T]``.
            answer: ``2 * skill + correct`` ids ``[B, T]`` (0 where the skill is padding or unseen).
        """
        mu = self.difficulty(problem)  # [B, T, 1]
        return mu * self.skill_variation(skill), mu * self.answer_variation(answer)

    def penalty(self) -> torch.Tensor:
        """``sum(mu ** 2)`` over every problem (the padding row stays 0)."""
        return self.difficulty.weight.pow(2).sum()
