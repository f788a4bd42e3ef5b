"""The Additive Factor Model (Cen, Koedinger and Junker, 2006) as a sequence network.

The logit of an answer is the learner's ability plus, over the skills the answer is tagged with, the
skill's easiness and a learning rate times the learner's earlier practice opportunities on that skill::

    logit_t = bias + theta_t + sum_{k in skills(t)} ( beta_k + gamma_k * n_{k,t} )

``n_{k,t}`` counts the answers before step ``t`` in the window on skill ``k``, right or wrong. Learning rates
are kept non-negative (``gamma = softplus(.)``, so practice never lowers the odds of success) unless
``nonnegative_learning=false``.

The published model has one ability parameter per learner, which a learner absent from training (every
test learner of a split by learner) does not have. Here ``theta_t`` is instead estimated online from the
learner's own earlier answers in the window (:func:`ktlab.models.components.practice.online_ability`: one
Newton step of the MAP ability under a normal prior whose precision is learned), or left out with
``ability=false``. Either way step ``t``'s own answer never reaches its prediction.

AFM is a logistic regression; here it is fitted by mini-batch gradient descent on the log-likelihood of
the next answer in the usual training loop, through the same entry points as the deep models. Skill id 0
(padding, or a skill unseen in training) contributes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.models.components.practice import (
    answer_groups,
    answer_starts,
    answer_sum,
    online_ability,
    prior_counts,
)


def inverse_softplus(value: float) -> float:
    """The raw parameter whose softplus is ``value`` (> 0)."""
    return value + math.log(-math.expm1(-value))


class AFM(nn.Module):
    """Additive Factor Model with an online learner ability.

    Args:
        n_skills: skills seen in training (ids 1..n_skills; 0 is padding or unseen), given by the data.
        ability: estimate the learner's ability online from their earlier answers (True) or leave it out.
        ability_prior: initial precision of the normal prior on the ability (learned).
        nonnegative_learning: keep every learning rate ``>= 0``.
        init_std: standard deviation of the normal initialization of easiness and raw learning rates.
    """

    def __init__(
        self,
        n_skills: int,
        ability: bool = True,
        ability_prior: float = 1.0,
        nonnegative_learning: bool = True,
        init_std: float = 0.01,
    ) -> None:
        super().__init__()
        raise_problems(
            "AFM",
            self.check_args(
                {
                    "n_skills": n_skills,
                    "ability": ability,
                    "ability_prior": ability_prior,
                    "nonnegative_learning": nonnegative_learning,
                    "init_std": init_std,
                }
            ),
        )
        self.ability = ability
        self.nonnegative_learning = nonnegative_learning
        self.easiness = nn.Embedding(n_skills + 1, 1, padding_idx=0)
        self.learning = nn.Embedding(n_skills + 1, 1, padding_idx=0)
        nn.init.normal_(self.easiness.weight, std=init_std)
        # raw learning rates start near softplus^-1(0.1) when constrained, near 0 otherwise
        start = inverse_softplus(0.1) if nonnegative_learning else 0.0
        nn.init.normal_(self.learning.weight, mean=start, std=init_std)
        with torch.no_grad():  # id 0 (padding, or unseen in training) contributes nothing
            self.easiness.weight[0] = 0.0
            self.learning.weight[0] = 0.0
        self.bias = nn.Parameter(torch.zeros(()))
        self.raw_prior = nn.Parameter(torch.tensor(inverse_softplus(ability_prior)))

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the network's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.integer("n_skills", 1)
        checks.one_of("ability", (True, False))
        checks.require("ability_prior", lambda v: not isinstance(v, bool) and v > 0, "must be > 0")
        checks.one_of("nonnegative_learning", (True, False))
        checks.at_least("init_std", 0.0)
        return checks.problems

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits ``[B, T]``: position ``t`` predicts step ``t`` from steps ``< t``."""
        skill, correct = batch["skill"], batch["correct"]
        known = skill > 0
        groups = answer_groups(batch)
        real = (batch["mask"] & known).to(correct.dtype)
        opportunities = prior_counts(skill, real, groups)  # [B, T]
        gamma = self.learning(skill).squeeze(-1)
        if self.nonnegative_learning:
            gamma = F.softplus(gamma)
        per_row = (self.easiness(skill).squeeze(-1) + gamma * opportunities) * known
        logits = self.bias + answer_sum(per_row, groups)  # [B, T]
        if not self.ability:
            return logits
        first = batch["mask"] & answer_starts(groups)  # each answer once
        theta = online_ability(logits, correct, first, F.softplus(self.raw_prior), groups=groups)
        return logits + theta
