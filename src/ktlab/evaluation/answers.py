"""The per-answer predictions of a split, for a run folder: every metric can be recomputed from them."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import torch

from ktlab.evaluation.evaluator import Evaluator

log = logging.getLogger(__name__)


def answer_predictions(model: torch.nn.Module, datamodule: Any, split: str) -> pd.DataFrame | None:
    """One row per scored answer of ``split`` (see :meth:`Evaluator.predictions`), or None.

    None when the DataModule keeps no encoded windows to map answers back to their rows (the
    question-text students, whose metrics come from their test step alone).
    """
    datasets = getattr(datamodule, "datasets", {})
    parts = getattr(datamodule, "parts", {})
    dataset = datasets.get(split)
    rows = getattr(getattr(dataset, "encoded", None), "source_rows", None)
    if rows is None or split not in parts:
        log.info("per-answer predictions are written for the sequence models only")
        return None
    evaluator = Evaluator()
    evaluator.run(model, datamodule.dataloader(split, shuffle=False))
    return evaluator.predictions(parts[split], rows)
