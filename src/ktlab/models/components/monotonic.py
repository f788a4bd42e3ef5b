"""Monotonic attention (Ghosh, Heffernan and Lan, 2020, AKT section 3.2), from the paper's equations.

Scaled dot-product attention whose scores decay with a context-aware distance between the query step
``t`` and the key step ``tau``::

    gamma_{t,t'} = softmax_{t' allowed}(q_t . k_t' / sqrt(D))          (no gradient)
    d(t, tau)    = sqrt(|t - tau| * sum_{t' = tau+1..t} gamma_{t,t'})
    alpha_{t,tau} = softmax_{tau allowed}(exp(-theta_h * d(t, tau)) * q_t . k_tau / sqrt(D))

with one learned decay rate ``theta_h = softplus(.) >= 0`` per head. The paper's equation has no square
root; the authors' released implementation (github.com/arghosh/AKT, ``attention``) takes it, and its
numbers come from that code, so it is the default here (``sqrt_distance=False``: the paper's equation).
``allowed`` is ``tau <= t`` (``strict=False``, the encoders: a step may read its own question) or
``tau < t`` (``strict=True``, the knowledge retriever: never the answer being predicted); a query with no
allowed key reads zeros. torch's fused attention kernels take no such score transform, so the attention is
written out here, with a hand-written backward (:class:`_DecayedSoftmax`).

Every step of the attention works on one query row at a time, and a query may read only keys at or before
it, so the queries are taken in blocks of ``query_block`` steps and each block scores only the keys up to
its last step: for windows of 200 in blocks of 50 that is 62.5% of the ``[T, T]`` score map, with the same
result as the whole map (tested).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ktlab.models.components.dropout import LaneDropout, keep_mask


def allowed_keys(
    t: int, strict: bool, device: torch.device, first_row: int = 0, rows: int | None = None
) -> torch.Tensor:
    """``[rows, T]`` bool, True where query step ``i`` may read key step ``j``.

    ``j <= i`` (``j < i`` when strict), for the query steps ``first_row .. first_row + rows - 1`` (all ``T``
    by default).
    """
    rows = t - first_row if rows is None else rows
    query_steps = torch.arange(first_row, first_row + rows, device=device)
    return torch.arange(t, device=device)[None, :] <= query_steps[:, None] - (1 if strict else 0)


#: Decay floor, as in the published implementation (``clamp(min=1e-5)``).
DECAY_FLOOR = 1e-5


class _DecayedSoftmax(torch.autograd.Function):
    """``alpha = softmax(scores * exp(-theta * d(scores)))`` over the allowed keys, then dropout.

    ``scores`` ``[B, H, R, C]`` are the query steps ``first_row .. first_row + R - 1`` against the key steps
    ``0 .. C - 1``. Written by hand because autograd keeps every intermediate tensor of the ~20 elementwise
    steps and replays each of them backwards; here the forward runs its steps in place and keeps four
    tensors (``alpha``, ``decay``, ``scores``, ``d``) and the dropout's ``keep`` factor, and the backward is five passes:
    ``dz = alpha * (g - sum(g * alpha))``, ``d scores = dz * decay``, ``d theta = -sum(d scores * scores * d)``
    (zero where the decay sits on its floor). About twice as fast as the autograd version on a CPU, equal
    to it within float rounding (tested against it).
    """

    @staticmethod
    def forward(
        ctx,
        scores: torch.Tensor,
        theta: torch.Tensor,
        strict: bool,
        first_row: int,
        keep: torch.Tensor | None,
        sqrt_distance: bool,
    ) -> torch.Tensor:
        rows, cols = scores.shape[-2:]
        row_steps = torch.arange(first_row, first_row + rows, device=scores.device)
        col_steps = torch.arange(cols, device=scores.device)
        blocked = ~allowed_keys(cols, strict, scores.device, first_row, rows)  # [R, C]
        # A blocked key's score: finite in the scores' dtype (float16 included), so a row with no allowed
        # key gives no NaN (it is zeroed below).
        lowest = torch.finfo(scores.dtype).min
        gap = (row_steps[:, None] - col_steps[None, :]).abs().to(scores.dtype)  # [R, C] |t - tau|
        # gamma: attention without decay; sum over t' in (tau, t] of gamma = 1 - cumsum up to tau.
        distance = torch.softmax(torch.where(blocked, lowest, scores), dim=-1).cumsum_(-1)
        distance.neg_().add_(1.0).clamp_min_(0.0).mul_(gap)
        if sqrt_distance:
            distance.sqrt_()
        decay = torch.mul(distance, theta.neg()).exp_().clamp_min_(DECAY_FLOOR)
        distance.masked_fill_(decay <= DECAY_FLOOR, 0.0)  # on the floor the decay no longer moves with theta
        alpha = torch.softmax(torch.mul(scores, decay).masked_fill_(blocked, lowest), dim=-1)
        if strict and first_row == 0:
            alpha[..., 0, :] = 0.0  # the first step has no earlier key: it reads zeros
        ctx.save_for_backward(alpha, decay, scores, distance, keep)
        return alpha if keep is None else alpha * keep

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None, None, None, None]:
        alpha, decay, scores, distance, keep = ctx.saved_tensors
        if keep is not None:
            grad = grad * keep
        dz = grad * alpha
        dz.addcmul_(alpha, dz.sum(-1, keepdim=True), value=-1.0)  # softmax backward; blocked keys get 0
        d_scores = dz.mul_(decay)
        d_theta = -(d_scores * scores).mul_(distance).sum(dim=(0, 2, 3)).view(-1, 1, 1)
        return d_scores, d_theta, None, None, None, None


class MonotonicAttention(nn.Module):
    """Multi-head monotonic attention; query and key share their projection, as in AKT (``kq_same``).

    Initialised as the released implementation: Xavier-uniform projections of the query/key and value,
    zero biases, and decay rates ``theta`` Xavier-uniform over their ``[H, 1, 1]`` shape, that is uniform
    in ``+-sqrt(6 / (1 + H))`` (``softplus`` of them spans about 0.3 to 1.2 for 8 heads).

    Args:
        dim: model width.
        n_heads: heads (must divide ``dim``).
        dropout: dropout on the attention weights.
        query_block: query steps scored together (each block reads only the keys up to its last step);
            any value gives the same result, smaller ones score less of the map in more, smaller calls.
        sqrt_distance: the decay reads the square root of the distance (the released code) rather than
            the distance (the paper's equation).
    """

    def __init__(
        self, dim: int, n_heads: int, dropout: float, query_block: int = 50, sqrt_distance: bool = True
    ) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.dropout = dropout
        self.query_block = query_block
        self.sqrt_distance = sqrt_distance
        self.qk = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.theta = nn.Parameter(torch.zeros(n_heads, 1, 1))
        nn.init.xavier_uniform_(self.theta)
        nn.init.xavier_uniform_(self.qk.weight)
        nn.init.xavier_uniform_(self.v.weight)
        for layer in (self.qk, self.v, self.out):
            nn.init.zeros_(layer.bias)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        return x.view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2)  # [B, H, T, D/H]

    def _block(
        self, q: torch.Tensor, k: torch.Tensor, strict: bool, first_row: int, dropout: float
    ) -> torch.Tensor:
        """Weights ``[B, H, R, C]`` of the queries ``q`` (steps from ``first_row``) over the keys ``k``."""
        scores = q @ k.transpose(-1, -2)
        theta = F.softplus(self.theta).to(scores.dtype)
        keep = keep_mask(scores.shape, dropout, scores.device, scores.dtype) if dropout > 0 else None
        return _DecayedSoftmax.apply(scores, theta, strict, first_row, keep, self.sqrt_distance)

    def weights(self, query: torch.Tensor, key: torch.Tensor, strict: bool) -> torch.Tensor:
        """Attention weights ``[B, H, T, T]`` without dropout (rows with no allowed key are zero)."""
        q, k = self._heads(self.qk(query)), self._heads(self.qk(key))
        return self._block(q / q.shape[-1] ** 0.5, k, strict, 0, 0.0)

    def forward(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, strict: bool
    ) -> torch.Tensor:
        b, t, d = query.shape
        q, k = self._heads(self.qk(query)), self._heads(self.qk(key))
        q, v = q / q.shape[-1] ** 0.5, self._heads(self.v(value))
        dropout = self.dropout if self.training else 0.0
        attended = []
        for first in range(0, t, self.query_block):
            last = min(first + self.query_block, t)  # keys 0 .. last - 1 (the later ones are all blocked)
            weights = self._block(q[:, :, first:last], k[:, :, :last], strict, first, dropout)
            attended.append(weights @ v[:, :, :last])  # [B, H, R, D/H]
        return self.out(torch.cat(attended, dim=2).transpose(1, 2).reshape(b, t, d))


class MonotonicBlock(nn.Module):
    """Monotonic attention, then (``feed_forward``) a feed-forward layer, each with a residual and LayerNorm.

    Args:
        dim, n_heads, query_block, sqrt_distance: as :class:`MonotonicAttention`.
        ff_dim: hidden width of the feed-forward layer.
        dropout: dropout on the residual branches and inside the feed-forward layer.
        attention_dropout: dropout on the attention weights.
        feed_forward: whether the block has its feed-forward layer (AKT's question encoder has none).
    """

    def __init__(
        self,
        dim: int,
        n_heads: int,
        ff_dim: int,
        dropout: float,
        attention_dropout: float,
        query_block: int = 50,
        sqrt_distance: bool = True,
        feed_forward: bool = True,
    ) -> None:
        super().__init__()
        self.attention = MonotonicAttention(dim, n_heads, attention_dropout, query_block, sqrt_distance)
        self.norm1 = nn.LayerNorm(dim)
        self.ffn = (
            nn.Sequential(nn.Linear(dim, ff_dim), nn.ReLU(), LaneDropout(dropout), nn.Linear(ff_dim, dim))
            if feed_forward
            else None
        )
        self.norm2 = nn.LayerNorm(dim) if feed_forward else None
        self.drop = LaneDropout(dropout)

    def forward(
        self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, strict: bool
    ) -> torch.Tensor:
        x = self.norm1(query + self.drop(self.attention(query, key, value, strict)))
        if self.ffn is None:
            return x
        return self.norm2(x + self.drop(self.ffn(x)))
