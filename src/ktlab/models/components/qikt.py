"""QIKT (Chen, Liu, Huang, Wu, Chen, Wu, Su and Ma, 2023, AAAI): question-centric interpretable knowledge tracing.

Each step is a question ``q_t`` (its problem id where the data has them, else its skill id) tagged with a
concept ``c_t`` (the skill). Embeddings ``E_q[q_t]`` and ``E_c[c_t]`` (``dim`` each) make the question
representation ``qc_t = [E_q[q_t] ; E_c[c_t]]``; an answer ``r_t`` is folded in by placing the
representation in the half of a vector twice as wide that belongs to the answer (``[x (1 - r) ; x r]``).
Two knowledge acquisition modules read the answered steps:

    h^q_t = LSTM_q([qc_t (1 - r_t) ; qc_t r_t])          question-centric      [dim]
    h^c_t = LSTM_c([E_c (1 - r_t) ; E_c r_t])            concept-centric       [dim]

and three modules score the question of step ``t`` from the states before its answer (``h_{-1} = 0``)::

    question-centric problem solving:  a_t = MLP_q(h^q_{t-1})[q_t]                 (one output per question)
    question-agnostic knowledge state: s_t = MLP_s(h^c_{t-1})[c_t]                 (one output per concept)
    knowledge acquisition:             g_t = MLP_a([qc_t ; h^c_{t-1}])[c_t]        (one output per concept)

The prediction is IRT-style, a sum of the modules' logits (``output_weights``; the published model and
pyKT's ``an_irt`` output mode combine them as ``sigmoid(sum_i lambda_i * logit(y_i))``)::

    logit_t = l_q a_t + l_s s_t + l_a g_t

Each module's own binary cross-entropy can be added to the training loss (``aux_weights``; returned as the
``aux_loss`` of a :class:`~ktlab.models.output.NetOutput`). Step ``t``'s answer enters only ``h_t``, which
no prediction of step ``<= t`` reads.

Differences from the published model: one concept per step (ktlab's batches give each row one skill; a
problem of several skills is several rows), and the per-question and per-concept outputs read only the row
of the question or concept asked, the same value for ``K`` times fewer products.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.models.components.cell_autocast import run_cell
from ktlab.models.components.dropout import LaneDropout
from ktlab.models.output import NetOutput

#: The three modules, in the order of ``output_weights`` and ``aux_weights``.
MODULES = ("problem_solving", "knowledge_state", "knowledge_acquisition")


class RowHead(nn.Module):
    """An MLP with one output per id, of which only the asked id's is computed.

    ``n_layers`` hidden layers as wide as the input (ReLU), dropout, then the output row of each step's id:
    ``logit = W[id] . z + b[id]``. Id 0 (padding or unseen in training) has a zero row and bias: logit 0.
    """

    def __init__(self, in_dim: int, n_ids: int, n_layers: int, dropout: float) -> None:
        super().__init__()
        self.hidden = nn.Sequential(
            *(m for _ in range(n_layers) for m in (nn.Linear(in_dim, in_dim), nn.ReLU()))
        )
        self.dropout = LaneDropout(dropout)
        self.rows = nn.Embedding(n_ids + 1, in_dim, padding_idx=0)
        self.bias = nn.Embedding(n_ids + 1, 1, padding_idx=0)
        nn.init.uniform_(self.rows.weight, -(in_dim**-0.5), in_dim**-0.5)  # nn.Linear's initialisation
        nn.init.zeros_(self.bias.weight)
        with torch.no_grad():
            self.rows.weight[0].zero_()

    def forward(self, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, T]`` of ``x [B, T, in_dim]`` at ``ids [B, T]``."""
        z = self.dropout(self.hidden(x))
        return (z * self.rows(ids)).sum(-1) + self.bias(ids).squeeze(-1)


