"""Benchmark: a ktlab training epoch (Lightning) vs hand-written PyTorch loops, same model and batches.

    python scripts/bench_train.py [--epochs 11] [--position-check] [override ...]

Three copies of the network of the training config (``conf/train.yaml``: the enriched GRU DKT on the
default synthetic classroom; Hydra overrides such as ``model=dkt_lstm`` may follow) start from the same
weights and train on the same batches of the DataModule's own DataLoader, with the masked BCE loss and
gradient clipping at ``trainer.gradient_clip_val``:

* ``lightning``: ``KTLitModule`` under a ``Trainer``, as ``train.py`` runs it (loss/AUC/accuracy metrics
  updated, the optimizer built by ktlab: the fused kernel where the config leaves the choice open).
  Validation, checkpoints, loggers and progress bars are off.
* ``plain``: a hand-written loop with the optimizer of the config as torch builds it by default
  (``torch.optim.AdamW(params, lr=..., weight_decay=...)``). This is the reference of the target.
* ``plain_same_step``: the same loop with exactly the optimizer and the loss function ktlab's training
  step uses (fused kernel, masked loss without selecting positions). Its ratio isolates what Lightning
  itself costs.

The three run interleaved in one process: the Trainer reads its batches from an iterable that, as it
hands out each batch, first trains the two plain copies on that same batch (in alternating order). So all
three train on the same batches at the same moments, and a shared machine's drift in speed falls on all
alike; timing the loops one after another cannot separate a 1% difference from that drift. Times:

* a plain step: forward, loss, backward, clipping, optimizer step;
* a Lightning step: the wall time from one ``on_train_batch_start`` to the next (or to the next epoch),
  minus the plain steps and the collation run inside it: its batch fetching and every hook included;
* an epoch: the sum of its steps, plus, for Lightning, the work before its first step and after its last
  (epoch-end metric computation); all three also count the DataLoader's collation once.

The first epoch is a warm-up and is not counted. Prints one JSON object: for each plain loop, the median
over epochs of the per-epoch ratio lightning / plain (<= 1.0 means ktlab is no slower) and its range, and
the median over steps of the per-step ratio with a bootstrap 95% interval (steps of one batch are paired;
the median is robust to the spikes of a shared machine, but leaves the per-epoch work out).

``--position-check`` tests the method itself (an A/A test): three identical copies of the plain loop
with ktlab's step, the first two in alternating order and the third always last, the place the Lightning
copy has. Its ratios, third / first two, should be 1 within their intervals; a bias of the last place
(a cache or allocator left warm or cold by the copy before) would show there.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import statistics
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch.utils.data import DataLoader

from ktlab.evaluation import NextStepProtocol
from ktlab.models.losses import masked_bce_with_logits, per_answer_scale
from ktlab.models.optim import build_optimizer

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = str(ROOT / "conf")
PLAIN_ARMS = ("plain", "plain_same_step")

Step = Callable[[dict[str, torch.Tensor]], None]


class Interleaved:
    """Yields the loader's batches; trains the plain copies on each one just before handing it out.

    Keeps the time of every plain step, per arm, and running totals of plain and collation time, which
    the clock reads at each Lightning hook to take them out of Lightning's windows.
    """

    def __init__(self, loader: DataLoader, steps: dict[str, Step]) -> None:
        self.loader = loader
        self.steps = steps
        self.step_s: dict[str, list[float]] = {name: [] for name in steps}
        self.plain_total = 0.0
        self.collate_total = 0.0

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        for name in self.steps:
            self.step_s[name] = []
        batches = iter(self.loader)
        index = 0
        while True:
            start = time.perf_counter()
            batch = next(batches, None)
            self.collate_total += time.perf_counter() - start
            if batch is None:
                return
            names = list(self.steps) if index % 2 == 0 else list(reversed(self.steps))
            with torch.enable_grad():
                for name in names:
                    start = time.perf_counter()
                    self.steps[name](batch)
                    took = time.perf_counter() - start
                    self.step_s[name].append(took)
                    self.plain_total += took
            index += 1
            yield batch


class LightningClock(L.Callback):
    """Times Lightning's steps and epochs, net of the plain steps and collation run inside them."""

    def __init__(self, source: Interleaved) -> None:
        self.source = source
        self.epochs: list[dict[str, list[float]]] = []  # per epoch: step times of every arm, collation
        self._mark: tuple[float, float, float] | None = None
        self._steps: list[float] = []
        self._edges = 0.0
        self._epoch_collate = 0.0

    def _now(self) -> tuple[float, float, float]:
        return time.perf_counter(), self.source.plain_total, self.source.collate_total

    def _lap(self) -> tuple[float, float]:
        """Lightning's own time since the last mark, and the collation inside it; moves the mark."""
        now = self._now()
        wall, plain, collate = (a - b for a, b in zip(now, self._mark, strict=True))
        self._mark = now
        return wall - plain - collate, collate

    def _close_epoch(self) -> None:
        if self._mark is None:
            return
        last, collate = self._lap()
        self._epoch_collate += collate
        if self._steps:
            self._steps.append(last)  # the last step, with the epoch-end work after it
        else:
            self._edges += last
        record = {name: list(self.source.step_s[name]) for name in PLAIN_ARMS}
        record["lightning"] = self._steps
        record["edges"] = [self._edges]
        record["collate"] = [self._epoch_collate]
        self.epochs.append(record)
        self._mark = None

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._close_epoch()
        self._mark = self._now()
        self._steps, self._edges, self._epoch_collate = [], 0.0, 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        own, collate = self._lap()
        self._epoch_collate += collate
        if batch_idx == 0:
            self._edges += own  # epoch start and first fetch
        else:
            self._steps.append(own)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._close_epoch()


