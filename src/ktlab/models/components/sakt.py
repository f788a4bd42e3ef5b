"""SAKT (Pandey and Karypis, 2019): self-attention from the next exercise to the past answers.

Keys and values are the past interactions (an embedding of ``(skill, correct)`` plus a position
embedding); the query of step ``t`` is the embedding of its skill. The interaction sequence is shifted
right by one (position 0 holds a learned start vector), so under a causal mask the query of step ``t``
attends to the start vector and interactions ``0..t-1`` only::

    a_t = Attention(q = E[skill_t], k/v = [start, M[x_0], ..., M[x_{t-1}]] + P)
    logit_t = w . LayerNorm(a_t + FFN(a_t)) + b

Step ``t``'s answer never reaches its own prediction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ktlab.checks import Checks, Problem, raise_problems


class CausalAttention(nn.Module):
    """Multi-head attention of queries to keys/values at the same or earlier positions.

    torch's ``scaled_dot_product_attention`` with ``is_causal=True`` does the masked softmax in one
    fused kernel; ``nn.MultiheadAttention`` would take an explicit mask tensor instead.
    """

    def __init__(self, dim: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.dropout = dropout
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, query: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        b, t, d = query.shape
        q = self.q(query).view(b, t, self.n_heads, -1).transpose(1, 2)  # [B, H, T, D/H]
        k, v = self.kv(memory).view(b, t, 2, self.n_heads, -1).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
        )  # [B, H, T, D/H]
        return self.out(attended.transpose(1, 2).reshape(b, t, d))


class SAKT(nn.Module):
    """Self-attentive knowledge tracing.

    Args:
        n_skills: skills seen in training (ids 1..n_skills; 0 is padding or unseen).
        dim: embedding and attention width.
        n_heads: attention heads (must divide ``dim``).
        n_blocks: stacked attention blocks (the paper uses one).
        dropout: dropout after the attention and in and after the feed-forward layer.
        max_len: longest window the position embedding covers.
        attention_dropout: dropout on the attention weights (the published model uses ``dropout`` there
            too). On a CPU torch's fused attention kernel takes no dropout: any value above 0 falls back to
            the unfused path, measured 6x slower per attention call at 64 windows of 200 steps.
    """

    def __init__(
        self,
        n_skills: int,
        dim: int = 128,
        n_heads: int = 8,
        n_blocks: int = 1,
        dropout: float = 0.2,
        max_len: int = 512,
        attention_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        raise_problems(
            "SAKT",
            self.check_args(
                {
                    "n_skills": n_skills,
                    "dim": dim,
                    "n_heads": n_heads,
                    "n_blocks": n_blocks,
                    "dropout": dropout,
                    "max_len": max_len,
                    "attention_dropout": attention_dropout,
                }
            ),
        )
        self.interaction = nn.Embedding(2 * (n_skills + 1), dim, padding_idx=0)
        self.skill = nn.Embedding(n_skills + 1, dim, padding_idx=0)
        self.position = nn.Embedding(max_len, dim)
        self.start = nn.Parameter(torch.zeros(dim))
        self.blocks = nn.ModuleList(
            nn.ModuleDict(
                {
                    "attention": CausalAttention(dim, n_heads, attention_dropout),
                    "norm1": nn.LayerNorm(dim),
                    "ffn": nn.Sequential(
                        nn.Linear(dim, dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(dim, dim)
                    ),
                    "norm2": nn.LayerNorm(dim),
                }
            )
            for _ in range(n_blocks)
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(dim, 1)
        self.max_len = max_len

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the network's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.integer("n_skills", 1)
        for name in ("dim", "n_heads", "n_blocks", "max_len"):
            checks.integer(name, 1)
        checks.in_range("dropout", 0.0, 1.0)
        checks.in_range("attention_dropout", 0.0, 1.0)
        if not checks.problems and {"dim", "n_heads"} <= set(args):
            checks.require("n_heads", lambda h: args["dim"] % h == 0, f"must divide dim={args['dim']}")
        return checks.problems

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits ``[B, T]``: position ``t`` predicts step ``t`` from steps ``< t``."""
        return self.row_logits(self.row_features(batch))

    def row_logits(self, features: torch.Tensor) -> torch.Tensor:
        """The output layer: logits ``[...]`` of row features ``[..., D]``."""
        return self.head(features).squeeze(-1)

    def row_features(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """What the output layer reads at every row, ``[B, T, D]`` (averaged over a question's concept rows
        by pyKT's early fusion, :mod:`ktlab.evaluation.pykt`)."""
        skill = batch["skill"]  # [B, T]
        b, t = skill.shape
        if t > self.max_len:
            raise ValueError(
                f"a window of {t} steps exceeds SAKT's max_len={self.max_len}; raise model.net.max_len"
            )
        answer = (skill * 2 + batch["correct"].long()) * (skill > 0)
        past = self.interaction(answer)  # [B, T, D] interaction j at position j
        memory = torch.cat([self.start.expand(b, 1, -1), past[:, :-1]], dim=1)  # position t: interaction t-1
        memory = memory + self.position(torch.arange(t, device=skill.device))
        x = self.skill(skill)  # [B, T, D] queries
        for block in self.blocks:
            x = block["norm1"](x + self.drop(block["attention"](x, memory)))
            x = block["norm2"](x + self.drop(block["ffn"](x)))
        return x
