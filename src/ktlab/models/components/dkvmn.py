"""DKVMN (Zhang, Shi, King and Yeung, 2017, WWW): dynamic key-value memory networks for knowledge tracing.

``N`` latent concepts each hold a static key ``M^k[i]`` (``key_dim``) and a dynamic value ``M^v_t[i]``
(``value_dim``, the learner's mastery of the concept, starting from a learned ``M^v_0``). At step ``t``
the skill's key embedding ``k_t = A[skill_t]`` attends to the keys, and the value memory as it stood
before step ``t``'s answer is read with those weights::

    w_t = softmax(M^k k_t)                               correlation weights       [N]
    r_t = sum_i w_t[i] M^v_{t-1}[i]                      read content              [value_dim]
    f_t = tanh(W_1 [r_t ; k_t] + b_1)                    summary                   [summary_dim]
    logit_t = w_2 . f_t + b_2

After the answer, its embedding ``v_t = B[skill_t, correct_t]`` erases and adds to every slot in
proportion to its weight::

    e_t = sigmoid(E v_t + b_e),   a_t = tanh(D v_t + b_a)
    M^v_t[i] = M^v_{t-1}[i] * (1 - w_t[i] e_t) + w_t[i] a_t

Step ``t``'s prediction reads ``M^v_{t-1}``, which holds the writes of steps ``< t`` only: its own answer
never reaches it. Everything but the write is computed for all steps at once; the write is a first-order
linear recurrence over ``[B, N, value_dim]`` memories, run by :class:`MemoryReads` with a hand-written
backward pass (autograd through the step loop builds and sums ``[B, T, N, value_dim]`` products and was
measured ~3x slower on a CPU; no library has this recurrence). Steps whose skill is padding or unseen in
training (id 0) write nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.models.components.dropout import LaneDropout


class MemoryReads(torch.autograd.Function):
    """The reads of a value memory under DKVMN's erase-add writes, with their gradients.

    ``forward(read_w [B, T, N], write_w [B, T, N], erase [B, T, D], add [B, T, D], initial [B, N, D])``
    returns ``r [B, T, D]`` with ``r_t = read_w_t^T M_t``, where ``M_0 = initial`` and
    ``M_{t+1} = M_t * (1 - write_w_t erase_t^T) + write_w_t add_t^T``. The memories ``M_0 .. M_{T-1}``
    are kept for the backward pass (``T * B * N * D`` floats); each step costs a few ``[B, N, D]`` products.
    """

    @staticmethod
    def forward(
        ctx: Any,
        read_w: torch.Tensor,
        write_w: torch.Tensor,
        erase: torch.Tensor,
        add: torch.Tensor,
        initial: torch.Tensor,
    ) -> torch.Tensor:
        b, t, n = read_w.shape
        memories = initial.new_empty(t, b, n, initial.shape[-1])  # [T, B, N, D]: memories[s] = M_s
        memories[0] = initial
        # time-major copies, so that each step reads contiguous [B, ...] slices
        write_t, erase_t, add_t = (x.transpose(0, 1).contiguous() for x in (write_w, erase, add))
        one = read_w.new_ones(())  # the constant term of `1 - w e^T`
        for step in range(t - 1):  # the last write is read by no step of the window
            w = write_t[step, :, :, None]  # [B, N, 1]
            keep = torch.addcmul(one, w, erase_t[step, :, None, :], value=-1.0)  # 1 - w e^T
            torch.addcmul(w * add_t[step, :, None, :], memories[step], keep, out=memories[step + 1])
        ctx.save_for_backward(read_w, write_t, erase_t, add_t, memories)
        weights = read_w.transpose(0, 1).reshape(t * b, 1, n)
        return torch.bmm(weights, memories.view(t * b, n, -1)).view(t, b, -1).transpose(0, 1)

    @staticmethod
    def backward(ctx: Any, grad_reads: torch.Tensor) -> tuple[torch.Tensor, ...]:
        read_w, write_t, erase_t, add_t, memories = ctx.saved_tensors
        t, b, n, d = memories.shape
        grad_reads = grad_reads.transpose(0, 1).contiguous()  # [T, B, D]
        read_t = read_w.transpose(0, 1).contiguous()  # [T, B, N]
        # d r_s / d read_w_s = M_s grad_s, for every step at once
        grad_read_w = torch.bmm(memories.view(t * b, n, d), grad_reads.view(t * b, d, 1))
        grad_write, grad_erase, grad_add = (
            torch.zeros_like(write_t),
            torch.zeros_like(erase_t),
            torch.zeros_like(add_t),
        )
        grad_memory = torch.zeros(b, n, d, dtype=memories.dtype, device=memories.device)  # dL/dM_{s+1}
        one = grad_memory.new_ones(())
        for step in range(t - 1, -1, -1):
            if step < t - 1:  # M_{s+1} = M_s * (1 - w e^T) + w a^T
                w, e, a = write_t[step], erase_t[step], add_t[step]  # [B, N], [B, D], [B, D]
                scaled = grad_memory * memories[step]
                torch.bmm(grad_memory, a[:, :, None], out=grad_write[step, :, :, None])
                grad_write[step] -= torch.bmm(scaled, e[:, :, None]).squeeze(-1)
                torch.bmm(w[:, None, :], scaled, out=grad_erase[step, :, None, :])
                torch.bmm(w[:, None, :], grad_memory, out=grad_add[step, :, None, :])
                grad_memory.mul_(torch.addcmul(one, w[:, :, None], e[:, None, :], value=-1.0))
            grad_memory.baddbmm_(read_t[step, :, :, None], grad_reads[step, :, None, :])
        return (
            grad_read_w.view(t, b, n).transpose(0, 1),
            grad_write.transpose(0, 1),
            grad_erase.neg_().transpose(0, 1),
            grad_add.transpose(0, 1),
            grad_memory,
        )


class DKVMN(nn.Module):
    """Key-value memory knowledge tracing over skill ids.

    Args:
        n_skills: skills seen in training (ids 1..n_skills; 0 is padding or unseen).
        memory_size: latent concepts ``N`` (memory slots).
        key_dim: width of the skill (key) embedding and of the key memory.
        value_dim: width of the answer (value) embedding and of the value memory.
        summary_dim: width of the summary layer ``f_t`` before the output.
        dropout: dropout on the summary before the output (the published model has none; pyKT uses 0.2).
        init_std: standard deviation of the normal initialisation of both memories (the embeddings keep
            torch's ``N(0, 1)``, so that the correlation weights start spread but not uniform).
    """

    def __init__(
        self,
        n_skills: int,
        memory_size: int = 20,
        key_dim: int = 50,
        value_dim: int = 200,
        summary_dim: int = 50,
        dropout: float = 0.0,
        init_std: float = 0.1,
    ) -> None:
        super().__init__()
        raise_problems(
            "DKVMN",
            self.check_args(
                {
                    "n_skills": n_skills,
                    "memory_size": memory_size,
                    "key_dim": key_dim,
                    "value_dim": value_dim,
                    "summary_dim": summary_dim,
                    "dropout": dropout,
                    "init_std": init_std,
                }
            ),
        )
        self.key_embedding = nn.Embedding(n_skills + 1, key_dim, padding_idx=0)  # A
        self.value_embedding = nn.Embedding(2 * (n_skills + 1), value_dim, padding_idx=0)  # B
        self.key_memory = nn.Parameter(torch.empty(memory_size, key_dim))  # M^k
        self.initial_value = nn.Parameter(torch.empty(memory_size, value_dim))  # M^v_0
        for memory in (self.key_memory, self.initial_value):
            nn.init.normal_(memory, std=init_std)
        self.erase = nn.Linear(value_dim, value_dim)  # E, b_e
        self.add = nn.Linear(value_dim, value_dim)  # D, b_a
        self.summary = nn.Linear(value_dim + key_dim, summary_dim)  # W_1, b_1
        self.dropout = LaneDropout(dropout)
        self.out = nn.Linear(summary_dim, 1)  # w_2, b_2

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the network's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        for name in ("n_skills", "memory_size", "key_dim", "value_dim", "summary_dim"):
            checks.integer(name, 1)
        checks.in_range("dropout", 0.0, 1.0)
        checks.at_least("init_std", 0.0)
        return checks.problems

    def attention(self, skill: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Key embeddings ``k [B, T, key_dim]`` and correlation weights ``w [B, T, N]`` of each step's skill."""
        k = self.key_embedding(skill)
        return k, torch.softmax(k @ self.key_memory.T, dim=-1)

    def reads(self, batch: dict[str, torch.Tensor], k: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Read contents ``r [B, T, value_dim]``: ``r_t`` reads the value memory as steps ``< t`` left it."""
        skill = batch["skill"]  # [B, T]
        answer = (skill * 2 + batch["correct"].long()) * (skill > 0)
        v = self.value_embedding(answer)  # [B, T, Dv]
        writes = (skill > 0).unsqueeze(-1).to(w.dtype) * w  # padding and unseen skills write nothing
        initial = self.initial_value.expand(len(skill), -1, -1)  # M^v_0, [B, N, Dv]
        erase, add = torch.sigmoid(self.erase(v)), torch.tanh(self.add(v))
        dtype = initial.dtype  # the memory's, whatever autocast gave the layers; the recurrence runs in it
        with torch.autocast(initial.device.type, enabled=False):
            return MemoryReads.apply(w.to(dtype), writes.to(dtype), erase.to(dtype), add.to(dtype), initial)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits ``[B, T]``: position ``t`` predicts step ``t`` from steps ``< t`` and its skill."""
        return self.row_logits(self.row_features(batch))

    def row_logits(self, features: torch.Tensor) -> torch.Tensor:
        """The output layer (dropout, then ``w_2 . f + b_2``): logits ``[...]`` of summaries
        ``[..., summary_dim]``."""
        return self.out(self.dropout(features)).squeeze(-1)

    def row_features(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The summaries ``f_t`` the output layer reads at every row, ``[B, T, summary_dim]`` (averaged
        over a question's concept rows by pyKT's early fusion, :mod:`ktlab.evaluation.pykt`)."""
        k, w = self.attention(batch["skill"])
        read = self.reads(batch, k, w).to(k.dtype)  # r_t from M^v_{t-1}
        return torch.tanh(self.summary(torch.cat([read, k], dim=-1)))
