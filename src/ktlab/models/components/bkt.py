"""Bayesian Knowledge Tracing (Corbett and Anderson, 1995) as a sequence network.

Each skill ``k`` has four parameters: the probability that a learner knows it before practice
(``prior``), of learning it at an opportunity (``learn``), of answering right without knowing it
(``guess``) and of answering wrong while knowing it (``slip``); no forgetting. The forward (filtering)
algorithm carries ``P(known)`` for every skill of every window; at step ``t`` on skill ``k``::

    p_t       = P(known) (1 - slip_k) + (1 - P(known)) guess_k          (the prediction of step t)
    P(known | y_t) by Bayes' rule from the answer y_t
    P(known) <- P(known | y_t) + (1 - P(known | y_t)) learn_k            (for step t + 1 onwards)

so the prediction of step ``t`` reads the answers before it only. The filter runs sequentially over time
and in parallel over the windows of a batch and all skills (one ``[B, K + 1]`` state).
:meth:`BKT.skill_states` returns every skill's success probability after each step (the knowledge state
``predict.py ... states=true`` writes).

Parameters are unconstrained reals mapped through sigmoids; ``guess`` and ``slip`` are scaled into
``(0, guess_slip_max)`` (0.5 by default) so that knowing a skill always makes a right answer more likely
than not knowing it (without the bound the likelihood also has a mirror optimum with the roles of knowing
and not knowing swapped). They are fitted by mini-batch gradient descent on the log-likelihood of the next
answer, through the filter, in the usual training loop, not by expectation-maximization: the same
likelihood that EM (e.g. pyBKT) climbs, so the optima agree up to the optimizer's stopping point, and the
model goes through the same entry points, checkpoints and evaluator as the deep models.

Every window starts from the prior: what a learner did before the window (``data.max_len``) is not seen.
An answer tagged with several skills (consecutive rows, the later ones flagged ``copy``) updates each of
its skills; it is predicted from its first skill's row. Skill id 0 (padding, or a skill unseen in
training) is predicted from its own, untrained initial parameters and updates nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import torch
from torch import nn

from ktlab.checks import Checks, Problem, raise_problems

#: Probabilities are kept this far from 0 and 1 before taking logits.
EPS = 1e-6


def logit(p: float) -> float:
    return math.log(p / (1 - p))


class Filtered(NamedTuple):
    """What the forward algorithm computes over a batch of windows."""

    p_correct: torch.Tensor  # [B, T] the probability of a right answer at each step, before it
    known_before: torch.Tensor  # [B, T] P(known) of the step's skill before its answer
    known_after: torch.Tensor | None  # [B, T, K + 1] P(known) of every skill after each step (if kept)


def bkt_filter(
    prior: torch.Tensor,
    learn: torch.Tensor,
    guess: torch.Tensor,
    slip: torch.Tensor,
    skill: torch.Tensor,
    correct: torch.Tensor,
    update: torch.Tensor,
    keep_states: bool = False,
) -> Filtered:
    """Run the BKT forward algorithm over windows.

    Args:
        prior, learn, guess, slip: ``[K + 1]`` probabilities per skill id.
        skill: ``[B, T]`` skill ids; ``correct`` ``[B, T]`` answers (0/1).
        update: ``[B, T]`` bool, the rows whose answer updates their skill's state (real rows of a known
            skill).
        keep_states: also return every skill's ``P(known)`` after each step (``[B, T, K + 1]`` memory).
    """
    b, t = skill.shape
    state = prior.expand(b, -1)  # [B, K + 1] P(known) of every skill before the current step
    g, s, lr = guess[skill], slip[skill], learn[skill]  # [B, T] each
    # Bayes' rule as a / (a + b + tiny): the posterior stays in [0, 1] and no denominator is 0 even when a
    # parameter's sigmoid saturates to exactly 0 or 1 (a clamped p in the denominator let it leave [0, 1]).
    tiny = torch.finfo(prior.dtype).eps
    p_out, known_out, states = [], [], []
    for step in range(t):
        k = skill[:, step : step + 1]  # [B, 1]
        known = state.gather(1, k).squeeze(1)  # [B]
        right_known, right_unknown = known * (1 - s[:, step]), (1 - known) * g[:, step]
        wrong_known, wrong_unknown = known * s[:, step], (1 - known) * (1 - g[:, step])
        p = right_known + right_unknown
        y = correct[:, step]
        posterior = torch.where(
            y > 0.5,
            right_known / (p + tiny),
            wrong_known / (wrong_known + wrong_unknown + tiny),
        )
        after = posterior + (1 - posterior) * lr[:, step]
        after = torch.where(update[:, step], after, known)
        state = state.scatter(1, k, after.unsqueeze(1))
        p_out.append(p.clamp(EPS, 1 - EPS))
        known_out.append(known)
        if keep_states:
            states.append(state)
    return Filtered(
        torch.stack(p_out, 1), torch.stack(known_out, 1), torch.stack(states, 1) if keep_states else None
    )


class BKT(nn.Module):
    """Standard four-parameter BKT, one set of parameters per skill.

    Args:
        n_skills: skills seen in training (ids 1..n_skills; 0 is padding or unseen), given by the data.
        guess_slip_max: upper bound of ``guess`` and ``slip`` (in ``(0, 1]``; 1 leaves them free).
        init_prior, init_learn, init_guess, init_slip: the starting value of each parameter for every
            skill (``init_guess`` and ``init_slip`` below ``guess_slip_max``).
    """

    def __init__(
        self,
        n_skills: int,
        guess_slip_max: float = 0.5,
        init_prior: float = 0.5,
        init_learn: float = 0.1,
        init_guess: float = 0.2,
        init_slip: float = 0.1,
    ) -> None:
        super().__init__()
        args = {
            "n_skills": n_skills,
            "guess_slip_max": guess_slip_max,
            "init_prior": init_prior,
            "init_learn": init_learn,
            "init_guess": init_guess,
            "init_slip": init_slip,
        }
        raise_problems("BKT", self.check_args(args))
        self.guess_slip_max = guess_slip_max
        start = torch.tensor(
            [
                logit(init_prior),
                logit(init_learn),
                logit(init_guess / guess_slip_max),
                logit(init_slip / guess_slip_max),
            ]
        )
        # columns: prior, learn, guess, slip (before their sigmoids); one row per skill id
        self.raw = nn.Parameter(start.repeat(n_skills + 1, 1))

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the network's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.integer("n_skills", 1)
        open_unit = "must be in (0, 1)"
        checks.require(
            "guess_slip_max", lambda v: not isinstance(v, bool) and 0 < v <= 1, "must be in (0, 1]"
        )
        for name in ("init_prior", "init_learn"):
            checks.require(name, lambda v: not isinstance(v, bool) and 0 < v < 1, open_unit)
        bound = args.get("guess_slip_max", 1.0)
        for name in ("init_guess", "init_slip"):
            checks.require(
                name,
                lambda v: not isinstance(v, bool) and 0 < v < bound,
                f"must be in (0, guess_slip_max={bound})",
            )
        return checks.problems

    def probabilities(self) -> dict[str, torch.Tensor]:
        """The parameters as probabilities, each ``[K + 1]`` (index 0: padding or unseen skill)."""
        p = torch.sigmoid(self.raw)
        return {
            "prior": p[:, 0],
            "learn": p[:, 1],
            "guess": p[:, 2] * self.guess_slip_max,
            "slip": p[:, 3] * self.guess_slip_max,
        }

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits ``[B, T]``: position ``t`` predicts step ``t`` from steps ``< t``."""
        skill = batch["skill"]
        update = batch["mask"] & (skill > 0)
        p = bkt_filter(**self.probabilities(), skill=skill, correct=batch["correct"], update=update).p_correct
        return torch.log(p) - torch.log1p(-p)

    @torch.no_grad()
    def skill_states(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Success probability of every skill after each step: ``[B, T, K]`` (skill ids 1..K).

        ``[:, t, k - 1]`` is what :meth:`forward` would predict for a step on skill ``k`` right after step
        ``t``: ``P(known) (1 - slip) + (1 - P(known)) guess`` from the filtered state.
        """
        params = self.probabilities()
        skill = batch["skill"]
        update = batch["mask"] & (skill > 0)
        known = bkt_filter(**params, skill=skill, correct=batch["correct"], update=update, keep_states=True)
        after = known.known_after[..., 1:]  # [B, T, K]
        slip, guess = params["slip"][1:], params["guess"][1:]
        return (after * (1 - slip) + (1 - after) * guess).clamp(EPS, 1 - EPS)
