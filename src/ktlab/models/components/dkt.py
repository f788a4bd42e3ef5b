"""Deep Knowledge Tracing as published (Piech et al., 2015): answers in, one probability per skill out.

At every step ``t`` the recurrent cell reads the answer ``(skill_t, correct_t)`` as one embedding (the
published one-hot input times a weight matrix) and its state ``h_t`` is mapped to a success probability
for every skill, ``y_t = sigmoid(W h_t + b)  [K]``. The prediction of step ``t`` reads the entry of its
skill from the state before that answer::

    logit_t = (W h_{t-1} + b)[skill_t]      (h_{-1} = 0)

so nothing of step ``t``'s answer reaches its own prediction. With question texts (``item_vec_dim > 0``,
:mod:`ktlab.models.components.item_text`) the answered question's text joins the answer embedding and the
asked question's text moves the output row and bias: ``logit_t = (W[skill_t] + u_t) h_{t-1} + b[skill_t]
+ c_t`` where ``[u_t ; c_t]`` is its projected text. :meth:`DKT.skill_states` returns the whole
vector ``y_t`` after each step (the knowledge state); ``predict.py ... states=true`` writes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.models.components.cell_autocast import run_cell
from ktlab.models.components.dropout import LaneDropout
from ktlab.models.components.item_text import check_text_args, item_text

CELLS: dict[str, type[nn.RNNBase]] = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


class DKT(nn.Module):
    """Answer-only DKT.

    Args:
        n_skills: skills seen in training (ids 1..n_skills; 0 is padding or a skill unseen in training).
        cell: ``"lstm"`` (as published), ``"gru"`` or ``"rnn"``.
        embed_dim: width of the answer embedding.
        hidden_dim: recurrent state width.
        num_layers: stacked recurrent layers.
        dropout: dropout on the states before the output layer (and between layers).
        item_vec_dim: width of the question-text vectors (0: the data gives none).
        text_dropout: dropout on the question-text vectors.
        text_rank: width of the layer the question-text vectors are narrowed to.
    """

    def __init__(
        self,
        n_skills: int,
        cell: str = "lstm",
        embed_dim: int = 200,
        hidden_dim: int = 200,
        num_layers: int = 1,
        dropout: float = 0.2,
        item_vec_dim: int = 0,
        text_dropout: float = 0.5,
        text_rank: int = 16,
    ) -> None:
        super().__init__()
        raise_problems(
            "DKT",
            self.check_args(
                {
                    "n_skills": n_skills,
                    "cell": cell,
                    "embed_dim": embed_dim,
                    "hidden_dim": hidden_dim,
                    "num_layers": num_layers,
                    "dropout": dropout,
                    "item_vec_dim": item_vec_dim,
                    "text_dropout": text_dropout,
                    "text_rank": text_rank,
                }
            ),
        )
        self.n_skills = n_skills
        self.answer_embedding = nn.Embedding(2 * (n_skills + 1), embed_dim, padding_idx=0)
        self.rnn = CELLS[cell](
            embed_dim,
            hidden_dim,
            num_layers=num_layers,
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.dropout = LaneDropout(dropout)
        self.out = nn.Linear(hidden_dim, n_skills + 1)  # column 0: padding/unseen skill
        self.text = item_text(item_vec_dim, hidden_dim + 1, embed_dim, text_dropout, text_rank)

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the network's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.integer("n_skills", 1)
        checks.one_of("cell", CELLS)
        for name in ("embed_dim", "hidden_dim", "num_layers"):
            checks.integer(name, 1)
        checks.in_range("dropout", 0.0, 1.0)
        check_text_args(checks)
        return checks.problems

    def states(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Recurrent states after each answer: ``[B, T, H]``; ``[:, t]`` has read steps ``0..t``."""
        skill = batch["skill"]  # [B, T]
        answer = (skill * 2 + batch["correct"].long()) * (skill > 0)  # unseen skill -> id 0, zero vector
        embedded = self.answer_embedding(answer)
        if self.text is not None:
            embedded = embedded + self.text.answer(batch)
        return run_cell(self.rnn, embedded)

    def all_logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits of every skill after each step: ``[B, T, K + 1]`` (column 0 unused)."""
        return self.out(self.dropout(self.states(batch)))

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits ``[B, T]``: position ``t`` predicts step ``t`` from steps ``< t``.

        Only the output row of the skill asked at each step is read (``W[skill_t] . h_{t-1} + b[skill_t]``),
        the same value as :meth:`all_logits` at that skill for ``K + 1`` times fewer products.
        """
        states = self.dropout(self.states(batch))  # [B, T, H]
        before = torch.cat([torch.zeros_like(states[:, :1]), states[:, :-1]], dim=1)  # h_{t-1}, h_{-1} = 0
        skill = batch["skill"]
        rows = nn.functional.embedding(skill, self.out.weight)  # [B, T, H]
        bias = self.out.bias[skill]
        if self.text is not None:
            shift = self.text.question(batch)  # [B, T, H + 1]
            rows, bias = rows + shift[..., :-1], bias + shift[..., -1]
        return (before * rows).sum(-1) + bias

    @torch.no_grad()
    def skill_states(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Success probability of every skill after each step: ``[B, T, K]`` (skill ids 1..K)."""
        return torch.sigmoid(self.all_logits(batch)[..., 1:])

    def next_step_logits(
        self,
        batch: dict[str, torch.Tensor],
        lengths: torch.Tensor,
        skills: torch.Tensor,
        queries: torch.Tensor,
        phase: torch.Tensor,
    ) -> torch.Tensor:
        """Logits ``[B, K]`` of one more step on each candidate skill after each window's last answer.

        The same values as appending each candidate to its window and reading :meth:`forward` there, with
        one pass over the history instead of one per candidate. ``queries`` and ``phase`` are unused (DKT
        reads answers only).

        Args:
            batch: windows ``[B, T]``; ``lengths`` ``[B]`` their answers (>= 1); ``skills`` ``[B, K]``.
        """
        last = self.states(batch)[torch.arange(len(lengths)), lengths - 1]  # [B, H]
        return torch.einsum("bh,bkh->bk", last, self.out.weight[skills]) + self.out.bias[skills]
