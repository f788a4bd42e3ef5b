"""The Lightning DataModule shared by every sequence model."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from lightning import LightningDataModule
from torch.utils.data import DataLoader

from ktlab.config_checks import problems_in
from ktlab.data.batching import LengthBucketBatchSampler, WindowDataset
from ktlab.data.encoding import InteractionEncoder, make_windows
from ktlab.data.schema import required_columns
from ktlab.data.sources import InteractionSource
from ktlab.errors import ConfigError

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


def split_students(
    student_ids: np.ndarray, val_fraction: float, test_fraction: float, seed: int
) -> dict[str, set]:
    """Assign learners (never rows) to train/val/test with a seeded permutation of the sorted ids."""
    unique = np.sort(pd.unique(student_ids).astype(str))
    order = np.random.default_rng(seed).permutation(len(unique))
    n_test = round(len(unique) * test_fraction)
    n_val = round(len(unique) * val_fraction)
    return {
        "test": set(unique[order[:n_test]]),
        "val": set(unique[order[n_test : n_test + n_val]]),
        "train": set(unique[order[n_test + n_val :]]),
    }


class KTDataModule(LightningDataModule):
    """Loads interactions from a source, splits learners, encodes and serves padded windows.

    Args:
        source: an :class:`~ktlab.data.sources.InteractionSource` (``data.source`` in config).
        context_features: signals of each answered step the model reads.
        query_features: known-before signals of the predicted step.
        max_len: longest window; longer sequences are cut into consecutive windows.
        batch_size: windows per batch (per process under DDP).
        val_fraction: share of learners held out for validation.
        test_fraction: share of learners held out for testing.
        split_seed: seed of the learner split.
        num_workers: DataLoader worker processes.
        pin_memory: pin batches for faster host-to-GPU copies.
        bucket_batches: batches per length-sorted bucket (see :class:`LengthBucketBatchSampler`).
        encoder_state: a fitted encoder's state (from a checkpoint); when given it is used as is.
        path: the data file for file-based sources (read through ``source.path`` interpolation).
    """

    def __init__(
        self,
        source: InteractionSource,
        context_features: list[str],
        query_features: list[str],
        max_len: int = 100,
        batch_size: int = 64,
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        split_seed: int = 0,
        num_workers: int = 0,
        pin_memory: bool = False,
        bucket_batches: int = 50,
        encoder_state: dict[str, Any] | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__()
        problems = problems_in(
            {
                "data.max_len": max_len,
                "data.batch_size": batch_size,
                "data.val_fraction": val_fraction,
                "data.test_fraction": test_fraction,
                "data.num_workers": num_workers,
            }
        )
        if val_fraction + test_fraction >= 1.0:
            problems.append(
                f"data.val_fraction + data.test_fraction = {val_fraction + test_fraction}: must leave learners "
                "for training (< 1)"
            )
        if problems:
            raise ConfigError("Invalid data config: " + "; ".join(problems) + ".")
        self.required = required_columns(context_features, query_features)
        self.source = source
        self.max_len = max_len
        self.batch_size = batch_size
        self.val_fraction = val_fraction
        self.test_fraction = test_fraction
        self.split_seed = split_seed
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.bucket_batches = bucket_batches
        self.encoder = (
            InteractionEncoder.from_state_dict(encoder_state)
            if encoder_state
            else InteractionEncoder(context_features, query_features)
        )
        self.datasets: dict[str, WindowDataset] = {}

    # ------------------------------------------------------------------ preparation
    def prepare_data(self) -> None:
        prepare = getattr(self.source, "prepare", None)
        if callable(prepare):
            prepare()

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        frame = self.source.load(self.required)
        groups = split_students(
            frame["student_id"].to_numpy(), self.val_fraction, self.test_fraction, self.split_seed
        )
        if not groups["train"]:
            raise ConfigError(
                f"{self.source.name} has {frame['student_id'].nunique()} learner(s): too few to keep any for "
                "training with data.val_fraction and data.test_fraction; add learners or lower the fractions."
            )
        parts = {name: frame[frame["student_id"].isin(ids)] for name, ids in groups.items()}
        if not self.encoder.fitted:
            self.encoder.fit(parts["train"])
        for name in SPLITS:
            encoded = self.encoder.transform(parts[name])
            self.datasets[name] = WindowDataset(encoded, *make_windows(encoded.offsets, self.max_len))
        log.info(
            "%s: %s",
            self.source.name,
            ", ".join(
                f"{name} {len(groups[name])} learners / {len(self.datasets[name])} windows" for name in SPLITS
            ),
        )

    # ------------------------------------------------------------------ loaders
    def _world(self) -> tuple[int, int]:
        trainer = getattr(self, "trainer", None)
        if trainer is None:
            return 1, 0
        return trainer.world_size, trainer.global_rank

    def dataloader(self, split: str, shuffle: bool | None = None) -> DataLoader:
        """A loader over one split (``train``, ``val`` or ``test``)."""
        dataset = self.datasets[split]
        shuffle = split == "train" if shuffle is None else shuffle
        world, rank = self._world()
        n_batches = -(-len(dataset) // self.batch_size)
        if shuffle and world > 1 and n_batches < world:
            raise ConfigError(
                f"data.batch_size={self.batch_size} gives {n_batches} training batch(es) for {world} processes; "
                f"lower data.batch_size to at most {max(1, len(dataset) // world)} or use fewer devices."
            )
        sampler = LengthBucketBatchSampler(
            dataset.lengths,
            batch_size=self.batch_size,
            shuffle=shuffle,
            seed=self.split_seed,
            bucket_batches=self.bucket_batches,
            num_replicas=world,
            rank=rank,
        )
        if shuffle and getattr(self, "trainer", None) is not None:
            sampler.set_epoch(self.trainer.current_epoch)
        return DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=dataset.collator(),
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self.dataloader("train")

    def val_dataloader(self) -> DataLoader:
        return self.dataloader("val")

    def test_dataloader(self) -> DataLoader:
        return self.dataloader("test")
