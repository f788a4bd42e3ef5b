"""Tiny question-text configs: a 2-layer, 64-wide ModernBERT on a few dozen generated questions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from omegaconf import DictConfig

TINY_TEXT = [
    "model=modernbert",
    "data=questions_synthetic",
    "data.source.bank.n_questions=48",
    "data.source.students.n_students=24",
    "data.source.students.median_answers=16",
    "data.source.students.min_answers=12",
    "data.source.students.max_answers=40",
    "data.val_fraction=0.2",
    "data.test_fraction=0.2",
    "data.batch_size=32",
    "model.encoder.hidden_size=64",
    "model.encoder.intermediate_size=64",
    "model.encoder.num_hidden_layers=2",
    "trainer.max_epochs=1",
    "trainer.log_every_n_steps=1",
    "callbacks.progress_bar=null",
    "callbacks.model_summary=null",
]


@pytest.fixture
def text_cfg(make_cfg) -> Callable[..., DictConfig]:
    """``text_cfg("model.net._target_=ktlab.models.components.text_encoder.PerStudentNet", ...)``: a tiny question-text training config under tmp_path."""

    def _make(*overrides: str) -> DictConfig:
        return make_cfg("train", *TINY_TEXT, *overrides)

    return _make


@pytest.fixture
def answers_csv(tmp_path: Path) -> Path:
    from tests.conftest import ASSETS

    return ASSETS / "text_answers_sample.csv"
