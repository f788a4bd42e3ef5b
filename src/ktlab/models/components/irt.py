"""Item response theory (Rasch 1PL, Birnbaum 2PL) as a sequence network.

The items are the questions (``batch["problem"]``) where the data has problem ids (``n_problems > 0``,
e.g. ``data=assist2009_pid``), else the skills. An item's difficulty is its skills' difficulties plus,
with question ids, the question's own offset from them (L2-penalized, so a rarely seen question stays
near its skills and a question unseen in training, id 0, takes its skills' difficulty; discriminations are
penalized toward 1 the same way)::

    b_t = sum_{k in skills(t)} b_k + b_{q_t}
    logit_t = bias + a_t * (theta_t - b_t)          a_t = exp(log_a[item_t]) (2PL), 1 (1PL)

IRT is static: a learner has one ability. A learner absent from training (every test learner of a split
by learner) has no fitted ability, so ``theta_t`` is estimated online from the learner's own earlier
answers in the window (:func:`ktlab.models.components.practice.online_ability`): one Newton step of the MAP
ability under a normal prior whose precision is learned, i.e. the learner's summed residuals
``a_j (y_j - p_j)`` over the information ``a_j^2 p_j (1 - p_j)`` of the items they answered. It reads only
steps ``< t``, so step ``t``'s own answer never reaches its prediction. The estimate does not model
learning: it weighs an early answer as much as a recent one.

Item parameters and the prior are fitted together by mini-batch gradient descent on the log-likelihood of
the next answer in the usual training loop (the L2 term is returned as the auxiliary loss).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.models.components.afm import inverse_softplus
from ktlab.models.components.practice import answer_groups, answer_starts, answer_sum, online_ability
from ktlab.models.output import NetOutput

VARIANTS = ("1pl", "2pl")


class IRT(nn.Module):
    """1PL or 2PL IRT with an online learner ability.

    Args:
        n_skills: skills seen in training (ids 1..n_skills; 0 is padding or unseen), given by the data.
        n_problems: questions seen in training (0: the data has no problem ids; the skills are the items).
        variant: ``"1pl"`` (Rasch: difficulty only) or ``"2pl"`` (difficulty and discrimination).
        ability_prior: initial precision of the normal prior on the ability (learned).
        item_l2: weight of the L2 penalty on the questions' offsets from their skills' difficulty and on the
            log discriminations (a normal prior on each; the training loss is a mean per answer, so over an
            epoch this is a prior precision of about ``2 * item_l2 * answers``).
        init_std: standard deviation of the normal initialization of every item parameter.
    """

    def __init__(
        self,
        n_skills: int,
        n_problems: int = 0,
        variant: str = "1pl",
        ability_prior: float = 1.0,
        item_l2: float = 1.0e-6,
        init_std: float = 0.01,
    ) -> None:
        super().__init__()
        raise_problems(
            "IRT",
            self.check_args(
                {
                    "n_skills": n_skills,
                    "n_problems": n_problems,
                    "variant": variant,
                    "ability_prior": ability_prior,
                    "item_l2": item_l2,
                    "init_std": init_std,
                }
            ),
        )
        self.uses_problems = n_problems > 0
        self.variant = variant
        self.item_l2 = item_l2
        self.skill_difficulty = nn.Embedding(n_skills + 1, 1, padding_idx=0)
        nn.init.normal_(self.skill_difficulty.weight, std=init_std)
        n_items = n_problems if self.uses_problems else n_skills
        if self.uses_problems:
            self.problem_difficulty = nn.Embedding(n_problems + 1, 1, padding_idx=0)
            nn.init.normal_(self.problem_difficulty.weight, std=init_std)  # near its skills
        if variant == "2pl":
            self.log_discrimination = nn.Embedding(n_items + 1, 1, padding_idx=0)
            nn.init.normal_(self.log_discrimination.weight, std=init_std)  # discrimination near 1
        with torch.no_grad():  # id 0 (padding, or unseen in training) keeps 0: its skills, discrimination 1
            for table in self.modules():
                if isinstance(table, nn.Embedding):
                    table.weight[0] = 0.0
        self.bias = nn.Parameter(torch.zeros(()))
        self.raw_prior = nn.Parameter(torch.tensor(inverse_softplus(ability_prior)))

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the network's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.integer("n_skills", 1)
        checks.integer("n_problems", 0)
        checks.one_of("variant", VARIANTS)
        checks.require("ability_prior", lambda v: not isinstance(v, bool) and v > 0, "must be > 0")
        checks.at_least("item_l2", 0.0)
        checks.at_least("init_std", 0.0)
        return checks.problems

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor | NetOutput:
        """Logits ``[B, T]`` (with the L2 term while training): position ``t`` predicts step ``t`` from steps ``< t``."""
        skill, correct = batch["skill"], batch["correct"]
        groups = answer_groups(batch)
        difficulty = answer_sum(self.skill_difficulty(skill).squeeze(-1), groups)  # [B, T]
        item = skill
        if self.uses_problems:
            item = batch["problem"]
            difficulty = difficulty + self.problem_difficulty(item).squeeze(-1)
        # the discrimination of the scored (first) row's item: its question, or its first skill
        discrimination = (
            torch.exp(self.log_discrimination(item).squeeze(-1)) if self.variant == "2pl" else None
        )
        a = 1.0 if discrimination is None else discrimination
        at_zero = self.bias - a * difficulty  # the logit at ability 0
        first = batch["mask"] & answer_starts(groups)  # each answer once
        theta = online_ability(at_zero, correct, first, F.softplus(self.raw_prior), discrimination, groups)
        logits = at_zero + a * theta
        if self.training and self.item_l2 > 0 and (self.uses_problems or self.variant == "2pl"):
            return NetOutput(logits, self.item_l2 * self.penalty())
        return logits

    def penalty(self) -> torch.Tensor:
        """The sum of squares of the questions' offsets and of the log discriminations (0 when absent)."""
        total = torch.zeros((), device=self.bias.device)
        if self.uses_problems:
            total = total + self.problem_difficulty.weight.pow(2).sum()
        if self.variant == "2pl":
            total = total + self.log_discrimination.weight.pow(2).sum()
        return total
