"""Monotonic attention (Ghosh, Heffernan and Lan, 2020, AKT section 3.2), written from the paper's equations.

Scaled dot-product attention whose scores decay with a context-aware distance between the query step
``t`` and the key step ``tau``::

    gamma_{t,t'} = softmax_{t' allowed}(q_t . k_t' / sqrt(D))          (no gradient)
    d(t, tau)    = |t - tau| * sum_{t' = tau+1..t} gamma_{t,t'}
    alpha_{t,tau} = softmax_{tau allowed}(exp(-theta_h * d(t, tau)) * q_t . k_tau / sqrt(D))

with one learned decay rate ``theta_h = softplus(.) >= 0`` per head. ``allowed`` is ``tau <= t``
(``strict=False``, the encoders: a step may read its own question) or ``tau < t`` (``strict=True``, the
knowledge retriever: never the answer being predicted); a query with no allowed key reads zeros. torch's
fused attention kernels take no such score transform, so the attention is written out here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def allowed_keys(t: int, strict: bool, device: torch.device) -> torch.Tensor:
    """``[T, T]`` bool, True where query ``i`` may read key ``j``: ``j <= i`` (or ``j < i`` when strict)."""
    return torch.ones(t, t, dtype=torch.bool, device=device).tril(-1 if strict else 0)


class MonotonicAttention(nn.Module):
    """Multi-head monotonic attention; query and key share their projection, as in AKT.

    Args:
        dim: model width.
        n_heads: heads (must divide ``dim``).
        dropout: dropout on the attention weights.
    """

    def __init__(self, dim: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.qk = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.drop = nn.Dropout(dropout)
        self.theta = nn.Parameter(torch.zeros(n_heads, 1, 1))  # softplus(0) = 0.69
        nn.init.xavier_uniform_(self.qk.weight)
        nn.init.xavier_uniform_(self.v.weight)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        return x.view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2)  # [B, H, T, D/H]

    def weights(self, query: torch.Tensor, key: torch.Tensor, strict: bool) -> torch.Tensor:
        """Attention weights ``[B, H, T, T]`` (rows with no allowed key are zero)."""
        q, k = self._heads(self.qk(query)), self._heads(self.qk(key))
        t = q.shape[2]
        scores = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5  # [B, H, T, T]
        allowed = allowed_keys(t, strict, q.device)
        with torch.no_grad():
            gamma = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1).nan_to_num(0.0)
            after = gamma.sum(-1, keepdim=True) - gamma.cumsum(-1)  # sum over t' in (tau, t]
            steps = torch.arange(t, device=q.device)
            gap = (steps[:, None] - steps[None, :]).abs()  # [T, T] |t - tau|
            distance = (after.clamp(min=0.0) * gap).detach()
        decay = torch.exp(-F.softplus(self.theta) * distance).clamp(1e-5, 1e5)
        scores = (scores * decay).masked_fill(~allowed, float("-inf"))
        return torch.softmax(scores, dim=-1).nan_to_num(0.0)  # an all-masked row -> zeros

    def forward(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, strict: bool
    ) -> torch.Tensor:
        b, t, d = query.shape
        attended = self.drop(self.weights(query, key, strict)) @ self._heads(self.v(value))  # [B, H, T, D/H]
        return self.out(attended.transpose(1, 2).reshape(b, t, d))


class MonotonicBlock(nn.Module):
    """Monotonic attention, then a feed-forward layer, each with a residual connection and LayerNorm."""

    def __init__(self, dim: int, n_heads: int, ff_dim: int, dropout: float) -> None:
        super().__init__()
        self.attention = MonotonicAttention(dim, n_heads, dropout)
        self.norm1 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(
            nn.Linear(dim, ff_dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(ff_dim, dim)
        )
        self.norm2 = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)

    def forward(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, strict: bool
    ) -> torch.Tensor:
        x = self.norm1(query + self.drop(self.attention(query, key, value, strict)))
        return self.norm2(x + self.drop(self.ffn(x)))
