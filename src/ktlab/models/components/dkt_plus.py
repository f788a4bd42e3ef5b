"""DKT+ (Yeung and Yeung, 2018): DKT with its reconstruction and waviness regularizers.

With ``y_t = sigmoid(W h_t + b)`` the per-skill success probabilities after step ``t`` (see
:mod:`ktlab.models.components.dkt`), DKT+ adds to the next-step loss, over the real (unpadded) steps:

* reconstruction ``r``: the cross-entropy of ``y_t[skill_t]`` against the answer ``correct_t`` it has
  just read (DKT may otherwise forget the answer it was given), mean over steps;
* waviness ``w1 = mean ||y_t - y_{t-1}||_1 / K`` and ``w2 = mean ||y_t - y_{t-1}||_2^2 / K`` over
  consecutive steps, which keeps the knowledge state from swinging from step to step.

The network returns :class:`~ktlab.models.output.NetOutput` with ``aux_loss = lambda_r * r + lambda_w1
* w1 + lambda_w2 * w2`` while training; the regularizers never touch a prediction. The defaults are the
paper's choice for ASSISTments 2009 (0.1, 0.003, 3.0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.models.components.dkt import DKT
from ktlab.models.output import NetOutput


class DKTPlus(DKT):
    """DKT with the regularizers of DKT+ (the arguments of :class:`DKT`, plus the three weights).

    Args:
        n_skills: skills seen in training.
        cell: ``"lstm"``, ``"gru"`` or ``"rnn"``.
        embed_dim: width of the answer embedding.
        hidden_dim: recurrent state width.
        num_layers: stacked recurrent layers.
        dropout: dropout before the output layer.
        lambda_r: weight of the reconstruction loss.
        lambda_w1: weight of the L1 waviness.
        lambda_w2: weight of the squared L2 waviness.
    """

    def __init__(
        self,
        n_skills: int,
        cell: str = "lstm",
        embed_dim: int = 200,
        hidden_dim: int = 200,
        num_layers: int = 1,
        dropout: float = 0.2,
        lambda_r: float = 0.1,
        lambda_w1: float = 0.003,
        lambda_w2: float = 3.0,
    ) -> None:
        super().__init__(n_skills, cell, embed_dim, hidden_dim, num_layers, dropout)
        weights = {"lambda_r": lambda_r, "lambda_w1": lambda_w1, "lambda_w2": lambda_w2}
        raise_problems("DKTPlus", self.check_args(weights))
        self.lambda_r = lambda_r
        self.lambda_w1 = lambda_w1
        self.lambda_w2 = lambda_w2

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the network's arguments (see :mod:`ktlab.checks`)."""
        problems = DKT.check_args(args)
        checks = Checks(args)
        for name in ("lambda_r", "lambda_w1", "lambda_w2"):
            checks.at_least(name, 0.0)
        return problems + checks.problems

    def regularizers(self, after: torch.Tensor, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``r``, ``w1`` and ``w2`` of a batch, from the logits after each step ``[B, T, K + 1]``."""
        skill, mask = batch["skill"], batch["mask"] & (batch["skill"] > 0)  # [B, T]
        own = after.gather(-1, skill.unsqueeze(-1)).squeeze(-1)  # [B, T] y_t[skill_t], as logits
        weights = mask.float()
        r = F.binary_cross_entropy_with_logits(own, batch["correct"], weight=weights, reduction="sum")
        r = r / weights.sum().clamp(min=1.0)
        y = torch.sigmoid(after[..., 1:])  # [B, T, K]
        diff = y[:, 1:] - y[:, :-1]  # [B, T-1, K]
        pairs = (batch["mask"][:, 1:] & batch["mask"][:, :-1]).float()  # both steps real
        n = pairs.sum().clamp(min=1.0) * self.n_skills
        w1 = (diff.abs().sum(-1) * pairs).sum() / n
        w2 = (diff.pow(2).sum(-1) * pairs).sum() / n
        return {"r": r, "w1": w1, "w2": w2}

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor | NetOutput:
        """Logits ``[B, T]`` (position ``t`` from steps ``< t``); while training, with the regularizers."""
        after = self.all_logits(batch)  # [B, T, K+1]
        before = torch.cat([self.out.bias.expand_as(after[:, :1]), after[:, :-1]], dim=1)
        logits = before.gather(-1, batch["skill"].unsqueeze(-1)).squeeze(-1)
        if not self.training:
            return logits
        reg = self.regularizers(after, batch)
        aux = self.lambda_r * reg["r"] + self.lambda_w1 * reg["w1"] + self.lambda_w2 * reg["w2"]
        return NetOutput(logits, aux)
