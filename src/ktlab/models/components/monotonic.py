"""Monotonic attention (Ghosh, Heffernan and Lan, 2020, AKT section 3.2), written from the paper's equations.

Scaled dot-product attention whose scores decay with a context-aware distance between the query step
``t`` and the key step ``tau``::

    gamma_{t,t'} = softmax_{t' allowed}(q_t . k_t' / sqrt(D))          (no gradient)
    d(t, tau)    = |t - tau| * sum_{t' = tau+1..t} gamma_{t,t'}
    alpha_{t,tau} = softmax_{tau allowed}(exp(-theta_h * d(t, tau)) * q_t . k_tau / sqrt(D))

with one learned decay rate ``theta_h = softplus(.) >= 0`` per head. ``allowed`` is ``tau <= t``
(``strict=False``, the encoders: a step may read its own question) or ``tau < t`` (``strict=True``, the
knowledge retriever: never the answer being predicted); a query with no allowed key reads zeros. torch's
fused attention kernels take no such score transform, so the attention is written out here, with a
hand-written backward (:class:`_DecayedSoftmax`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def allowed_keys(t: int, strict: bool, device: torch.device) -> torch.Tensor:
    """``[T, T]`` bool, True where query ``i`` may read key ``j``: ``j <= i`` (or ``j < i`` when strict)."""
    return torch.ones(t, t, dtype=torch.bool, device=device).tril(-1 if strict else 0)


#: Decay floor, as in the published implementation (``clamp(min=1e-5)``).
DECAY_FLOOR = 1e-5


class _DecayedSoftmax(torch.autograd.Function):
    """``alpha = softmax(scores * exp(-theta * d(scores)))`` over the allowed keys, with its own backward.

    Written by hand because autograd keeps every intermediate ``[B, H, T, T]`` tensor of the ~20
    elementwise steps and replays each of them backwards; here the forward runs its steps in place and
    keeps four tensors (``alpha``, ``decay``, ``scores``, ``d``), and the backward is five passes:
    ``dz = alpha * (g - sum(g * alpha))``, ``d scores = dz * decay``, ``d theta = -sum(d scores * scores * d)``
    (zero where the decay sits on its floor). About twice as fast as the autograd version on a CPU, equal
    to it within float rounding (tested against it).
    """

    @staticmethod
    def forward(ctx, scores: torch.Tensor, theta: torch.Tensor, strict: bool) -> torch.Tensor:
        t = scores.shape[-1]
        blocked = ~allowed_keys(t, strict, scores.device)
        # A blocked key's score: finite in the scores' dtype (float16 included), so a row with no allowed
        # key gives no NaN (it is zeroed below).
        lowest = torch.finfo(scores.dtype).min
        steps = torch.arange(t, device=scores.device, dtype=scores.dtype)
        gap = (steps[:, None] - steps[None, :]).abs()  # [T, T] |t - tau|
        # gamma: attention without decay; sum over t' in (tau, t] of gamma = 1 - cumsum up to tau.
        distance = torch.softmax(scores.masked_fill(blocked, lowest), dim=-1).cumsum_(-1)
        distance.neg_().add_(1.0).clamp_min_(0.0).mul_(gap)
        decay = torch.mul(distance, theta.neg()).exp_().clamp_min_(DECAY_FLOOR)
        distance.masked_fill_(decay <= DECAY_FLOOR, 0.0)  # on the floor the decay no longer moves with theta
        alpha = torch.softmax(torch.mul(scores, decay).masked_fill_(blocked, lowest), dim=-1)
        if strict:
            alpha[..., 0, :] = 0.0  # the first step has no earlier key: it reads zeros
        ctx.save_for_backward(alpha, decay, scores, distance)
        return alpha

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:
        alpha, decay, scores, distance = ctx.saved_tensors
        dz = grad * alpha
        dz.addcmul_(alpha, dz.sum(-1, keepdim=True), value=-1.0)  # softmax backward; blocked keys get 0
        d_scores = dz.mul_(decay)
        d_theta = -(d_scores * scores).mul_(distance).sum(dim=(0, 2, 3)).view(-1, 1, 1)
        return d_scores, d_theta, None


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
        scores = (q / q.shape[-1] ** 0.5) @ k.transpose(-1, -2)  # [B, H, T, T]
        theta = F.softplus(self.theta)
        return _DecayedSoftmax.apply(scores, theta.to(scores.dtype), strict)

    def forward(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, strict: bool
    ) -> torch.Tensor:
        b, t, d = query.shape
        weights = self.weights(query, key, strict)
        if self.drop.p > 0:  # skipped at 0: dropout costs a random draw per weight even then
            weights = self.drop(weights)
        attended = weights @ self._heads(self.v(value))  # [B, H, T, D/H]
        return self.out(attended.transpose(1, 2).reshape(b, t, d))


class MonotonicBlock(nn.Module):
    """Monotonic attention, then a feed-forward layer, each with a residual connection and LayerNorm."""

    def __init__(self, dim: int, n_heads: int, ff_dim: int, dropout: float, attention_dropout: float) -> None:
        super().__init__()
        self.attention = MonotonicAttention(dim, n_heads, attention_dropout)
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
