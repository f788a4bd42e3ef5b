"""Shared by the real-data benchmarks: fit one sequence model from composed config, keep its best epoch.

``fit(overrides, ...)`` composes ``conf/train.yaml`` with the overrides, trains with Lightning (no logger,
checkpoints in a temporary folder) and reloads the epoch of best validation AUC; ``fit_and_score(overrides,
...)`` also scores the test learners with :func:`ktlab.evaluation.held_out.held_out_scores` (seen / unseen /
all answers; with no question held out every answer is "seen").
"""

from __future__ import annotations

import logging
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

from ktlab.evaluation.held_out import held_out_scores

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = str(ROOT / "conf")


def quiet() -> None:
    """Keep Lightning's and the data layer's progress messages out of a benchmark's output."""
    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "ktlab", "transformers"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")


def fit(overrides: list[str], epochs: int, patience: int = 3) -> tuple[Any, Any, dict[str, Any]]:
    """Train the configured model; return it at its epoch of best validation AUC, its data module, and
    ``{"epochs", "best_val_auc", "seconds"}``."""
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("train.yaml", overrides=overrides)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    start = time.perf_counter()
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    model = instantiate(cfg.model, inputs=datamodule.model_inputs(), data=None)
    with tempfile.TemporaryDirectory() as tmp:
        best = ModelCheckpoint(dirpath=tmp, monitor="val/auc", mode="max", save_top_k=1)
        trainer = L.Trainer(
            accelerator="cpu",
            devices=1,
            max_epochs=epochs,
            gradient_clip_val=1.0,
            logger=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            use_distributed_sampler=False,
            callbacks=[best, EarlyStopping(monitor="val/auc", mode="max", patience=patience)],
            default_root_dir=tmp,
        )
        trainer.fit(model, datamodule=datamodule)
        state = torch.load(best.best_model_path, map_location="cpu", weights_only=False)["state_dict"]
        model.load_state_dict(state)
        epochs_run = trainer.current_epoch
    info = {
        "epochs": int(epochs_run),
        "best_val_auc": float(best.best_model_score) if best.best_model_score is not None else None,
        "seconds": round(time.perf_counter() - start, 1),
    }
    return model, datamodule, info


def fit_and_score(overrides: list[str], epochs: int, patience: int = 3) -> dict[str, Any]:
    """Train the configured model and return its test scores (``seen``, ``unseen``, ``all``) and timing."""
    model, datamodule, info = fit(overrides, epochs, patience)
    start = time.perf_counter()
    scores = held_out_scores(model, datamodule.dataloader("test"))
    info["seconds"] = round(info["seconds"] + time.perf_counter() - start, 1)
    return {"scores": scores, **info}
