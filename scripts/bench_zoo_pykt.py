"""The ``--protocol pykt`` arm of ``scripts/bench_zoo.py``: ktlab's training speed on pyKT's split.

Each model trains through Lightning as ``train.py experiment=pykt data=pykt`` trains it (the chunks of the
folds other than ``fold``, in file order, pyKT's batch sizes), for the first ``max_batches`` batches of
one epoch; answers per second are the answers trained on in those batches over their seconds. pyKT's side
is reported as null with a note: it is not run on this protocol.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate

from ktlab.callbacks.epoch_time import EpochTime

ROOT = Path(__file__).resolve().parents[1]

#: pyKT's batch size on its protocol (256; 64 for its attention models).
PYKT_PROTOCOL_BATCH = {"sakt": 64, "akt": 64}
#: pyKT's side of each model: not measured on this protocol.
PYKT_NOT_RUN = (
    "pyKT is not run on this protocol by this script (it is no dependency and is not installed here); "
    "its answers per second on this split are unmeasured. The default protocol's pyKT figures come from "
    "pyKT 0.0.38 imported from --pykt and run on the same windows in the same process."
)


def pykt_protocol_arm(
    model_name: str,
    data_dir: str,
    fold: int,
    max_batches: int | None,
    batch_size: int | None = None,
    max_len: int = 200,
) -> dict[str, Any]:
    """ktlab's training speed for ``model_name`` on pyKT's split: the timed batches of one epoch.

    ``batch_size``: None for pyKT's (:data:`PYKT_PROTOCOL_BATCH`, else 256); ``max_len``: the chunk
    length (pyKT's 200).
    """
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(
            "train",
            overrides=[
                "experiment=pykt",
                "data=pykt",
                f"data.dir={data_dir}",
                f"data.fold={fold}",
                f"data.max_len={max_len}",
                f"model={model_name}",
                f"data.batch_size={batch_size or PYKT_PROTOCOL_BATCH.get(model_name, 256)}",
                "data.cache_dir=null",  # nothing written
            ],
        )
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    model = instantiate(cfg.model, inputs=datamodule.model_inputs())
    trained = [int(model.protocol.scored(batch).sum()) for batch in datamodule.sequence_loader("train")]
    timed = min(max_batches or len(trained), len(trained))
    trainer, timer = speed_trainer(cfg, epochs=1, train_batches=timed)
    load = os.getloadavg()[0]
    trainer.fit(model, datamodule=datamodule)
    seconds, answers = timer.seconds[0], sum(trained[:timed])
    return {
        "framework": "ktlab",
        "model": model_name,
        "batch_size": datamodule.batch_size,
        "batches_timed": timed,
        "batches_per_epoch": len(trained),
        "answers_timed": answers,
        "train_answers_per_epoch": sum(trained),
        "seconds_timed": seconds,
        "answers_per_s": answers / seconds,
        "epoch_seconds_extrapolated": seconds * sum(trained) / answers,
        "params": sum(p.numel() for p in model.parameters()),
        "load_1min": load,
    }


def speed_trainer(
    cfg: Any, epochs: int, precision: str = "32-true", train_batches: int | None = None
) -> tuple[L.Trainer, EpochTime]:
    """A CPU trainer that only trains and times its epochs (no logger, checkpoint, bar, summary or
    validation), for the timed arms of ``scripts/bench_zoo.py``; ``train_batches``: None for every batch."""
    timer = EpochTime()
    trainer = L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        devices=1,
        precision=precision,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_train_batches=train_batches,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        gradient_clip_val=cfg.trainer.gradient_clip_val,
        use_distributed_sampler=False,
        callbacks=[timer],
    )
    return trainer, timer


def pykt_protocol_bench(
    models: list[str],
    data_dir: str,
    fold: int,
    max_batches: int | None,
    batch_size: int | None = None,
    max_len: int = 200,
) -> dict[str, Any]:
    """The ``--protocol pykt`` arms: ktlab's figures per model, pyKT's left null with a note."""
    arms: list[dict[str, Any]] = []
    for name in models:
        arms.append(pykt_protocol_arm(name, data_dir, fold, max_batches, batch_size, max_len))
        arms.append({"framework": "pykt", "model": name, "answers_per_s": None, "note": PYKT_NOT_RUN})
    return {
        "protocol": "pykt",
        "data": f"{data_dir}, pyKT's split: training folds other than {fold}, in file order",
        "fold": fold,
        "max_len": max_len,
        "max_batches": max_batches,
        "torch_threads": torch.get_num_threads(),
        "arms": arms,
        "ratios": {name: {"speedup_answers_per_s": None} for name in models},
    }
