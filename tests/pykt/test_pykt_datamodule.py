"""The pyKT DataModule: folds, the validation selection, inputs it refuses, and the kept checkpoint."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from ktlab.callbacks.gain_checkpoint import GainCheckpoint
from ktlab.data.pykt.datamodule import PyktDataModule
from ktlab.errors import DataValidationError
from tests.conftest import ASSETS
from tests.pykt.conftest import FIXTURE

ASSIST2015 = ASSETS / "kt" / "assist2015_pykt"


def test_the_validation_fold_is_held_out_and_first_rows_drop_copies(tmp_path: Path) -> None:
    skill = PyktDataModule(dir=str(FIXTURE), max_len=20, fold=2)
    skill.setup()
    first = PyktDataModule(dir=str(FIXTURE), max_len=20, fold=2, selection="first_rows")
    first.setup()
    assert len(skill.sets["train"]) + len(skill.sets["val"]) == 111  # train_valid_sequences.csv
    a, b = next(iter(skill.val_dataloader())), next(iter(first.val_dataloader()))
    assert a["copy"].any()
    assert torch.equal(b["select"], a["select"] & ~a["copy"])
    assert torch.equal(
        next(iter(first.train_dataloader()))["select"], next(iter(skill.train_dataloader()))["select"]
    )
    assert first.protocol_record()["selection"] == "first_rows"


def test_processed_files_without_questions_serve_concepts_as_skills() -> None:
    data = PyktDataModule(dir=str(ASSIST2015), max_len=50)
    data.setup()
    assert "test_question_sequences" not in data.sets  # concept-only data: no question level
    batch = next(iter(data.test_dataloader()))
    assert "problem" not in batch and int(batch["skill"].max()) <= data.model_inputs()["dims"]["n_skills"]


def test_a_folder_without_pykt_files_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"needs train_valid\.csv and test\.csv"):
        PyktDataModule(dir=str(tmp_path)).setup()


def test_the_built_files_never_go_into_the_input_folder() -> None:
    with pytest.raises(DataValidationError, match="is the input folder"):
        PyktDataModule(dir=str(FIXTURE), max_len=20, cache_dir=str(FIXTURE)).setup()


def test_the_best_checkpoint_moves_only_on_a_gain_above_min_delta(tmp_path: Path) -> None:
    keeper = GainCheckpoint(dirpath=str(tmp_path), monitor="val/auc", mode="max", min_delta=0.001)
    keeper.best_k_models = {"kept.ckpt": torch.tensor(0.700)}
    keeper.kth_best_model_path = "kept.ckpt"
    trainer = SimpleNamespace(strategy=SimpleNamespace(reduce_boolean_decision=lambda decision: decision))
    assert not keeper.check_monitor_top_k(trainer, torch.tensor(0.7005))
    assert keeper.check_monitor_top_k(trainer, torch.tensor(0.7020))
