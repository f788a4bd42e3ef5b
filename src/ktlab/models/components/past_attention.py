"""Attention of each step to the steps strictly before it, dense or k-sparse (simpleKT and sparseKT).

The query and the key of step ``t`` come from one shared projection of the question representations (as in
AKT and simpleKT), the value from the answered steps. Step ``t`` reads the values of steps ``tau < t`` only
(its own answer never), and the first step, which has no earlier step, reads zeros::

    alpha_t = softmax_{tau < t}(q_t . k_tau / sqrt(D / H))        per head
    out_t   = sum_{tau < t} alpha_{t,tau} v_tau,   out_0 = 0

k-sparse attention (Huang et al., 2023, sparseKT) keeps only some of a row's weights, then re-normalises
the kept ones:

- ``topk``: the ``k`` largest weights (ties at the k-th kept too). Rows with at most ``k`` earlier steps
  keep all their weights and are left as they are.
- ``soft`` (soft-thresholding): the largest weights, in decreasing order, until their sum reaches
  ``ratio``; every row is re-normalised.

``rescale`` says how the kept weights are re-normalised: ``softmax`` applies a softmax to the kept weights
(the weights, not the scores), as pyKT's released sparseKT does; ``sum`` divides them by their sum (the
softmax of the kept scores).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ktlab.models.components.dropout import LaneDropout

#: The sparsification modes of :class:`SparseSelection`.
MODES = ("topk", "soft")
#: How kept weights are re-normalised.
RESCALES = ("softmax", "sum")


@dataclass(frozen=True)
class SparseSelection:
    """Which attention weights a k-sparse attention keeps (see the module docstring).

    Attributes:
        mode: ``topk`` or ``soft``.
        k: weights kept per row under ``topk``.
        ratio: share of a row's attention mass the kept weights reach under ``soft``.
        rescale: ``softmax`` or ``sum``.
    """

    mode: str = "topk"
    k: int = 5
    ratio: float = 0.8
    rescale: str = "softmax"


def sinusoid_positions(t: int, dim: int, device: torch.device) -> torch.Tensor:
    """``[T, dim]`` fixed sine/cosine position codes (Vaswani et al., 2017): sine in the even columns,
    cosine in the odd ones, wavelengths growing geometrically from ``2 pi`` to ``10000 * 2 pi``."""
    steps = torch.arange(t, device=device, dtype=torch.float32)[:, None]
    rates = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(1e4) / dim))
    angles = steps * rates  # [T, ceil(dim / 2)]
    codes = torch.empty(t, dim, device=device)
    codes[:, 0::2] = torch.sin(angles)
    codes[:, 1::2] = torch.cos(angles)[:, : dim // 2]
    return codes


def earlier_steps(t: int, device: torch.device) -> torch.Tensor:
    """``[T, T]`` bool, True where query step ``i`` may read key step ``j``: ``j < i``."""
    steps = torch.arange(t, device=device)
    return steps[None, :] < steps[:, None]


def sparsify(weights: torch.Tensor, allowed: torch.Tensor, selection: SparseSelection) -> torch.Tensor:
    """The weights ``[..., T, T]`` (rows summing to 1 over ``allowed``) after k-sparse selection.

    The choice of the kept weights carries no gradient; the kept weights do.
    """
    with torch.no_grad():
        candidates = weights.masked_fill(~allowed, 0.0)
        if selection.mode == "topk":
            # torch.topk, not a full sort: about 3x less time for k << T on a CPU, the same k-th value.
            k = min(selection.k, candidates.shape[-1])
            threshold = candidates.topk(k, dim=-1).values[..., k - 1 : k]  # 0 where fewer keys are allowed
            acted = allowed.sum(-1, keepdim=True) > selection.k  # [T, 1]: rows with more than k keys
        else:
            ordered = candidates.sort(dim=-1, descending=True).values
            larger = ordered.cumsum(-1) - ordered  # the mass of the weights before each one
            threshold = ordered.masked_fill(larger >= selection.ratio, math.inf).amin(-1, keepdim=True)
            acted = torch.ones_like(allowed[..., :1])
        keep = allowed & (weights >= threshold) & (weights > 0)
    if selection.rescale == "softmax":
        rescaled = torch.softmax(weights.masked_fill(~keep, torch.finfo(weights.dtype).min), dim=-1)
    else:
        kept = weights * keep
        rescaled = kept / kept.sum(-1, keepdim=True).clamp_min(torch.finfo(weights.dtype).tiny)
    return torch.where(acted, rescaled * keep, weights)


class PastAttention(nn.Module):
    """Multi-head attention of each step to the values of the steps before it (module docstring).

    Args:
        dim: model width.
        n_heads: heads (must divide ``dim``).
        dropout: dropout on the attention weights.
        selection: k-sparse selection of the weights; None: dense attention (torch's fused kernel).
    """

    def __init__(
        self, dim: int, n_heads: int, dropout: float, selection: SparseSelection | None = None
    ) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.dropout = dropout
        self.selection = selection
        self.qk = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.drop = LaneDropout(dropout)
        for layer in (self.qk, self.v):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        return x.view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2)  # [B, H, T, D/H]

    def weights(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """Attention weights ``[B, H, T, T]`` without dropout; the first row is zero."""
        q, k = self._heads(self.qk(query)), self._heads(self.qk(key))
        t = q.shape[2]
        allowed = earlier_steps(t, q.device)
        scores = (q @ k.transpose(-1, -2)) / q.shape[-1] ** 0.5
        weights = torch.softmax(scores.masked_fill(~allowed, torch.finfo(scores.dtype).min), dim=-1)
        if self.selection is not None:
            weights = sparsify(weights, allowed, self.selection)
        return weights * allowed.any(-1, keepdim=True)  # the first step reads nothing

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        b, t, d = query.shape
        v = self._heads(self.v(value))
        first = (torch.arange(t, device=query.device) > 0).to(v.dtype)[:, None]  # [T, 1], 0 at step 0
        if self.selection is None:
            # The fused kernel needs an allowed key in every row: step 0 reads step 0, then is zeroed.
            allowed = earlier_steps(t, query.device)
            allowed[0, 0] = True
            q, k = self._heads(self.qk(query)), self._heads(self.qk(key))
            dropout = self.dropout if self.training else 0.0
            attended = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=dropout) * first
        else:
            attended = self.drop(self.weights(query, key)) @ v  # [B, H, T, D/H]
        return self.out(attended.transpose(1, 2).reshape(b, t, d))


class PastAttentionBlock(nn.Module):
    """:class:`PastAttention`, then a feed-forward layer, each with a residual connection and LayerNorm."""

    def __init__(
        self,
        dim: int,
        n_heads: int,
        ff_dim: int,
        dropout: float,
        attention_dropout: float,
        selection: SparseSelection | None = None,
    ) -> None:
        super().__init__()
        self.attention = PastAttention(dim, n_heads, attention_dropout, selection)
        self.norm1 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(
            nn.Linear(dim, ff_dim), nn.ReLU(), LaneDropout(dropout), nn.Linear(ff_dim, dim)
        )
        self.norm2 = nn.LayerNorm(dim)
        self.drop = LaneDropout(dropout)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        x = self.norm1(query + self.drop(self.attention(query, key, value)))
        return self.norm2(x + self.drop(self.ffn(x)))
