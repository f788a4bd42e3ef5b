"""Recurrent knowledge tracer: DKT (Piech et al., 2015) with context signals in its input and query.

At every step ``t`` the recurrent cell reads

    x_t = [ answer embedding of (skill_t, correct_t) ; context signals of step t ; phase_t one-hot ]

so its state ``h_t`` summarizes the answers up to and including ``t``. The success logit of step ``t`` is
read from the state *before* that answer, ``h_{t-1}`` (zeros at ``t = 0``), joined with a query made only
of what is known before step ``t`` is answered::

    q_t = [ skill_t embedding ; known-before signals of step t (difficulty, adjustment) ; phase_t one-hot ]
    logit_t = MLP([h_{t-1} ; q_t])

Nothing measured while answering step ``t`` (its time, its correctness, the affect measured then) can
reach ``logit_t``. Skill id 0 (padding or a skill unseen in training) has a zero embedding.

With problem ids (``n_problems > 0``, e.g. ``data=assist2009_pid``) both embeddings are moved by the
problem's Rasch difficulty, as in AKT (:mod:`ktlab.models.components.rasch`): the answer embedding by
``mu[problem_t] * f[skill_t, correct_t]`` and the skill embedding of the query by
``mu[problem_t] * d[skill_t]``; ``rasch_l2 * sum(mu ** 2)`` is the training ``aux_loss``. With
``problem_history`` the query also holds what the learner did the last time they met the same problem
(:mod:`ktlab.models.components.problem_history`: seen before, right then, and whether it is the step just
before), read from earlier answers only. With question texts (``item_vec_dim > 0``,
:mod:`ktlab.models.components.item_text`) the answered question's projected text is added to the answer
embedding and the asked question's to the skill embedding of the query; with problem ids and
``text_difficulty`` a scalar read from the text is also added to the problem's Rasch difficulty (the text
explains what it can of each question's difficulty, the penalised ``mu`` of a seen question the rest, and a
question unseen in training keeps the text's part).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.models.components.cell_autocast import run_cell
from ktlab.models.components.item_text import check_text_args, difficulty_offset, item_text
from ktlab.models.components.problem_history import WIDTH as HISTORY_WIDTH
from ktlab.models.components.problem_history import problem_history
from ktlab.models.components.rasch import RaschShift
from ktlab.models.output import NetOutput

CELLS: dict[str, type[nn.RNNBase]] = {"gru": nn.GRU, "lstm": nn.LSTM}


class RecurrentTracer(nn.Module):
    """GRU/LSTM knowledge tracer with context-enriched inputs and a known-before query.

    Args:
        n_skills: number of skills seen in training (ids 1..n_skills; 0 is padding/unseen).
        n_phases: number of learning phases seen in training (ids 1..n_phases; 0 is unseen).
        context_dim: numeric signals per answered step.
        query_dim: numeric known-before signals per predicted step.
        phase_in_context: whether the answered step's phase is an input.
        phase_in_query: whether the predicted step's phase is part of the query.
        cell: ``"gru"`` or ``"lstm"``.
        embed_dim: width of the answer and skill embeddings.
        hidden_dim: recurrent state width.
        num_layers: stacked recurrent layers.
        dropout: dropout between recurrent layers and in the prediction head.
        head_dim: hidden width of the prediction head.
        n_problems: problems seen in training (0: no problem ids, skills only).
        rasch_l2: weight of the L2 penalty on the problems' Rasch difficulties.
        problem_history: with problem ids, add the learner's last answer on the same problem to the query.
        item_vec_dim: width of the question-text vectors (0: the data gives none).
        text_dropout: dropout on the question-text vectors.
        text_rank: width of the layer the question-text vectors are narrowed to.
        text_difficulty: with problem ids and question texts, add a difficulty read from the text to each
            problem's Rasch difficulty.
    """

    def __init__(
        self,
        n_skills: int,
        n_phases: int = 0,
        context_dim: int = 0,
        query_dim: int = 0,
        phase_in_context: bool = False,
        phase_in_query: bool = False,
        cell: str = "gru",
        embed_dim: int = 64,
        hidden_dim: int = 128,
        num_layers: int = 1,
        dropout: float = 0.2,
        head_dim: int = 128,
        n_problems: int = 0,
        rasch_l2: float = 3e-4,
        problem_history: bool = True,
        item_vec_dim: int = 0,
        text_dropout: float = 0.5,
        text_rank: int = 16,
        text_difficulty: bool = False,
    ) -> None:
        super().__init__()
        raise_problems(
            "RecurrentTracer",
            self.check_args(
                {
                    "n_skills": n_skills,
                    "n_phases": n_phases,
                    "context_dim": context_dim,
                    "query_dim": query_dim,
                    "cell": cell,
                    "embed_dim": embed_dim,
                    "hidden_dim": hidden_dim,
                    "num_layers": num_layers,
                    "dropout": dropout,
                    "head_dim": head_dim,
                    "n_problems": n_problems,
                    "rasch_l2": rasch_l2,
                    "item_vec_dim": item_vec_dim,
                    "text_dropout": text_dropout,
                    "text_rank": text_rank,
                }
            ),
        )
        self.n_skills = n_skills
        self.n_phases = n_phases
        self.phase_in_context = phase_in_context and n_phases > 0
        self.phase_in_query = phase_in_query and n_phases > 0
        self.answer_embedding = nn.Embedding(2 * (n_skills + 1), embed_dim)
        self.skill_embedding = nn.Embedding(n_skills + 1, embed_dim, padding_idx=0)
        self.rasch = RaschShift(n_problems, n_skills, embed_dim) if n_problems > 0 else None
        self.rasch_l2 = rasch_l2
        self.problem_history = problem_history and n_problems > 0
        self.text = item_text(
            item_vec_dim,
            embed_dim,
            embed_dim,
            text_dropout,
            text_rank,
            difficulty=text_difficulty and n_problems > 0,
        )
        phase_width = n_phases if self.phase_in_context else 0
        self.rnn = CELLS[cell](
            input_size=embed_dim + context_dim + phase_width,
            hidden_size=hidden_dim,
            num_layers=num_layers,
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        query_width = embed_dim + query_dim + (n_phases if self.phase_in_query else 0)
        query_width += HISTORY_WIDTH if self.problem_history else 0
        self.head = nn.Sequential(
            nn.Linear(hidden_dim + query_width, head_dim),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(head_dim, 1),
        )

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the tracer's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.integer("n_skills", 1)
        for name in ("n_phases", "context_dim", "query_dim", "n_problems"):
            checks.integer(name, 0)
        checks.one_of("cell", CELLS)
        for name in ("embed_dim", "hidden_dim", "num_layers", "head_dim"):
            checks.integer(name, 1)
        checks.in_range("dropout", 0.0, 1.0)
        checks.at_least("rasch_l2", 0.0)
        check_text_args(checks)
        return checks.problems

    def _phase_onehot(self, phase: torch.Tensor) -> torch.Tensor:
        return F.one_hot(phase, self.n_phases + 1)[..., 1:].float()  # id 0 -> all zeros

    def _answer_ids(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        skill = batch["skill"]
        return (skill * 2 + batch["correct"].long()) * (skill > 0)  # unseen skills -> ids 0/1 -> zeroed

    def _rasch(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The problem shifts of the query and of the answer embedding (None without problem ids)."""
        if self.rasch is None or "problem" not in batch:
            return None
        offset = difficulty_offset(self.text, batch)
        return self.rasch(batch["problem"], batch["skill"], self._answer_ids(batch), offset)

    def query(
        self,
        skill: torch.Tensor,
        query: torch.Tensor,
        phase: torch.Tensor,
        shift: torch.Tensor | None = None,
        history: torch.Tensor | None = None,
        text: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Known-before description of the step to predict: ``[..., embed + Q (+ P) (+ 3)]``.

        ``shift`` is the problem's Rasch shift of the skill embedding and ``history`` the learner's last
        answer on the same problem, when there are problem ids; ``text`` the question's projected text.
        """
        embedded = self.skill_embedding(skill)
        if text is not None:
            embedded = embedded + text
        parts = [embedded if shift is None else embedded + shift, query]
        if self.phase_in_query:
            parts.append(self._phase_onehot(phase))
        if self.problem_history:
            parts.append(history if history is not None else query.new_zeros(*skill.shape, HISTORY_WIDTH))
        return torch.cat(parts, dim=-1)

    def encode(self, batch: dict[str, torch.Tensor], shift: torch.Tensor | None = None) -> torch.Tensor:
        """States after each answer: ``h[:, t]`` has read steps ``0..t``. Returns ``[B, T, H]``.

        ``shift`` is the problems' Rasch shift of the answer embeddings, when there are problem ids.
        """
        skill = batch["skill"]  # [B, T]
        embedded = self.answer_embedding(self._answer_ids(batch))
        if shift is not None:
            embedded = embedded + shift
        embedded = embedded * (skill > 0).unsqueeze(-1)
        if self.text is not None:
            embedded = embedded + self.text.answer(batch)  # an unseen question's text is known
        parts = [embedded, batch["context"]]
        if self.phase_in_context:
            parts.append(self._phase_onehot(batch["phase"]))
        return run_cell(self.rnn, torch.cat(parts, dim=-1))

    def predict_logits(self, state: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """Success logits from a state and a query of matching leading shape: ``[...]``."""
        return self.head(torch.cat([state, query], dim=-1)).squeeze(-1)

    def next_step_logits(
        self,
        batch: dict[str, torch.Tensor],
        lengths: torch.Tensor,
        skills: torch.Tensor,
        queries: torch.Tensor,
        phase: torch.Tensor,
    ) -> torch.Tensor:
        """Logits ``[B, K]`` of one more step on each candidate skill after each window's last answer.

        The same values as appending each candidate (skill ``skills[b, k]``, known-before signals
        ``queries[b, k]``, phase ``phase[b]``, an unknown problem) to its window and reading
        :meth:`forward` there, with one pass over the history instead of one per candidate.

        Args:
            batch: windows ``[B, T]``; ``lengths`` ``[B]`` their answers (>= 1).
            skills: ``[B, K]`` candidate skill ids; ``queries``: ``[B, K, Q]``; ``phase``: ``[B]``.
        """
        shifts = self._rasch(batch)
        states = self.encode(batch, None if shifts is None else shifts[1])  # [B, T, H]
        last = states[torch.arange(len(lengths)), lengths - 1]  # [B, H]
        # An unknown problem (id 0) has no Rasch shift and no history on the same problem.
        query = self.query(skills, queries, phase.unsqueeze(1).expand_as(skills))  # [B, K, D]
        return self.predict_logits(last.unsqueeze(1).expand(-1, skills.shape[1], -1), query)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor | NetOutput:
        """Logits ``[B, T]``: position ``t`` predicts step ``t`` from steps ``< t`` and its query."""
        shifts = self._rasch(batch)
        query_shift, answer_shift = shifts if shifts is not None else (None, None)
        states = self.encode(batch, answer_shift)  # [B, T, H]
        before = torch.cat([torch.zeros_like(states[:, :1]), states[:, :-1]], dim=1)  # [B, T, H]
        history = None
        if self.problem_history and "problem" in batch:
            history = problem_history(batch["problem"], batch["correct"])
        text = self.text.question(batch) if self.text is not None else None
        logits = self.predict_logits(
            before, self.query(batch["skill"], batch["query"], batch["phase"], query_shift, history, text)
        )
        if not self.training or shifts is None or self.rasch_l2 == 0:
            return logits
        return NetOutput(logits, self.rasch_l2 * self.rasch.penalty())
