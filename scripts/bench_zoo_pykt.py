"""The ``--protocol pykt`` arm of ``scripts/bench_zoo.py``: training speed on pyKT's split, ktlab beside pyKT.

For each model, ktlab trains through Lightning as ``train.py experiment=pykt data=pykt`` trains it (the
chunks of the folds other than ``fold``, in file order, pyKT's batch sizes) for the first ``max_batches``
batches of one epoch. Where pyKT 0.0.38 has the model (dkt, dkt_plus, sakt, akt, dkvmn, saint), ktlab's
network takes pyKT's default sizes (:data:`bench_zoo_pyktnet.PYKT_DEFAULT_SIZES`) and pyKT's own network
then trains with pyKT's own training step on the same batches (padded to the chunk length, as pyKT stores
its sequences, and converted to its layout outside the timing). Answers per second, for both, are the
answers trained on in the timed batches over their seconds. A model pyKT lacks keeps its ktlab settings
and a pyKT side of null with a note (:data:`PYKT_NOT_RUN`), as does every model when ``pykt_dir`` holds no
pyKT.
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
from omegaconf import OmegaConf

from ktlab.callbacks.epoch_time import EpochTime

try:  # imported as scripts.bench_zoo_pykt (tests), or from this folder by scripts/bench_zoo.py
    from scripts import bench_zoo_pyktnet as pyktnet
except ImportError:
    import bench_zoo_pyktnet as pyktnet

ROOT = Path(__file__).resolve().parents[1]

#: pyKT's batch size on its protocol (256; 64 for its attention and memory models).
PYKT_PROTOCOL_BATCH = pyktnet.PYKT_PROTOCOL_BATCH
#: pyKT's side of a model pyKT 0.0.38 does not have.
PYKT_NOT_RUN = "not run: pyKT 0.0.38 has no model of this name (pykt.models holds no such network)"


def protocol_cfg(
    model_name: str,
    data_dir: str,
    fold: int,
    batch_size: int | None = None,
    max_len: int = 200,
    net: dict[str, Any] | None = None,
) -> Any:
    """``train.py experiment=pykt data=pykt``'s config for ``model_name``; ``net``: ``model.net`` settings
    to override (pyKT's sizes), ``batch_size`` None for pyKT's (:data:`PYKT_PROTOCOL_BATCH`, else 256)."""
    overrides = [
        "experiment=pykt",
        "data=pykt",
        f"data.dir={data_dir}",
        f"data.fold={fold}",
        f"data.max_len={max_len}",
        f"model={model_name}",
        f"data.batch_size={batch_size or PYKT_PROTOCOL_BATCH.get(model_name, 256)}",
        "data.cache_dir=null",  # nothing written
    ] + [f"model.net.{key}={value}" for key, value in (net or {}).items()]
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose("train", overrides=overrides)


def pykt_protocol_arm(
    model_name: str,
    data_dir: str,
    fold: int,
    max_batches: int | None,
    batch_size: int | None = None,
    max_len: int = 200,
    net: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], Any]:
    """ktlab's training speed for ``model_name`` on pyKT's split (the timed batches of one epoch), and the
    DataModule it trained from. ``net``: ``model.net`` settings to override (pyKT's sizes)."""
    cfg = protocol_cfg(model_name, data_dir, fold, batch_size, max_len, net)
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    model = instantiate(cfg.model, inputs=datamodule.model_inputs())
    trained = [int(model.protocol.scored(batch).sum()) for batch in datamodule.sequence_loader("train")]
    timed = min(max_batches or len(trained), len(trained))
    trainer, timer = speed_trainer(cfg, epochs=1, train_batches=timed)
    load = os.getloadavg()[0]
    trainer.fit(model, datamodule=datamodule)
    seconds, answers = timer.seconds[0], sum(trained[:timed])
    arm = {
        "framework": "ktlab",
        "model": model_name,
        "net": {k: v for k, v in OmegaConf.to_container(cfg.model.net).items() if k != "_target_"},
        "batch_size": datamodule.batch_size,
        "length_groups": cfg.model.get("length_groups", 1),
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
    return arm, datamodule


def pykt_side_arm(
    model_name: str, datamodule: Any, batches_timed: int, max_len: int, lr: float = 1e-3
) -> dict[str, Any]:
    """pyKT 0.0.38's ``model_name`` at its default sizes, trained by its own step on the first
    ``batches_timed`` training batches of ``datamodule`` (pyKT imported first: ``pyktnet.import_pykt``)."""
    sizes = dict(pyktnet.PYKT_DEFAULT_SIZES[model_name])
    torch.manual_seed(0)
    net = pyktnet.build_pykt_net(model_name, datamodule.model_inputs()["dims"]["n_skills"], sizes)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    batches, answers = [], 0
    for batch in datamodule.sequence_loader("train"):
        if len(batches) == batches_timed:
            break
        converted = pyktnet.to_pykt(pyktnet.pad_to(batch, max_len), with_problems=False)
        answers += int(converted["smasks"].sum())
        batches.append(converted)
    load = os.getloadavg()[0]
    seconds = pyktnet.pykt_train_seconds(net, batches, optimizer)
    return {
        "framework": "pykt 0.0.38",
        "model": model_name,
        "pykt_model_name": net.model_name,
        "sizes": sizes,
        "batch_size": datamodule.batch_size,
        "padded_to": max_len,
        "batches_timed": len(batches),
        "answers_timed": answers,
        "seconds_timed": seconds,
        "answers_per_s": answers / seconds,
        "params": sum(p.numel() for p in net.parameters()),
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
    pykt_dir: str | None = None,
) -> dict[str, Any]:
    """The ``--protocol pykt`` arms: ktlab's figures per model and, with pyKT under ``pykt_dir``, pyKT's
    on the same batches for the models it has; the ratio of their answers per second."""
    have_pykt = pykt_dir is not None and pyktnet.import_pykt(pykt_dir)
    arms: list[dict[str, Any]] = []
    ratios: dict[str, Any] = {}
    for name in models:
        in_pykt = name in pyktnet.PYKT_MODELS
        net = pyktnet.ktlab_net_overrides(name, pyktnet.PYKT_DEFAULT_SIZES[name]) if in_pykt else None
        ours, datamodule = pykt_protocol_arm(name, data_dir, fold, max_batches, batch_size, max_len, net)
        ours["sizes_from"] = "pyKT's defaults (pykt_sizes_source)" if in_pykt else "ktlab's conf/model"
        arms.append(ours)
        if not in_pykt:
            theirs: dict[str, Any] = {"framework": "pykt", "model": name, "answers_per_s": None}
            theirs["note"] = PYKT_NOT_RUN
        elif not have_pykt:
            theirs = {"framework": "pykt", "model": name, "answers_per_s": None}
            theirs["note"] = f"not run: no pykt package under {pykt_dir}"
        else:
            theirs = pykt_side_arm(name, datamodule, ours["batches_timed"], max_len)
        arms.append(theirs)
        speedup = ours["answers_per_s"] / theirs["answers_per_s"] if theirs["answers_per_s"] else None
        ratios[name] = {"speedup_answers_per_s": speedup}
    return {
        "protocol": "pykt",
        "data": f"{data_dir}, pyKT's split: training folds other than {fold}, in file order",
        "fold": fold,
        "max_len": max_len,
        "max_batches": max_batches,
        "torch_threads": torch.get_num_threads(),
        "pykt_sizes_source": pyktnet.PYKT_SIZES_SOURCE,
        "arms": arms,
        "ratios": ratios,
    }
