"""Performance Factors Analysis (Pavlik, Cen and Koedinger, 2009) as a sequence network.

The logit of an answer sums, over the skills it is tagged with, the skill's easiness plus a weight on the
learner's earlier successes and one on their earlier failures on that skill::

    logit_t = bias + sum_{k in skills(t)} ( beta_k + gamma_k * s_{k,t} + rho_k * f_{k,t} )

``s_{k,t}`` and ``f_{k,t}`` count the answers before step ``t`` in the window on skill ``k``, right and wrong
(:func:`ktlab.models.components.practice.prior_counts`), so step ``t``'s own answer never reaches its
prediction. An answer tagged with several skills arrives as consecutive rows (the later ones flagged
``copy``); its logit is the sum over those rows, as in the paper's Q-matrix form. ``counts="log1p"``
uses ``log(1 + count)`` instead of the raw counts, a common variant that saturates with practice.

PFA is a logistic regression; here it is fitted by mini-batch gradient descent on the log-likelihood of
the next answer in the usual training loop (the same optimum a solver such as scikit-learn's would reach,
up to the stopping rule), so it goes through the same entry points, checkpoints and evaluator as the deep
models. Skill id 0 (padding, or a skill unseen in training) contributes nothing: its answers are
predicted by ``bias`` alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.models.components.practice import answer_groups, answer_sum, prior_counts

COUNTS = ("raw", "log1p")


class PFA(nn.Module):
    """Performance Factors Analysis.

    Args:
        n_skills: skills seen in training (ids 1..n_skills; 0 is padding or unseen), given by the data.
        counts: ``"raw"`` (as published) or ``"log1p"`` practice counts.
        init_std: standard deviation of the normal initialization of every parameter.
    """

    def __init__(self, n_skills: int, counts: str = "raw", init_std: float = 0.01) -> None:
        super().__init__()
        raise_problems("PFA", self.check_args({"n_skills": n_skills, "counts": counts, "init_std": init_std}))
        self.counts = counts
        # columns: easiness beta, success weight gamma, failure weight rho; row 0 unused (kept at 0)
        self.weights = nn.Embedding(n_skills + 1, 3, padding_idx=0)
        nn.init.normal_(self.weights.weight, std=init_std)
        with torch.no_grad():
            self.weights.weight[0] = 0.0
        self.bias = nn.Parameter(torch.zeros(()))

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the network's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.integer("n_skills", 1)
        checks.one_of("counts", COUNTS)
        checks.at_least("init_std", 0.0)
        return checks.problems

    def practice(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Earlier successes and failures on each row's skill in the window: ``[B, T, 2]``, and the groups."""
        skill, correct = batch["skill"], batch["correct"]
        real = (batch["mask"] & (skill > 0)).to(correct.dtype)
        outcomes = torch.stack([correct * real, (1 - correct) * real], dim=-1)  # [B, T, 2]
        groups = answer_groups(batch)
        counts = prior_counts(skill, outcomes, groups)
        return (torch.log1p(counts) if self.counts == "log1p" else counts), groups

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits ``[B, T]``: position ``t`` predicts step ``t`` from steps ``< t``."""
        counts, groups = self.practice(batch)  # [B, T, 2]
        w = self.weights(batch["skill"])  # [B, T, 3]; zeros for skill 0
        per_row = w[..., 0] + w[..., 1] * counts[..., 0] + w[..., 2] * counts[..., 1]
        return self.bias + answer_sum(per_row, groups)
