"""The evaluator: one place that scores a sequence model on a split.

Training's test, ``eval.py``, the benchmark runner and the bench scripts all call it (or share its
protocol and metrics), so which answers count and how each metric is computed cannot drift apart. It can
also keep one row per scored answer (learner, position, question, skill, label, probability), from which
every metric can be recomputed without the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import torch

from ktlab.evaluation.metrics import binary_scores, defined_auc
from ktlab.evaluation.protocols import NextStepProtocol, Protocol

#: The columns of the per-answer predictions file.
PREDICTION_COLUMNS = ("student_id", "t", "problem_id", "skill_id", "correct", "p_correct")


class Evaluator:
    """Collects the scored predictions of batches, then computes the metrics and the prediction table.

    Args:
        protocol: which positions are scored (default: :class:`NextStepProtocol`).
    """

    def __init__(self, protocol: Protocol | None = None) -> None:
        self.protocol = protocol or NextStepProtocol()
        self.reset()

    def reset(self) -> None:
        """Forget every collected prediction."""
        self._prob: list[torch.Tensor] = []
        self._label: list[torch.Tensor] = []
        self._row: list[torch.Tensor] = []
        self._oracle: list[torch.Tensor] = []

    def update(self, batch: dict[str, torch.Tensor], logits: torch.Tensor) -> None:
        """Keep the scored positions of one batch (``logits`` ``[B, T]``)."""
        scored = self.protocol.scored(batch)
        self._prob.append(torch.sigmoid(logits.detach()[scored].float()).cpu())
        self._label.append(batch["correct"][scored].long().cpu())
        if "row" in batch:
            self._row.append(batch["row"][scored].cpu())
        if "p_true" in batch:
            self._oracle.append(batch["p_true"][scored].float().cpu())

    @torch.no_grad()
    def run(
        self, model: torch.nn.Module, batches: Iterable[dict[str, torch.Tensor]]
    ) -> dict[str, float | None]:
        """Score ``model`` (logits ``[B, T]`` per batch) on every batch and return :meth:`metrics`."""
        self.reset()
        model.eval()
        for batch in batches:
            self.update(batch, model(batch))
        return self.metrics()

    @property
    def probabilities(self) -> np.ndarray:
        return torch.cat(self._prob).numpy() if self._prob else np.zeros(0, np.float32)

    @property
    def labels(self) -> np.ndarray:
        return torch.cat(self._label).numpy() if self._label else np.zeros(0, np.int64)

    def metrics(self, prefix: str = "") -> dict[str, float | None]:
        """``auc, acc, brier, ece, answers`` and, where true probabilities are known, ``oracle_auc``."""
        values = binary_scores(self.probabilities, self.labels)
        if self._oracle:
            oracle = torch.cat(self._oracle).numpy()
            known = np.isfinite(oracle)
            if known.any():
                values["oracle_auc"] = defined_auc(oracle[known], self.labels[known])
        return {f"{prefix}{key}": value for key, value in values.items()}

    def predictions(self, frame: pd.DataFrame, source_rows: np.ndarray) -> pd.DataFrame:
        """One row per scored answer: ``student_id, t, problem_id, skill_id, correct, p_correct``.

        Args:
            frame: the table the batches were encoded from.
            source_rows: for each encoded row, its position in ``frame``
                (:attr:`~ktlab.data.encoding.EncodedInteractions.source_rows`).
        """
        if not self._row:
            raise ValueError("the batches carried no 'row' key: per-answer predictions need it")
        rows = source_rows[torch.cat(self._row).numpy()]
        picked = frame.iloc[rows]
        out = pd.DataFrame(
            {
                "student_id": picked["student_id"].to_numpy(),
                "t": picked["t"].to_numpy(),
                "problem_id": picked["problem_id"].to_numpy() if "problem_id" in picked else None,
                "skill_id": picked["skill_id"].to_numpy(),
                "correct": self.labels,
                "p_correct": self.probabilities,
            },
            columns=list(PREDICTION_COLUMNS),
        )
        return out.sort_values(["student_id", "t"], kind="stable").reset_index(drop=True)


def scores_by_group(predictions: pd.DataFrame, column: str | Sequence[str]) -> pd.DataFrame:
    """The metrics of a predictions table per value of ``column`` (e.g. ``skill_id``), one row each."""
    rows = []
    for key, part in predictions.groupby(column, sort=True):
        rows.append(
            {
                column if isinstance(column, str) else "group": key,
                **binary_scores(part["p_correct"], part["correct"]),
            }
        )
    return pd.DataFrame(rows)