class QIKT(nn.Module):
    """Question-centric interpretable knowledge tracing.

    Args:
        n_skills: skills (concepts) seen in training (ids 1..n_skills; 0 is padding or unseen).
        n_problems: problems seen in training (0: the data has no problem ids and questions are skills).
        dim: width of each embedding and of both recurrent states.
        dropout: dropout on the recurrent states and before each module's output.
        mlp_layers: hidden layers of each module's MLP.
        output_weights: weights of the problem solving, knowledge state and knowledge acquisition logits
            in the prediction.
        aux_weights: weights of the same modules' own losses added to the training loss (0: none).
    """

    def __init__(
        self,
        n_skills: int,
        n_problems: int = 0,
        dim: int = 300,
        dropout: float = 0.4,
        mlp_layers: int = 2,
        output_weights: Sequence[float] = (1.0, 1.0, 1.0),
        aux_weights: Sequence[float] = (0.0, 0.0, 0.0),
    ) -> None:
        super().__init__()
        raise_problems(
            "QIKT",
            self.check_args(
                {
                    "n_skills": n_skills,
                    "n_problems": n_problems,
                    "dim": dim,
                    "dropout": dropout,
                    "mlp_layers": mlp_layers,
                    "output_weights": output_weights,
                    "aux_weights": aux_weights,
                }
            ),
        )
        self.by_problem = n_problems > 0
        n_questions = n_problems if self.by_problem else n_skills
        self.question = nn.Embedding(n_questions + 1, dim, padding_idx=0)  # E_q
        self.concept = nn.Embedding(n_skills + 1, dim, padding_idx=0)  # E_c
        self.question_lstm = nn.LSTM(4 * dim, dim, batch_first=True)
        self.concept_lstm = nn.LSTM(2 * dim, dim, batch_first=True)
        self.dropout = LaneDropout(dropout)
        self.problem_solving = RowHead(dim, n_questions, mlp_layers, dropout)
        self.knowledge_state = RowHead(dim, n_skills, mlp_layers, dropout)
        self.knowledge_acquisition = RowHead(3 * dim, n_skills, mlp_layers, dropout)
        self.register_buffer("output_weights", torch.tensor(list(output_weights), dtype=torch.float32))
        self.register_buffer("aux_weights", torch.tensor(list(aux_weights), dtype=torch.float32))

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the network's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.integer("n_skills", 1)
        checks.integer("n_problems", 0)
        checks.integer("dim", 1)
        checks.integer("mlp_layers", 0)
        checks.in_range("dropout", 0.0, 1.0)
        for name in ("output_weights", "aux_weights"):
            checks.require(
                name,
                lambda v: isinstance(v, Sequence) and len(v) == 3 and all(float(x) >= 0 for x in v),
                f"must be three weights >= 0 ({', '.join(MODULES)})",
            )
        return checks.problems

    def questions(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Question ids ``[B, T]``: problem ids when the network was built for them, else skill ids."""
        if not self.by_problem:
            return batch["skill"]
        if "problem" not in batch:
            raise ValueError("QIKT was built for problem ids (n_problems > 0) but the batch has none")
        return batch["problem"]

    def module_logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The three modules' logits ``[3, B, T]`` (order of :data:`MODULES`); ``[:, :, t]`` reads steps ``< t``."""
        skill = batch["skill"]  # [B, T]
        question = self.questions(batch)
        correct = batch["correct"].unsqueeze(-1).to(self.concept.weight.dtype)  # [B, T, 1]
        e_c = self.concept(skill)  # [B, T, D]
        qc = torch.cat([self.question(question), e_c], dim=-1)  # [B, T, 2D]
        h_q = run_cell(self.question_lstm, torch.cat([qc * (1 - correct), qc * correct], dim=-1))
        h_c = run_cell(self.concept_lstm, torch.cat([e_c * (1 - correct), e_c * correct], dim=-1))
        # the states before each step: h_{t-1}, h_{-1} = 0
        h_q, h_c = (self.dropout(F.pad(h[:, :-1], (0, 0, 1, 0))) for h in (h_q, h_c))
        return torch.stack(
            [
                self.problem_solving(h_q, question),
                self.knowledge_state(h_c, skill),
                self.knowledge_acquisition(torch.cat([qc, h_c], dim=-1), skill),
            ]
        )

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor | NetOutput:
        """Logits ``[B, T]``: position ``t`` predicts step ``t`` from steps ``< t`` and its question."""
        modules = self.module_logits(batch)  # [3, B, T]
        logits = torch.einsum("m,mbt->bt", self.output_weights.to(modules.dtype), modules)
        if not self.training or not bool(self.aux_weights.any()):
            return logits
        mask = batch["mask"].to(modules.dtype)
        targets = batch["correct"].to(modules.dtype).expand_as(modules)
        losses = F.binary_cross_entropy_with_logits(modules.float(), targets.float(), reduction="none")
        per_module = (losses * mask).sum((1, 2)) / mask.sum().clamp_min(1.0)  # [3]
        return NetOutput(logits, (self.aux_weights * per_module).sum())
