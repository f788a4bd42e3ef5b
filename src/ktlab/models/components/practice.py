"""Causal practice statistics of a window, shared by the classical baselines (PFA, AFM, IRT).

Everything here is computed inside a window from the answers before each step: the count of a learner's
earlier successes and failures on a skill, the sum of a per-row term over the rows of one answer (an
answer tagged with several skills is one row per skill, the rows after the first flagged ``copy``), and an
online estimate of the learner's ability from the residuals of their earlier answers. A window is a
consecutive cut of one learner's sequence (``data.max_len``): what happened before the window is not seen,
as for every sequence model.
"""

from __future__ import annotations

import torch


def answer_groups(batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """``[B, T]`` long: the index, within its window, of the answer each row belongs to.

    Rows flagged ``copy`` continue the answer of the row before (the same learner and step, another skill);
    without a ``copy`` key every row is an answer of its own. Padding rows are groups of their own.
    """
    copy = batch.get("copy")
    if copy is None:
        starts = torch.ones_like(batch["mask"])
    else:
        starts = ~(copy & batch["mask"])
        starts[:, 0] = True  # a window cut inside an answer starts a group at its first row
    return starts.long().cumsum(1) - 1


def answer_starts(groups: torch.Tensor) -> torch.Tensor:
    """``[B, T]`` bool: the first row of each answer (the row that is scored)."""
    starts = torch.ones_like(groups, dtype=torch.bool)
    starts[:, 1:] = groups[:, 1:] != groups[:, :-1]
    return starts


def at_answer_start(values: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """Each row's value replaced by that of its answer's first row, ``[B, T]``."""
    position = torch.arange(groups.shape[1], device=groups.device).expand_as(groups)
    first = torch.where(answer_starts(groups), position, 0).cummax(1).values
    return values.gather(1, first)


def answer_sum(values: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """Each row's value summed over the rows of its answer, ``[B, T]`` (every row of an answer gets the sum).

    The rows of an answer share the step: its skills are all known before its outcome, so the first row,
    the one that is scored, may read the others' skills (never their outcome, which is its own).
    """
    sums = torch.zeros_like(values).scatter_add(1, groups, values)
    return sums.gather(1, groups)


def prior_counts(key: torch.Tensor, values: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """For each row, the sum of ``values`` over the earlier answers of the window with the same ``key``.

    ``values`` may have a trailing dimension (``[B, T]`` or ``[B, T, C]``, e.g. successes and failures
    side by side); padding rows should carry zeros. Rows of the same answer are excluded from each other's
    sums whatever their keys, so no row reads the outcome of its own answer.

    Written as a stable sort by key followed by a segmented exclusive cumulative sum: ``O(T log T)`` per
    window and no ``[B, T, K]`` one-hot, so it costs the same for 100 skills or 17,000 problems. (torch has
    no grouped cumulative sum; ``torch_scatter`` has none either.)

    Args:
        key: ``[B, T]`` long ids (skill or problem; padding rows may hold any id, their values are 0).
        values: ``[B, T]`` or ``[B, T, C]`` float.
        groups: ``[B, T]`` from :func:`answer_groups`.
    """
    squeeze = values.dim() == 2
    if squeeze:
        values = values.unsqueeze(-1)
    b, t, c = values.shape
    # Sorting by (key, answer, position) keeps each key's rows in time order and an answer's rows together.
    order = torch.argsort(key * t + groups, dim=1, stable=True)  # [B, T]
    sorted_key = key.gather(1, order)
    sorted_group = groups.gather(1, order)
    sorted_values = values.gather(1, order[..., None].expand(b, t, c))
    before = sorted_values.cumsum(1) - sorted_values  # exclusive running sum over the sorted rows
    position = torch.arange(t, device=key.device).expand(b, t)
    new_key = torch.ones_like(sorted_key, dtype=torch.bool)
    new_key[:, 1:] = sorted_key[:, 1:] != sorted_key[:, :-1]
    new_answer = new_key.clone()
    new_answer[:, 1:] |= sorted_group[:, 1:] != sorted_group[:, :-1]
    # where the row's key run starts, and where its answer starts inside that run
    key_start = torch.where(new_key, position, 0).cummax(1).values
    answer_start = torch.where(new_answer, position, 0).cummax(1).values
    gather = lambda index: before.gather(1, index[..., None].expand(b, t, c))  # noqa: E731
    counts_sorted = gather(answer_start) - gather(key_start)  # [B, T, C]
    counts = torch.empty_like(counts_sorted).scatter_(1, order[..., None].expand(b, t, c), counts_sorted)
    return counts.squeeze(-1) if squeeze else counts


def online_ability(
    logits: torch.Tensor,
    correct: torch.Tensor,
    answered: torch.Tensor,
    prior_precision: torch.Tensor,
    discrimination: torch.Tensor | None = None,
    groups: torch.Tensor | None = None,
) -> torch.Tensor:
    """A learner's ability before each step, estimated from their earlier answers in the window: ``[B, T]``.

    The maximum a posteriori ability under a normal prior ``N(0, 1 / prior_precision)``, approximated by
    one Newton step from ability 0 (the Laplace approximation's mean)::

        theta_t = sum_{j<t} a_j (y_j - p_j) / (prior_precision + sum_{j<t} a_j^2 p_j (1 - p_j))

    where ``p_j = sigmoid(logits_j)`` is the model's prediction of answer ``j`` at ability 0 and ``a_j`` its
    discrimination (1 for a Rasch model). It is causal (sums over ``j < t``), vectorized (two cumulative
    sums), and differentiable, so the item parameters and the prior are fitted through it. A new learner
    starts at 0 and moves with every answer, so the model needs no parameter per learner and scores
    learners it never saw.

    Args:
        logits: ``[B, T]`` the item part of each answer's logit (at ability 0).
        correct: ``[B, T]`` answers.
        answered: ``[B, T]`` bool, the rows that count as answers (real rows, one per answer).
        prior_precision: scalar tensor, ``> 0``.
        discrimination: ``[B, T]`` or None (all 1).
        groups: ``[B, T]`` from :func:`answer_groups`, or None when every row is an answer of its own.
    """
    p = torch.sigmoid(logits)
    a = torch.ones_like(p) if discrimination is None else discrimination
    weight = answered.to(p.dtype)
    score = weight * a * (correct - p)
    information = weight * a * a * p * (1 - p)
    score_before = score.cumsum(1) - score
    information_before = information.cumsum(1) - information
    # the floor keeps 0 / 0 out of the first step should the learned precision underflow
    theta = score_before / (prior_precision.clamp_min(1e-6) + information_before)
    # every row of an answer takes its first row's estimate: the later rows must not read their own answer
    return theta if groups is None else at_answer_start(theta, groups)