def compose_cfg(overrides: list[str]) -> DictConfig:
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        # The synthetic classroom is cached under <repo>/data, as for train.py run from the repo root.
        return compose(config_name="train", overrides=[f"paths.root_dir={ROOT}", *overrides])


def selected_bce(logits: torch.Tensor, targets: torch.Tensor, scored: torch.Tensor) -> torch.Tensor:
    """The loss as a hand-written loop computes it: BCE over the positions selected by the mask."""
    return F.binary_cross_entropy_with_logits(logits[scored], targets[scored])


def ktlab_bce(
    logits: torch.Tensor, targets: torch.Tensor, scored: torch.Tensor, answers_per_batch: float | None = None
) -> torch.Tensor:
    """The loss as ktlab's training step computes it (the mean, scaled as ``model.loss_scale`` says)."""
    loss, count = masked_bce_with_logits(logits, targets, scored)
    return loss if answers_per_batch is None else per_answer_scale(loss, count, answers_per_batch)


def make_plain_step(
    net: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    clip: float | None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor] = selected_bce,
) -> Step:
    """A hand-written training step: forward, masked BCE, backward, clipping, optimizer step."""
    net.train()
    protocol = NextStepProtocol()

    def step(batch: dict[str, torch.Tensor]) -> None:
        logits = net(batch)
        scored = protocol.scored(batch)
        loss = loss_fn(logits, batch["correct"], scored)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        optimizer.step()

    return step


def make_same_step(cfg: DictConfig, model: L.LightningModule) -> Step:
    """A hand-written step with exactly ktlab's optimizer (kernel choice included) and loss."""
    optimizer = build_optimizer(instantiate(cfg.model.optimizer), model.net.parameters(), allow_fused=True)
    scale = model.hparams.inputs.get("answers_per_batch") if model.hparams.loss_scale == "answers" else None
    return make_plain_step(
        model.net,
        optimizer,
        cfg.trainer.gradient_clip_val,
        functools.partial(ktlab_bce, answers_per_batch=scale),
    )


def data_and_copies(cfg: DictConfig, copies: int) -> tuple[L.LightningDataModule, list[L.LightningModule]]:
    """The DataModule, set up for fitting, and ``copies`` models with the same initial weights."""
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    models = []
    for _ in range(copies):
        torch.manual_seed(cfg.seed)
        models.append(instantiate(cfg.model, inputs=datamodule.model_inputs()))
    return datamodule, models


def run(cfg: DictConfig, epochs: int) -> list[dict[str, list[float]]]:
    """Train the three copies for ``epochs`` epochs, interleaved; returns the per-epoch step times."""
    datamodule, (lightning_model, plain_model, same_step_model) = data_and_copies(cfg, 3)
    factory: functools.partial = instantiate(cfg.model.optimizer)
    clip = cfg.trainer.gradient_clip_val
    steps = {
        "plain": make_plain_step(plain_model.net, factory(params=plain_model.net.parameters()), clip),
        "plain_same_step": make_same_step(cfg, same_step_model),
    }
    source = Interleaved(datamodule.train_dataloader(), steps)
    clock = LightningClock(source)
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=epochs,
        gradient_clip_val=clip,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        use_distributed_sampler=False,
        callbacks=[clock],
    )
    trainer.fit(lightning_model, train_dataloaders=source)
    return clock.epochs


