"""The per-answer predictions of a split, for a run folder: every metric can be recomputed from them."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch

from ktlab.evaluation.evaluator import Evaluator

log = logging.getLogger(__name__)


def answer_predictions(model: torch.nn.Module, datamodule: Any, split: str) -> pd.DataFrame | None:
    """One row per scored answer of ``split`` with its label and predicted probability, or None.

    The sequence models: ``student_id, t, problem_id, skill_id, correct, p_correct`` (see
    :meth:`Evaluator.predictions`). The question-text students (a model with ``success_probability``):
    ``user_id, question_id, correct, p_correct``, every answer of the split. None when the DataModule keeps
    no per-answer split to map predictions back to.
    """
    datasets = getattr(datamodule, "datasets", {})
    parts = getattr(datamodule, "parts", {})
    if split not in parts or split not in datasets:
        log.info("no per-answer predictions: the data keeps no %s split of answers", split)
        return None
    if hasattr(model, "success_probability"):
        return _question_answers(model, datamodule, split)
    rows = getattr(getattr(datasets[split], "encoded", None), "source_rows", None)
    if rows is None:
        log.info("no per-answer predictions: %s maps no answer back to its row", type(datamodule).__name__)
        return None
    evaluator = Evaluator()
    evaluator.run(model, datamodule.dataloader(split, shuffle=False))
    return evaluator.predictions(parts[split], rows)


@torch.no_grad()
def _question_answers(model: Any, datamodule: Any, split: str) -> pd.DataFrame:
    """The question-text students' probability for every answer of ``split`` (batches carry ``answer``)."""
    part = datamodule.parts[split]
    p = np.full(len(part), np.nan)
    model.eval()
    for batch in datamodule.dataloader(split, shuffle=False):
        p[batch["answer"].numpy()] = model.success_probability(batch).float().numpy()
    return pd.DataFrame(
        {
            "user_id": part["user_id"].to_numpy(),
            "question_id": part["question_id"].to_numpy(),
            "correct": part["is_correct"].astype(int).to_numpy(),
            "p_correct": p,
        }
    )
