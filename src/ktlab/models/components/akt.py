"""AKT (Ghosh, Heffernan and Lan, 2020): context-aware attentive knowledge tracing.

Embeddings (Rasch model-based, when problem ids are given, ``n_problems > 0``)::

    x_t = c[skill_t] + mu[problem_t] * d[skill_t]                      question of step t
    y_t = e[skill_t, correct_t] + mu[problem_t] * f[skill_t, correct_t]  answered step t

``mu`` is one scalar difficulty per problem (id 0, an unseen problem, has ``mu = 0``;
:mod:`ktlab.models.components.rasch`) and is L2-penalised (``rasch_l2``, returned as the training
``aux_loss``); without problem ids ``mu = 0``.
A question encoder (monotonic self-attention over ``x``, each step reading steps ``<= t``), a knowledge
encoder (over ``y``, steps ``<= t``) and a knowledge retriever (query and key the encoded questions, value
the encoded answers, steps ``< t`` only) give ``h_t``; ``logit_t = MLP([h_t ; x_t])``. The answer of
step ``t`` enters only the knowledge encoder at position ``t``, which the retriever never reads for
step ``t``: it cannot reach its own prediction (see :mod:`ktlab.models.components.monotonic`).
With question texts (``item_vec_dim > 0``, :mod:`ktlab.models.components.item_text`) the question's
projected text is added to ``x_t`` and, projected by the answer, to ``y_t``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.models.components.dropout import LaneDropout
from ktlab.models.components.item_text import item_text
from ktlab.models.components.monotonic import MonotonicBlock
from ktlab.models.components.rasch import RaschShift
from ktlab.models.output import NetOutput


class AKT(nn.Module):
    """Attentive knowledge tracing with monotonic attention and Rasch problem embeddings.

    Args:
        n_skills: skills seen in training (ids 1..n_skills; 0 is padding or unseen).
        n_problems: problems seen in training (0: no problem ids, the AKT-NR variant).
        dim: embedding and attention width.
        n_heads: attention heads (must divide ``dim``).
        n_blocks: blocks of each encoder (the retriever has ``n_blocks`` too).
        ff_dim: hidden width of the feed-forward layers.
        head_dim: hidden width of the output MLP.
        dropout: dropout in attention, feed-forward layers and the output MLP.
        rasch_l2: weight of the L2 penalty on the problem difficulties ``mu``.
        attention_dropout: dropout on the attention weights (the published model uses ``dropout`` there).
        query_block: query steps the monotonic attention scores together (the result does not depend on
            it; see :mod:`ktlab.models.components.monotonic`).
        item_vec_dim: width of the question-text vectors (0: the data gives none).
        text_dropout: dropout on the question-text vectors.
        text_rank: width of the layer the question-text vectors are narrowed to.
    """

    def __init__(
        self,
        n_skills: int,
        n_problems: int = 0,
        dim: int = 128,
        n_heads: int = 8,
        n_blocks: int = 1,
        ff_dim: int = 256,
        head_dim: int = 256,
        dropout: float = 0.05,
        rasch_l2: float = 1e-5,
        attention_dropout: float = 0.05,
        query_block: int = 50,
        item_vec_dim: int = 0,
        text_dropout: float = 0.5,
        text_rank: int = 16,
    ) -> None:
        super().__init__()
        raise_problems(
            "AKT",
            self.check_args(
                {
                    "n_skills": n_skills,
                    "n_problems": n_problems,
                    "dim": dim,
                    "n_heads": n_heads,
                    "n_blocks": n_blocks,
                    "ff_dim": ff_dim,
                    "head_dim": head_dim,
                    "dropout": dropout,
                    "rasch_l2": rasch_l2,
                    "attention_dropout": attention_dropout,
                    "query_block": query_block,
                    "item_vec_dim": item_vec_dim,
                    "text_dropout": text_dropout,
                    "text_rank": text_rank,
                }
            ),
        )
        self.rasch_l2 = rasch_l2
        self.skill = nn.Embedding(n_skills + 1, dim, padding_idx=0)  # c
        self.answer = nn.Embedding(2 * (n_skills + 1), dim, padding_idx=0)  # e
        self.rasch = RaschShift(n_problems, n_skills, dim) if n_problems > 0 else None  # mu, d, f
        self.text = item_text(item_vec_dim, dim, dim, text_dropout, text_rank)

        def blocks() -> nn.ModuleList:
            return nn.ModuleList(
                MonotonicBlock(dim, n_heads, ff_dim, dropout, attention_dropout, query_block)
                for _ in range(n_blocks)
            )

        self.question_encoder, self.knowledge_encoder, self.retriever = blocks(), blocks(), blocks()
        self.head = nn.Sequential(
            nn.Linear(2 * dim, head_dim),
            nn.ReLU(),
            LaneDropout(dropout),
            nn.Linear(head_dim, head_dim // 2),
            nn.ReLU(),
            LaneDropout(dropout),
            nn.Linear(head_dim // 2, 1),
        )

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the network's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.integer("n_skills", 1)
        checks.integer("n_problems", 0)
        for name in ("dim", "n_heads", "n_blocks", "ff_dim", "query_block"):
            checks.integer(name, 1)
        checks.integer("head_dim", 2)
        checks.in_range("dropout", 0.0, 1.0)
        checks.in_range("attention_dropout", 0.0, 1.0)
        checks.at_least("rasch_l2", 0.0)
        if not checks.problems and {"dim", "n_heads"} <= set(args):
            checks.require("n_heads", lambda h: args["dim"] % h == 0, f"must divide dim={args['dim']}")
        checks.integer("item_vec_dim", 0)
        checks.in_range("text_dropout", 0.0, 1.0)
        checks.integer("text_rank", 1)
        return checks.problems

    def embed(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """The questions ``x [B, T, D]`` and the answered steps ``y [B, T, D]``."""
        skill = batch["skill"]  # [B, T]
        answer = (skill * 2 + batch["correct"].long()) * (skill > 0)
        x, y = self.skill(skill), self.answer(answer)
        if self.text is not None:
            x, y = x + self.text.question(batch), y + self.text.answer(batch)
        if self.rasch is None or "problem" not in batch:
            return x, y
        shift_x, shift_y = self.rasch(batch["problem"], skill, answer)
        return x + shift_x, y + shift_y

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor | NetOutput:
        """Logits ``[B, T]``: position ``t`` predicts step ``t`` from steps ``< t`` and its question."""
        x, y = self.embed(batch)
        questions, knowledge = x, y
        for block in self.question_encoder:
            questions = block(questions, questions, questions, strict=False)
        for block in self.knowledge_encoder:
            knowledge = block(knowledge, knowledge, knowledge, strict=False)
        h = questions
        for block in self.retriever:
            h = block(h, questions, knowledge, strict=True)
        logits = self.head(torch.cat([h, x], dim=-1)).squeeze(-1)
        if not self.training or self.rasch is None or self.rasch_l2 == 0:
            return logits
        return NetOutput(logits, self.rasch_l2 * self.rasch.penalty())
