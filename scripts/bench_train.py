"""Benchmark: one training epoch with Lightning vs a hand-written PyTorch loop, same model and batches.

    python scripts/bench_train.py [--epochs 3] [--rounds 3]

Both loops train the enriched GRU DKT of conf/model/dkt_gru.yaml on the default synthetic classroom,
with the same batches (same DataLoader), AdamW, gradient clipping at 1.0 and the masked BCE loss. The
Lightning run also updates its AUROC/accuracy metrics, as in real training. Validation, checkpoints,
loggers and progress bars are off in both. The two loops alternate over several rounds, so drift of a
shared machine falls on both. Prints one JSON object with the median epoch times over all rounds and the
ratio lightning / plain (<= 1.0 means Lightning is no slower), and the same from the fastest epochs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import lightning as L
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from ktlab.data.datamodule import KTDataModule
from ktlab.data.schema import CONTEXT_COLUMNS
from ktlab.data.sources import SyntheticSource

CONF_DIR = __file__.rsplit("/scripts/", 1)[0] + "/conf"


class EpochTimer(L.Callback):
    def __init__(self) -> None:
        self.times: list[float] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.times.append(time.perf_counter() - self.start)


def build(seed: int):
    datamodule = KTDataModule(
        SyntheticSource(),
        context_features=list(CONTEXT_COLUMNS),
        query_features=["difficulty", "adjustment", "phase_type"],
        split_seed=seed,
    )
    datamodule.setup("fit")
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose(config_name="train", overrides=["model=dkt_gru"], return_hydra_config=False)
    torch.manual_seed(seed)
    model = instantiate(cfg.model, dims=datamodule.encoder.dims, encoder=datamodule.encoder.state_dict())
    return datamodule, model


def plain_loop(epochs: int, seed: int) -> list[float]:
    datamodule, module = build(seed)
    net = module.net
    optimizer = torch.optim.AdamW(net.parameters(), lr=0.003, weight_decay=0.0001)
    criterion = torch.nn.BCEWithLogitsLoss()
    loader = datamodule.train_dataloader()
    times = []
    net.train()
    for _ in range(epochs):
        start = time.perf_counter()
        for batch in loader:
            logits = net(batch)
            scored = batch["mask"].clone()
            scored[:, 0] = False
            loss = criterion(logits[scored], batch["correct"][scored])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
        times.append(time.perf_counter() - start)
    return times


def lightning_loop(epochs: int, seed: int) -> list[float]:
    datamodule, module = build(seed)
    timer = EpochTimer()
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=epochs,
        gradient_clip_val=1.0,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        use_distributed_sampler=False,
        callbacks=[timer],
    )
    trainer.fit(module, train_dataloaders=datamodule.train_dataloader())
    return timer.times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--epochs", type=int, default=3, help="epochs per loop and round; each loop's first is a warm-up"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of the two loops")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    plain: list[float] = []
    lightning: list[float] = []
    # Alternate the loops (plain first in even rounds, Lightning first in odd ones) so that slow drift of
    # a shared machine falls on both sides; each round drops its first epoch per loop as a warm-up.
    for round_ in range(args.rounds):
        order = (plain_loop, lightning_loop) if round_ % 2 == 0 else (lightning_loop, plain_loop)
        for loop in order:
            times = loop(args.epochs, args.seed)
            (plain if loop is plain_loop else lightning).extend(times[1:] or times)
    plain_s, lightning_s = statistics.median(plain), statistics.median(lightning)
    plain_min, lightning_min = min(plain), min(lightning)
    print(
        json.dumps(
            {
                "benchmark": "train_epoch",
                "rounds": args.rounds,
                "plain_epoch_s": round(plain_s, 3),
                "lightning_epoch_s": round(lightning_s, 3),
                "ratio_lightning_over_plain": round(lightning_s / plain_s, 3),
                "plain_epoch_min_s": round(plain_min, 3),
                "lightning_epoch_min_s": round(lightning_min, 3),
                "ratio_of_minimums": round(lightning_min / plain_min, 3),
                "plain_epochs_s": [round(t, 3) for t in plain],
                "lightning_epochs_s": [round(t, 3) for t in lightning],
                "threads": torch.get_num_threads(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