def bootstrap_median(values: np.ndarray, seed: int = 0, n: int = 2000) -> list[float]:
    """95% percentile-bootstrap interval of the median."""
    rng = np.random.default_rng(seed)
    medians = np.median(rng.choice(values, size=(n, len(values)), replace=True), axis=1)
    return [round(float(np.quantile(medians, q)), 4) for q in (0.025, 0.975)]


def summarize(epochs: list[dict[str, list[float]]]) -> dict[str, object]:
    """Epoch and step figures of Lightning against each plain loop."""
    total = {
        arm: [sum(e[arm]) + e["collate"][0] + (e["edges"][0] if arm == "lightning" else 0.0) for e in epochs]
        for arm in ("lightning", *PLAIN_ARMS)
    }
    result: dict[str, object] = {
        "epochs_measured": len(epochs),
        "steps_per_epoch": len(epochs[0]["lightning"]),
        "epoch_s_median": {arm: round(statistics.median(t), 3) for arm, t in total.items()},
        "lightning_epoch_edges_ms_median": round(1000 * statistics.median(e["edges"][0] for e in epochs), 1),
    }
    lightning_steps = np.concatenate([e["lightning"] for e in epochs])
    for arm in PLAIN_ARMS:
        ratios = [a / b for a, b in zip(total["lightning"], total[arm], strict=True)]
        step_ratios = lightning_steps / np.concatenate([e[arm] for e in epochs])
        result[f"vs_{arm}"] = ratio_figures(ratios, step_ratios)
    return result


def ratio_figures(epoch_ratios: list[float], step_ratios: np.ndarray) -> dict[str, object]:
    """Median and range of the per-epoch ratios; median of the per-step ratios with its 95% interval."""
    return {
        "ratio_epoch_median": round(statistics.median(epoch_ratios), 4),
        "ratio_epoch_range": [round(min(epoch_ratios), 4), round(max(epoch_ratios), 4)],
        "ratio_step_median": round(float(np.median(step_ratios)), 4),
        "ratio_step_median_ci95": bootstrap_median(step_ratios),
    }


def position_check(cfg: DictConfig, epochs: int) -> dict[str, object]:
    """A/A test of the interleaving: three identical plain copies, the third always in Lightning's place."""
    datamodule, models = data_and_copies(cfg, 3)
    steps = [make_same_step(cfg, model) for model in models]
    times: list[list[list[float]]] = []  # epoch -> arm -> step times
    for _ in range(epochs):
        epoch: list[list[float]] = [[], [], []]
        for index, batch in enumerate(datamodule.train_dataloader()):
            with torch.enable_grad():
                for arm in (0, 1, 2) if index % 2 == 0 else (1, 0, 2):
                    start = time.perf_counter()
                    steps[arm](batch)
                    epoch[arm].append(time.perf_counter() - start)
        times.append(epoch)
    measured = times[1:]
    last = np.concatenate([np.array(e[2]) for e in measured])
    result: dict[str, object] = {"epochs_measured": len(measured), "steps_per_epoch": len(measured[0][0])}
    for arm, name in ((0, "first"), (1, "second")):
        step_ratios = last / np.concatenate([np.array(e[arm]) for e in measured])
        epoch_ratios = [sum(e[2]) / sum(e[arm]) for e in measured]
        result[f"last_vs_{name}"] = ratio_figures(epoch_ratios, step_ratios)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--epochs", type=int, default=11, help="epochs; the first is a warm-up (default 11)")
    parser.add_argument(
        "--position-check", action="store_true", help="A/A test of the method: three identical plain loops"
    )
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of the training config")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be >= 2 (the first epoch is a warm-up)")
    warnings.filterwarnings("ignore")
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    cfg = compose_cfg(args.overrides)
    if args.position_check:
        figures = position_check(cfg, args.epochs)
        benchmark = "train_epoch_position_check"
    else:
        figures = summarize(run(cfg, args.epochs)[1:])
        benchmark = "train_epoch"
    result = {
        "benchmark": benchmark,
        "model": cfg.model.name,
        "overrides": args.overrides,
        **figures,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
