"""AKT (Ghosh, Heffernan and Lan, 2020): context-aware attentive knowledge tracing.

Embeddings (Rasch model-based, when problem ids are given, ``n_problems > 0``), by default as in the
authors' released implementation (github.com/arghosh/AKT, ``separate_qa=False``)::

    x_t = c[skill_t] + mu[problem_t] * d[skill_t]                                  question of step t
    y_t = c[skill_t] + g[correct_t] + mu[problem_t] * (d[skill_t] + h[correct_t])  answered step t

or, with ``separate_qa=True``, one table per skill and answer: ``y_t = e[skill_t, correct_t] + mu *
f[skill_t, correct_t]``. ``mu`` is one scalar difficulty per problem (id 0, an unseen problem, has
``mu = 0``; :mod:`ktlab.models.components.rasch`), L2-penalised (``rasch_l2``, the training ``aux_loss``);
without problem ids ``mu = 0``.

A knowledge encoder (monotonic self-attention over ``y``, each step reading steps ``<= t``, with a
feed-forward layer), then ``n_blocks`` times a question encoder (self-attention over ``x``, steps ``<= t``,
no feed-forward layer unless ``question_ffn``) and a knowledge retriever (query and key the encoded
questions, value the encoded answers, steps ``< t`` only, with a feed-forward layer) give ``h_t``;
``logit_t = MLP([h_t ; x_t])``. The answer of step ``t`` enters only the knowledge encoder at position
``t``, which the retriever never reads for step ``t``: it cannot reach its own prediction (see
:mod:`ktlab.models.components.monotonic`).
With question texts (``item_vec_dim > 0``, :mod:`ktlab.models.components.item_text`) the question's
projected text is added to ``x_t`` and, projected by the answer, to ``y_t``; with problem ids and
``text_difficulty`` a scalar read from the text is also added to the problem's ``mu`` (a new question, whose
``mu`` is 0, keeps the text's part). ``text_embed=False`` keeps only that difficulty: the text then moves a
question along its skill's direction ``d`` and nowhere else, so the attention's similarities between questions
change by one learned scalar per question. ``text_in_attention=False`` adds the question's projected text only
where the output MLP reads ``x_t`` (``MLP([h_t ; x_t + text_t])``): the attention then weighs and retrieves
from ids alone, and the text sits beside the retrieved knowledge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.models.components.dropout import LaneDropout
from ktlab.models.components.item_text import check_text_args, difficulty_offset, item_text
from ktlab.models.components.monotonic import MonotonicBlock
from ktlab.models.components.rasch import RaschShift
from ktlab.models.output import NetOutput

#: How the problem difficulties are penalised (see :mod:`ktlab.models.components.rasch`).
RASCH_PENALTIES = ("occurrences", "problems")


class AKT(nn.Module):
    """Attentive knowledge tracing with monotonic attention and Rasch problem embeddings.

    Args:
        n_skills: skills seen in training (ids 1..n_skills; 0 is padding or unseen).
        n_problems: problems seen in training (0: no problem ids, the AKT-NR variant).
        dim: embedding and attention width.
        n_heads: attention heads (must divide ``dim``).
        n_blocks: blocks of the knowledge encoder, and question-encoder/retriever pairs after it.
        ff_dim: hidden width of the feed-forward layers.
        head_dim: hidden width of the output MLP (``2 dim -> head_dim -> head_dim / 2 -> 1``).
        dropout: dropout in attention, feed-forward layers and the output MLP.
        rasch_l2: weight of the L2 penalty on the problem difficulties ``mu``.
        attention_dropout: dropout on the attention weights (the published model uses ``dropout`` there).
        query_block: query steps the monotonic attention scores together (the result does not depend on
            it; see :mod:`ktlab.models.components.monotonic`).
        separate_qa: one answered-step embedding per skill and answer (``e``, ``f``) instead of the
            question's plus one per answer (``c + g``, ``d + h``; the released code's default).
        question_ffn: the question encoder's blocks have a feed-forward layer (the released code's have
            none).
        sqrt_distance: the decay reads the square root of the context-aware distance (the released code).
        rasch_penalty: ``occurrences``: ``rasch_l2 * sum(mu ** 2)`` over the batch's steps, divided by its
            number of steps, the released code's penalty in a mean loss; ``problems``: ``rasch_l2 *
            sum(mu ** 2)`` over every problem at every step.
        item_vec_dim: width of the question-text vectors (0: the data gives none).
        text_dropout: dropout on the question-text vectors.
        text_rank: width of the layer the question-text vectors are narrowed to.
        text_difficulty: with problem ids and question texts, add a difficulty read from the text to each
            problem's Rasch difficulty ``mu``.
        text_embed: add the projected text to ``x`` and ``y`` (False: the text reaches the network only through
            ``text_difficulty``, which it then needs, with problem ids).
        text_in_attention: with ``text_embed``, add the projected text to ``x`` and ``y``, which the attention
            reads (False: add the question's projected text only to the ``x_t`` the output MLP reads).
    """

    def __init__(
        self,
        n_skills: int,
        n_problems: int = 0,
        dim: int = 256,
        n_heads: int = 8,
        n_blocks: int = 1,
        ff_dim: int = 2048,
        head_dim: int = 512,
        dropout: float = 0.05,
        rasch_l2: float = 1e-5,
        attention_dropout: float = 0.05,
        query_block: int = 50,
        separate_qa: bool = False,
        question_ffn: bool = False,
        sqrt_distance: bool = True,
        rasch_penalty: str = "occurrences",
        item_vec_dim: int = 0,
        text_dropout: float = 0.5,
        text_rank: int = 16,
        text_difficulty: bool = False,
        text_embed: bool = True,
        text_in_attention: bool = True,
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
                    "rasch_penalty": rasch_penalty,
                    "item_vec_dim": item_vec_dim,
                    "text_dropout": text_dropout,
                    "text_rank": text_rank,
                    "text_difficulty": text_difficulty,
                    "text_embed": text_embed,
                    "text_in_attention": text_in_attention,
                }
            ),
        )
        self.rasch_l2 = rasch_l2
        self.rasch_penalty = rasch_penalty
        self.separate_qa = separate_qa
        self.skill = nn.Embedding(n_skills + 1, dim, padding_idx=0)  # c
        if separate_qa:
            self.answer = nn.Embedding(2 * (n_skills + 1), dim, padding_idx=0)  # e
        else:
            self.answer = nn.Embedding(2, dim)  # g
        self.rasch = (
            RaschShift(n_problems, n_skills, dim, answer_rows=None if separate_qa else 2)  # mu, d, f or h
            if n_problems > 0
            else None
        )
        width = dim if text_embed else 0
        self.text_in_attention = text_in_attention
        self.text = item_text(
            item_vec_dim,
            width,
            width if text_in_attention else 0,
            text_dropout,
            text_rank,
            difficulty=text_difficulty and n_problems > 0,
        )

        def blocks(feed_forward: bool = True) -> nn.ModuleList:
            return nn.ModuleList(
                MonotonicBlock(
                    dim, n_heads, ff_dim, dropout, attention_dropout, query_block, sqrt_distance, feed_forward
                )
                for _ in range(n_blocks)
            )

        self.knowledge_encoder = blocks()
        self.question_encoder, self.retriever = blocks(question_ffn), blocks()
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
        checks.one_of("rasch_penalty", RASCH_PENALTIES)
        if not checks.problems and {"dim", "n_heads"} <= set(args):
            checks.require("n_heads", lambda h: args["dim"] % h == 0, f"must divide dim={args['dim']}")
        check_text_args(checks)
        text_width = args.get("item_vec_dim", 0)
        if isinstance(text_width, int) and text_width > 0 and not args.get("text_embed", True):
            checks.require(
                "text_embed",
                lambda _: args.get("text_difficulty", False) and args.get("n_problems", 0) > 0,
                "false leaves the question texts unread unless text_difficulty is true and the data has problem ids",
            )
        if isinstance(text_width, int) and text_width > 0 and not args.get("text_in_attention", True):
            checks.require(
                "text_in_attention",
                lambda _: args.get("text_embed", True),
                "false moves the text embeddings to the output layer, and needs text_embed true",
            )
        return checks.problems

    def _text_embedded(self, in_attention: bool) -> bool:
        """Whether the projected text is added where the attention reads (``in_attention``) or where only the
        output MLP does."""
        return (
            self.text is not None
            and self.text.to_question is not None
            and self.text_in_attention == in_attention
        )

    def embed(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """The questions ``x [B, T, D]`` and the answered steps ``y [B, T, D]``."""
        skill, correct = batch["skill"], batch["correct"].long()  # [B, T]
        x = self.skill(skill)
        if self.separate_qa:
            answer = (skill * 2 + correct) * (skill > 0)
            y = self.answer(answer)
        else:
            answer = correct
            y = x + self.answer(answer)
        if self._text_embedded(in_attention=True):
            x, y = x + self.text.question(batch), y + self.text.answer(batch)
        if self.rasch is None or "problem" not in batch:
            return x, y
        offset = difficulty_offset(self.text, batch)
        shift_x, shift_y = self.rasch(batch["problem"], skill, answer, offset)
        if not self.separate_qa:  # the released code's y shift: mu * (d[skill] + h[correct])
            shift_y = shift_y + shift_x
        return x + shift_x, y + shift_y

    def penalty(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The L2 penalty on the problem difficulties (see ``rasch_penalty``), before ``rasch_l2``."""
        if self.rasch_penalty == "problems":
            return self.rasch.penalty()
        steps = batch["mask"].sum().clamp_min(1)
        return self.rasch.occurrence_penalty(batch["problem"]) / steps

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor | NetOutput:
        """Logits ``[B, T]``: position ``t`` predicts step ``t`` from steps ``< t`` and its question; while
        training with problem ids and ``rasch_l2 > 0``, with the Rasch penalty as ``aux_loss``."""
        logits = self.row_logits(self.row_features(batch))
        if not self.training or self.rasch is None or self.rasch_l2 == 0 or "problem" not in batch:
            return logits
        return NetOutput(logits, self.rasch_l2 * self.penalty(batch))

    def row_logits(self, features: torch.Tensor) -> torch.Tensor:
        """The output MLP: logits ``[...]`` of row features ``[..., 2D]``."""
        return self.head(features).squeeze(-1)

    def row_features(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """What the output MLP reads at every row, the retrieved knowledge beside the question,
        ``[h_t ; x_t]`` ``[B, T, 2D]`` (averaged over a question's concept rows by pyKT's early fusion,
        :mod:`ktlab.evaluation.pykt`)."""
        x, y = self.embed(batch)
        knowledge = y
        for block in self.knowledge_encoder:
            knowledge = block(knowledge, knowledge, knowledge, strict=False)
        h = x
        for question_block, retriever_block in zip(self.question_encoder, self.retriever, strict=True):
            h = question_block(h, h, h, strict=False)
            h = retriever_block(h, h, knowledge, strict=True)
        if self._text_embedded(in_attention=False):
            x = x + self.text.question(batch)
        return torch.cat([h, x], dim=-1)
