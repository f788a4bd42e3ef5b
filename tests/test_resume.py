"""Resuming a run into its own folder: last.ckpt is the last epoch, and the run goes on as if never stopped."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from omegaconf import DictConfig

from ktlab.train import train
from tests.conftest import TINY_DATA, TINY_MODEL, compose_config

#: A tiny run whose validation AUC goes down after its best epoch (a large learning rate), so the last
#: epoch is not the best one.
NOISY = [
    *TINY_DATA,
    *TINY_MODEL,
    "model.optimizer.lr=0.2",
    "callbacks.early_stopping.patience=10",
    "callbacks.progress_bar=null",
    "callbacks.model_summary=null",
]


def _run(folder: Path, *overrides: str) -> DictConfig:
    return compose_config("train", [*NOISY, *overrides], folder)


def _epoch(path: Path) -> int:
    return torch.load(path, map_location="cpu", weights_only=True)["epoch"]


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "csv" / "metrics.csv", newline="") as file:
        return list(csv.DictReader(file))


def test_last_checkpoint_is_the_last_epoch_and_best_the_best(tmp_path: Path) -> None:
    # "best" is the lowest validation AUC here, the untrained first epoch's, so it is not the last epoch
    cfg = compose_config(
        "train",
        [*TINY_DATA, *TINY_MODEL, "trainer.max_epochs=4", "callbacks.model_checkpoint.mode=min",
         "callbacks.early_stopping=null", "callbacks.progress_bar=null"],
        tmp_path,
    )  # fmt: skip
    train(cfg)
    out = Path(cfg.paths.output_dir)
    val_auc = [float(r["val/auc"]) for r in _rows(out) if r["val/auc"]]
    assert len(val_auc) == 4
    best = min(range(4), key=lambda e: (val_auc[e], e))
    assert best != 3  # the case this test is about: the last epoch is not the best
    assert _epoch(out / "checkpoints" / "last.ckpt") == 3
    assert _epoch(out / "checkpoints" / "best.ckpt") == best


def test_val_auc_best_is_the_best_of_the_run(tmp_path: Path) -> None:
    metrics = train(_run(tmp_path, "trainer.max_epochs=3"))
    val_auc = [float(r["val/auc"]) for r in _rows(tmp_path / "run") if r["val/auc"]]
    assert metrics["val/auc_best"] == pytest.approx(max(val_auc))


@pytest.mark.slow
def test_a_resumed_run_ends_as_the_uninterrupted_one(tmp_path: Path) -> None:
    whole_cfg = _run(tmp_path / "whole", "trainer.max_epochs=6")
    whole = train(whole_cfg)
    train(_run(tmp_path / "parts", "trainer.max_epochs=3"))
    resumed_cfg = _run(tmp_path / "parts", "trainer.max_epochs=6", "ckpt_path=last")
    resumed = train(resumed_cfg)

    assert resumed.keys() == whole.keys()
    for key, value in whole.items():
        assert resumed[key] == pytest.approx(value, abs=1e-6), key
    a, b = Path(whole_cfg.paths.output_dir), Path(resumed_cfg.paths.output_dir)
    # val/auc_best and best.ckpt were judged on all six epochs, the three before the resume too
    assert _epoch(b / "checkpoints" / "best.ckpt") == _epoch(a / "checkpoints" / "best.ckpt")
    assert _epoch(b / "checkpoints" / "last.ckpt") == 5
    # the history goes on: every earlier row and point is kept, none twice
    assert _rows(b) == _rows(a)
    curves_a, curves_b = (json.loads((out / "curves.json").read_text()) for out in (a, b))
    assert curves_b == curves_a
    assert [e for e, _ in curves_b["train/loss"]] == [0, 1, 2, 3, 4, 5]
