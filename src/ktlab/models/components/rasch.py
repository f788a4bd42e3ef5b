"""Rasch model-based problem embeddings (Ghosh, Heffernan and Lan, 2020), shared by AKT and the recurrent tracer.

A problem of skill ``k`` is its skill's embedding moved along one learned direction of that skill by the
problem's scalar difficulty ``mu``::

    question  = c[k]          + mu[problem] * d[k]
    answered  = e[k, correct] + mu[problem] * f[k, correct]

``mu`` has one value per problem (id 0, padding or a problem unseen in training, keeps ``mu = 0``) and is
L2-penalised, so thousands of rarely seen problems cost one number each rather than a vector each. Two
penalties: :meth:`RaschShift.penalty`, ``sum(mu ** 2)`` over every problem at every step, and
:meth:`RaschShift.occurrence_penalty`, ``sum(mu ** 2)`` over the problems of the batch's steps, one term per
step, which is the AKT authors' released implementation (a problem is pulled towards 0 only when it is
practised, as often as it is practised).

The answered-step table ``f`` is indexed by whatever answer ids the caller passes: ``2 * skill + correct``
by default, or the answer alone (``answer_rows=2``, the released AKT's shared ``h[correct]``).
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
        answer_rows: rows of the answered-step table ``f``; None: ``2 * (n_skills + 1)``, one per skill and
            answer (row 0 is padding); 2: one per answer (``f[correct]``, no padding row).
    """

    def __init__(self, n_problems: int, n_skills: int, dim: int, answer_rows: int | None = None) -> None:
        super().__init__()
        self.difficulty = nn.Embedding(n_problems + 1, 1, padding_idx=0)  # mu
        nn.init.zeros_(self.difficulty.weight)  # every problem starts at its skill's embedding
        self.skill_variation = nn.Embedding(n_skills + 1, dim, padding_idx=0)  # d
        if answer_rows is None:
            self.answer_variation = nn.Embedding(2 * (n_skills + 1), dim, padding_idx=0)  # f
        else:
            self.answer_variation = nn.Embedding(answer_rows, dim)

    def forward(
        self,
        problem: torch.Tensor,
        skill: torch.Tensor,
        answer: torch.Tensor,
        offset: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Shifts of the question and of the answered step, each ``[B, T, dim]``.

        Args:
            problem: problem ids ``[B, T]``.
            skill: skill ids ``[B, T]``.
            answer: ids into ``f`` ``[B, T]``: ``2 * skill + correct`` (0 where the skill is padding or
                unseen), or ``correct`` when built with ``answer_rows=2``.
            offset: ``[B, T]`` added to each step's ``mu`` (a difficulty known apart from the id, e.g.
                read from the question's text; it is not penalised here).
        """
        mu = self.difficulty(problem)  # [B, T, 1]
        if offset is not None:
            mu = mu + offset.unsqueeze(-1)
        return mu * self.skill_variation(skill), mu * self.answer_variation(answer)

    def penalty(self) -> torch.Tensor:
        """``sum(mu ** 2)`` over every problem (the padding row stays 0)."""
        return self.difficulty.weight.pow(2).sum()

    def occurrence_penalty(self, problem: torch.Tensor) -> torch.Tensor:
        """``sum(mu ** 2)`` over the steps of ``problem`` ``[B, T]``: a problem counts once per step it is on.

        Padding and unseen problems (id 0) add 0.
        """
        return self.difficulty(problem).pow(2).sum()
