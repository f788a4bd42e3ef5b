"""The per-answer predictions of a split, for a run folder: every metric can be recomputed from them.

They are kept during the one test pass that also computes the metrics (:class:`AnswerRecorder`, a Lightning
callback reading the logits each ``test_step`` returns), so ``eval.py`` runs the model over a split once.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from lightning import Callback, LightningModule, Trainer

from ktlab.evaluation.evaluator import Evaluator

log = logging.getLogger(__name__)


class AnswerRecorder(Callback):
    """Keeps the predictions of every test batch, then maps them back to the split's answers.

    Sequence models (``test_step`` returns logits ``[B, T]``): the model's protocol decides which positions
    are kept, through an :class:`~ktlab.evaluation.Evaluator`. Question-text students (logits ``[B]``, batches
    carry ``answer``, the answer's row in the split): every answer.
    """

    def __init__(self) -> None:
        self.evaluator: Evaluator | None = None
        self._answer: list[torch.Tensor] = []
        self._prob: list[torch.Tensor] = []

    def on_test_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.evaluator = Evaluator(getattr(pl_module, "protocol", None))
        self._answer, self._prob = [], []

    def on_test_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not isinstance(outputs, torch.Tensor):
            return
        if outputs.dim() == 2:
            self.evaluator.update(batch, outputs)
        elif "answer" in batch:
            self._answer.append(batch["answer"].cpu())
            self._prob.append(torch.sigmoid(outputs.float()).cpu())

    def table(self, datamodule: Any, split: str) -> pd.DataFrame | None:
        """One row per scored answer of ``split`` with its label and predicted probability, or None.

        The sequence models: ``student_id, t, problem_id, skill_id, correct, p_correct`` (see
        :meth:`Evaluator.predictions`). The question-text students: ``student_id, problem_id, correct,
        p_correct``, every answer of the split. None when the DataModule keeps no per-answer split to map
        predictions back to.
        """
        parts = getattr(datamodule, "parts", {})
        if split not in parts:
            log.info("no per-answer predictions: the data keeps no %s split of answers", split)
            return None
        if self._answer:
            return _question_table(parts[split], torch.cat(self._answer), torch.cat(self._prob))
        dataset = getattr(datamodule, "datasets", {}).get(split)
        rows = getattr(getattr(dataset, "encoded", None), "source_rows", None)
        if rows is None or self.evaluator is None or not self.evaluator.labels.size:
            log.info(
                "no per-answer predictions: %s maps no answer back to its row", type(datamodule).__name__
            )
            return None
        return self.evaluator.predictions(parts[split], rows)


def _question_table(part: pd.DataFrame, answer: torch.Tensor, prob: torch.Tensor) -> pd.DataFrame:
    """The question-text students' probability for every answer of a split, in the split's order.

    ``correct`` is the 0/1 answer, or the question's observed success rate where the model was trained on
    rates (direct difficulty regression, one row per question).
    """
    p = np.full(len(part), np.nan)
    p[answer.numpy()] = prob.numpy()
    observed = part["correct"].to_numpy(dtype=np.float64)
    answers = np.isin(observed, (0.0, 1.0)).all()
    return pd.DataFrame(
        {
            "student_id": part["student_id"].to_numpy(),
            "problem_id": part["problem_id"].to_numpy(),
            "correct": observed.astype(int) if answers else observed,
            "p_correct": p,
        }
    )
