"""Reseeding torch's generator at the first batch of every epoch, so a resumed fit draws what an
uninterrupted one would.

A checkpoint keeps the weights, the optimizer and the loops, but not torch's random generator, and the
batches of the epoch after a resume would draw other dropout masks than the uninterrupted run's (which has
drawn from one stream since ``seed_everything``). Reseeding from ``(seed, epoch)`` makes every epoch's
draws depend on the seed and the epoch only. The first batch is the place: Lightning creates the epoch's
data iterator (which draws from the generator) before it in an uninterrupted run, but before the sanity
check in a resumed one. The batch order is already seeded by epoch (``ktlab.data.batching``).
"""

from __future__ import annotations

from typing import Any

import lightning as L
import numpy as np
import torch


def epoch_seed(seed: int, epoch: int) -> int:
    """A 63-bit seed drawn from ``(seed, epoch)`` by numpy's ``SeedSequence``."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1, dtype=np.uint64)[0] >> 1)


class EpochSeed(L.Callback):
    """Seed torch (every device) from ``(seed, epoch)`` when an epoch's first training batch starts.

    Args:
        seed: the run's seed (``seed`` in the train config); None leaves the generator alone.
    """

    def __init__(self, seed: int | None) -> None:
        self.seed = seed

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if self.seed is not None and batch_idx == 0:
            torch.manual_seed(epoch_seed(int(self.seed), trainer.current_epoch))
