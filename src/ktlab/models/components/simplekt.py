"""simpleKT (Liu, Liu, Chen, Huang and Luo, 2023, ICLR): Rasch-embedded questions and plain causal attention.

Embeddings (the question's problem shifts its skill's embedding when problem ids are given,
``n_problems > 0``, as in the Rasch embeddings of AKT)::

    x_t = c[skill_t] + m[problem_t] * d[skill_t]        question of step t
    y_t = c[skill_t] + g[correct_t]                     answered step t

``m`` is one difficulty per problem (a vector of ``dim`` numbers, multiplied element by element, as pyKT's
released simpleKT does; ``vector_difficulty=false``: one scalar, the Rasch form of AKT). Problem 0
(padding, or a problem unseen in training) has ``m = 0``; without problem ids ``x_t = c[skill_t]``.
Both sequences get fixed sine/cosine position codes; ``n_blocks`` blocks of ordinary scaled dot-product
attention (query and key: the questions, value: the answered steps; step ``t`` reads steps ``tau < t``
only, step 0 reads zeros; :mod:`ktlab.models.components.past_attention`), each followed by a feed-forward
layer, give ``h_t``, and::

    logit_t = MLP([h_t ; x_t])        (two hidden ReLU layers of head_dim)

The answer of step ``t`` enters only ``y_t``, which no query reads at step ``t`` or earlier: it cannot
reach its own prediction.

With question texts (``item_vec_dim > 0``, :mod:`ktlab.models.components.item_text`) the question's
projected text is added to ``x_t`` and, projected by the answer, to ``y_t``; with problem ids and
``text_difficulty`` a scalar read from the text is also added to the problem's ``m`` (to every element of
a vector ``m``), so a question new to training (``m = 0``) keeps the text's part of its difficulty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.models.components.dropout import LaneDropout
from ktlab.models.components.item_text import check_text_args, difficulty_offset, item_text
from ktlab.models.components.past_attention import PastAttentionBlock, SparseSelection, sinusoid_positions
from ktlab.models.output import NetOutput


class SimpleKT(nn.Module):
    """simpleKT: Rasch question embeddings, attention to the earlier answered steps, an output MLP.

    Args:
        n_skills: skills seen in training (ids 1..n_skills; 0 is padding or unseen).
        n_problems: problems seen in training (0: no problem ids, questions are their skills).
        dim: embedding and attention width.
        n_heads: attention heads (must divide ``dim``).
        n_blocks: stacked attention blocks.
        ff_dim: hidden width of the blocks' feed-forward layers.
        head_dim: width of both hidden layers of the output MLP.
        dropout: dropout after the attention, in and after the feed-forward layers and in the output MLP.
        attention_dropout: dropout on the attention weights (pyKT's simpleKT uses ``dropout`` there).
        vector_difficulty: one difficulty vector per problem (pyKT's released simpleKT) rather than one
            scalar (the Rasch form of AKT).
        rasch_l2: weight of an L2 penalty on the problem difficulties, returned as the training
            ``aux_loss`` (pyKT's simpleKT has none: 0).
        selection: k-sparse attention (sparseKT, :mod:`ktlab.models.components.sparsekt`); None: dense.
        item_vec_dim: width of the question-text vectors (0: the data gives none).
        text_dropout: dropout on the question-text vectors.
        text_rank: width of the layer the question-text vectors are narrowed to.
        text_difficulty: with problem ids and question texts, add a difficulty read from the text to each
            problem's ``m``.
    """

    def __init__(
        self,
        n_skills: int,
        n_problems: int = 0,
        dim: int = 256,
        n_heads: int = 4,
        n_blocks: int = 2,
        ff_dim: int = 256,
        head_dim: int = 256,
        dropout: float = 0.1,
        attention_dropout: float = 0.1,
        vector_difficulty: bool = True,
        rasch_l2: float = 0.0,
        selection: SparseSelection | None = None,
        item_vec_dim: int = 0,
        text_dropout: float = 0.5,
        text_rank: int = 16,
        text_difficulty: bool = False,
    ) -> None:
        super().__init__()
        raise_problems(
            type(self).__name__,
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
                    "attention_dropout": attention_dropout,
                    "rasch_l2": rasch_l2,
                    "item_vec_dim": item_vec_dim,
                    "text_dropout": text_dropout,
                    "text_rank": text_rank,
                }
            ),
        )
        self.rasch_l2 = rasch_l2
        self.skill = nn.Embedding(n_skills + 1, dim, padding_idx=0)  # c
        self.response = nn.Embedding(2, dim)  # g
        self.difficulty: nn.Embedding | None = None
        if n_problems > 0:
            self.difficulty = nn.Embedding(
                n_problems + 1, dim if vector_difficulty else 1, padding_idx=0
            )  # m
            nn.init.zeros_(self.difficulty.weight)  # every problem starts at its skill's embedding
            self.variation = nn.Embedding(n_skills + 1, dim, padding_idx=0)  # d
        self.text = item_text(
            item_vec_dim, dim, dim, text_dropout, text_rank, difficulty=text_difficulty and n_problems > 0
        )
        self.blocks = nn.ModuleList(
            PastAttentionBlock(dim, n_heads, ff_dim, dropout, attention_dropout, selection)
            for _ in range(n_blocks)
        )
        self.head = nn.Sequential(
            nn.Linear(2 * dim, head_dim),
            nn.ReLU(),
            LaneDropout(dropout),
            nn.Linear(head_dim, head_dim),
            nn.ReLU(),
            LaneDropout(dropout),
            nn.Linear(head_dim, 1),
        )

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the network's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.integer("n_skills", 1)
        checks.integer("n_problems", 0)
        for name in ("dim", "n_heads", "n_blocks", "ff_dim", "head_dim"):
            checks.integer(name, 1)
        checks.in_range("dropout", 0.0, 1.0)
        checks.in_range("attention_dropout", 0.0, 1.0)
        checks.at_least("rasch_l2", 0.0)
        check_text_args(checks)
        if not checks.problems and {"dim", "n_heads"} <= set(args):
            checks.require("n_heads", lambda h: args["dim"] % h == 0, f"must divide dim={args['dim']}")
        return checks.problems

    def embed(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """The questions ``x [B, T, D]`` and the answered steps ``y [B, T, D]``."""
        skill = batch["skill"]  # [B, T]
        concept = self.skill(skill)
        answered = concept + self.response(batch["correct"].long())
        if self.text is not None:
            concept, answered = concept + self.text.question(batch), answered + self.text.answer(batch)
        if self.difficulty is None or "problem" not in batch:
            return concept, answered
        difficulty = self.difficulty(batch["problem"])  # [B, T, dim or 1]
        offset = difficulty_offset(self.text, batch)
        if offset is not None:
            difficulty = difficulty + offset.unsqueeze(-1)
        return concept + difficulty * self.variation(skill), answered

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor | NetOutput:
        """Logits ``[B, T]``: position ``t`` predicts step ``t`` from steps ``< t`` and its question; while
        training with problem ids and ``rasch_l2 > 0``, with the difficulty penalty as ``aux_loss``."""
        logits = self.row_logits(self.row_features(batch))
        if not self.training or self.difficulty is None or self.rasch_l2 == 0:
            return logits
        return NetOutput(logits, self.rasch_l2 * self.difficulty.weight.pow(2).sum())

    def row_logits(self, features: torch.Tensor) -> torch.Tensor:
        """The output MLP: logits ``[...]`` of row features ``[..., 2D]``."""
        return self.head(features).squeeze(-1)

    def row_features(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """What the output MLP reads at every row, ``[h_t ; x_t]`` ``[B, T, 2D]`` (averaged over a
        question's concept rows by pyKT's early fusion, :mod:`ktlab.evaluation.pykt`)."""
        x, y = self.embed(batch)
        positions = sinusoid_positions(x.shape[1], x.shape[2], x.device)
        h, values = x + positions, y + positions
        for block in self.blocks:
            h = block(h, h, values)
        return torch.cat([h, x], dim=-1)
