"""SAINT (Choi, Lee, Cho, Baek, Kim, Cha, Shin, Bae, Lee and Heo, 2020): an encoder-decoder transformer.

"Towards an Appropriate Query, Key, and Value Computation for Knowledge Tracing" (L@S 2020). The encoder
reads the exercises, the decoder the responses::

    E_t = S[skill_t] + Q[problem_t] + P[t]                exercise of step t (Q when n_problems > 0)
    R_t = A[start] + P[0]  (t = 0),   A[correct_{t-1}] + P[t]  (t > 0)     responses shifted right

Every attention is causal (position ``t`` reads positions ``<= t``): the encoder's self-attention over
``E``, the decoder's self-attention over ``R`` and the decoder's attention from its steps to the encoder
output. Blocks follow the paper's equations, layer norm first and the skip connection from the normalised
input (``M = LN(x) + Attention(LN(x))``, ``O = LN(M) + FFN(LN(M))``; the decoder's second attention
reads the normalised encoder output), as pyKT's SAINT does. ``logit_t = w . Dropout(decoder_t) + b``.

Decoder position ``t`` holds the answer of step ``t - 1``, so with causal masks position ``t`` sees the
exercises of steps ``<= t`` and the answers of steps ``< t``: step ``t``'s answer never reaches its own
prediction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.models.components.dropout import LaneDropout
from ktlab.models.components.sakt import CausalAttention

#: Response ids of the decoder: 0 wrong, 1 right, 2 the start token.
START = 2


def _ffn(dim: int, ff_dim: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, ff_dim), nn.ReLU(), LaneDropout(dropout), nn.Linear(ff_dim, dim))


class EncoderBlock(nn.Module):
    """Causal self-attention and a feed-forward layer, each ``LN(x) + f(LN(x))``."""

    def __init__(self, dim: int, n_heads: int, ff_dim: int, dropout: float, attention_dropout: float) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attention = CausalAttention(dim, n_heads, attention_dropout)
        self.ffn = _ffn(dim, ff_dim, dropout)
        self.drop = LaneDropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x)
        x = x + self.drop(self.attention(x, x))
        x = self.norm2(x)
        return x + self.drop(self.ffn(x))


class DecoderBlock(nn.Module):
    """Causal self-attention, causal attention to the encoder output, a feed-forward layer."""

    def __init__(self, dim: int, n_heads: int, ff_dim: int, dropout: float, attention_dropout: float) -> None:
        super().__init__()
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attention = CausalAttention(dim, n_heads, attention_dropout)
        self.cross = CausalAttention(dim, n_heads, attention_dropout)
        self.ffn = _ffn(dim, ff_dim, dropout)
        self.drop = LaneDropout(dropout)

    def forward(self, x: torch.Tensor, encoded: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x)
        x = x + self.drop(self.attention(x, x))
        x = x + self.drop(self.cross(x, self.norm2(encoded)))
        x = self.norm3(x)
        return x + self.drop(self.ffn(x))


class SAINT(nn.Module):
    """Separated self-attentive neural knowledge tracing.

    Args:
        n_skills: skills seen in training (ids 1..n_skills; 0 is padding or unseen).
        n_problems: problems seen in training (0: no problem ids, exercises are their skills).
        dim: embedding and attention width.
        n_heads: attention heads (must divide ``dim``).
        n_blocks: encoder blocks, and as many decoder blocks.
        ff_dim: hidden width of the feed-forward layers.
        dropout: dropout after each attention and feed-forward layer, inside the latter and before the
            output layer.
        attention_dropout: dropout on the attention weights (pyKT's SAINT uses ``dropout`` there). On a
            CPU torch's fused attention kernel takes no dropout: a value above 0 takes the slower path.
        max_len: longest window the position embedding covers.
    """

    def __init__(
        self,
        n_skills: int,
        n_problems: int = 0,
        dim: int = 256,
        n_heads: int = 8,
        n_blocks: int = 4,
        ff_dim: int = 256,
        dropout: float = 0.2,
        attention_dropout: float = 0.2,
        max_len: int = 512,
    ) -> None:
        super().__init__()
        raise_problems(
            "SAINT",
            self.check_args(
                {
                    "n_skills": n_skills,
                    "n_problems": n_problems,
                    "dim": dim,
                    "n_heads": n_heads,
                    "n_blocks": n_blocks,
                    "ff_dim": ff_dim,
                    "dropout": dropout,
                    "attention_dropout": attention_dropout,
                    "max_len": max_len,
                }
            ),
        )
        self.max_len = max_len
        self.skill = nn.Embedding(n_skills + 1, dim, padding_idx=0)  # S
        self.problem = nn.Embedding(n_problems + 1, dim, padding_idx=0) if n_problems > 0 else None  # Q
        self.position = nn.Embedding(max_len, dim)  # P, shared by encoder and decoder
        self.response = nn.Embedding(3, dim)  # A: wrong, right, start
        self.encoder = nn.ModuleList(
            EncoderBlock(dim, n_heads, ff_dim, dropout, attention_dropout) for _ in range(n_blocks)
        )
        self.decoder = nn.ModuleList(
            DecoderBlock(dim, n_heads, ff_dim, dropout, attention_dropout) for _ in range(n_blocks)
        )
        self.drop = LaneDropout(dropout)
        self.head = nn.Linear(dim, 1)

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the network's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.integer("n_skills", 1)
        checks.integer("n_problems", 0)
        for name in ("dim", "n_heads", "n_blocks", "ff_dim", "max_len"):
            checks.integer(name, 1)
        checks.in_range("dropout", 0.0, 1.0)
        checks.in_range("attention_dropout", 0.0, 1.0)
        if not checks.problems and {"dim", "n_heads"} <= set(args):
            checks.require("n_heads", lambda h: args["dim"] % h == 0, f"must divide dim={args['dim']}")
        return checks.problems

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits ``[B, T]``: position ``t`` predicts step ``t`` from steps ``< t`` and its exercise."""
        skill = batch["skill"]  # [B, T]
        b, t = skill.shape
        if t > self.max_len:
            raise ValueError(
                f"a window of {t} steps exceeds SAINT's max_len={self.max_len}; raise model.net.max_len"
            )
        positions = self.position(torch.arange(t, device=skill.device))  # [T, D]
        exercises = self.skill(skill) + positions
        if self.problem is not None and "problem" in batch:
            exercises = exercises + self.problem(batch["problem"])
        for block in self.encoder:
            exercises = block(exercises)
        start = torch.full((b, 1), START, dtype=torch.long, device=skill.device)
        shifted = torch.cat([start, batch["correct"][:, :-1].long()], dim=1)  # position t: answer t - 1
        responses = self.response(shifted) + positions
        for block in self.decoder:
            responses = block(responses, exercises)
        return self.head(self.drop(responses)).squeeze(-1)
