"""Window datasets, vectorized padding and length-aware batching."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from ktlab.data.encoding import EncodedInteractions, max_random_windows, random_windows

#: A training item: a window's index in its dataset, or (with random cuts) its ``(start, length)``.
Item = int | tuple[int, int]


class WindowDataset(Dataset[Item]):
    """Windows over encoded interactions; an item is just the window's index (or the ``(start, length)``
    pair a :class:`RandomCutBatchSampler` draws), passed on as it is.

    The padding and gathering happen in :class:`WindowCollator`, on whole batches at once.
    """

    def __init__(self, encoded: EncodedInteractions, starts: np.ndarray, lengths: np.ndarray) -> None:
        self.encoded = encoded
        self.starts = starts
        self.lengths = lengths

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index: Item) -> Item:
        return index

    def collator(self, problem_dropout: float = 0.0) -> WindowCollator:
        return WindowCollator(self.encoded, self.starts, self.lengths, problem_dropout)


class WindowCollator:
    """Turns a list of window indices (or ``(start, length)`` pairs) into a padded batch dict of tensors.

    Every field of the encoded table becomes one batch key (``B`` windows, ``L`` = longest window in
    the batch)::

        skill   [B, L] long     correct [B, L] float   mask  [B, L] bool
        context [B, L, C] float query   [B, L, Q] float phase [B, L] long
        p_true  [B, L] float (NaN where unknown)
        problem [B, L] long (when data.item_features names problem_id)
        row     [B, L] long: each step's row in the encoded table (evaluation maps answers back with it)
        item_vec [B, L, E] float (with question_text: each step's question-text vector, zeros when unknown)

    With ``problem_dropout > 0`` (training batches only) that share of the steps, drawn anew for every
    batch, have their problem id replaced by 0, the id of a question unseen in training: the model then
    learns to predict a question it does not know from the rest (its skills, its text), as it must for a
    new question at test time.
    """

    def __init__(
        self,
        encoded: EncodedInteractions,
        starts: np.ndarray,
        lengths: np.ndarray,
        problem_dropout: float = 0.0,
    ) -> None:
        self.problem_dropout = problem_dropout
        self.starts = torch.from_numpy(starts)
        self.lengths = torch.from_numpy(lengths)
        # Flat tensors plus one padding row at the end, which padded positions point to.
        self.fields = {key: _pad_row(torch.from_numpy(values)) for key, values in encoded.fields.items()}
        self.pad_index = len(encoded)
        self.lookups = {
            key: (index, torch.from_numpy(table)) for key, (index, table) in encoded.lookups.items()
        }

    def __call__(self, items: list[Item]) -> dict[str, torch.Tensor]:
        if isinstance(items[0], tuple):
            starts, lengths = torch.as_tensor(items, dtype=torch.long).unbind(1)
        else:
            window = torch.as_tensor(items, dtype=torch.long)
            starts, lengths = self.starts[window], self.lengths[window]
        steps = torch.arange(int(lengths.max()))
        mask = steps[None, :] < lengths[:, None]  # [B, L]
        flat = torch.where(mask, starts[:, None] + steps[None, :], self.pad_index)
        batch = {key: values[flat] for key, values in self.fields.items()}
        for key, (index, table) in self.lookups.items():
            batch[key] = table[batch[index]]  # padded steps read row 0 (zeros)
        if self.problem_dropout > 0 and "problem" in batch:
            hidden = torch.rand(batch["problem"].shape) < self.problem_dropout
            batch["problem"] = batch["problem"].masked_fill(hidden, 0)
        batch["mask"] = mask
        batch["row"] = flat
        return batch


def _pad_row(values: torch.Tensor) -> torch.Tensor:
    pad = torch.zeros((1, *values.shape[1:]), dtype=values.dtype)
    return torch.cat([values, pad], dim=0)


class LengthBucketBatchSampler(Sampler[list[int]]):
    """Batches of windows of similar length, so little compute is spent on padding.

    Training order: shuffle all windows, cut them into buckets of ``bucket_batches`` batches, sort each
    bucket by length, cut it into batches, then shuffle the batches. Evaluation order (``shuffle=False``):
    windows sorted by length, deterministic. Under DDP, in training every rank takes every
    ``num_replicas``-th batch and all ranks get the same number of batches (the few left over are skipped
    that epoch, and differ from epoch to epoch); in evaluation every rank takes every ``num_replicas``-th
    window, so every window is scored once and every rank has work as long as there are enough windows.

    Args:
        lengths: window lengths.
        batch_size: windows per batch.
        shuffle: training order (True) or fixed evaluation order (False).
        seed: base seed; the epoch is added so each epoch differs but is reproducible. The epoch advances
            at every pass over the sampler.
        bucket_batches: how many batches one sorted bucket spans.
        num_replicas: DDP world size.
        rank: this process's rank.
    """

    def __init__(
        self,
        lengths: np.ndarray,
        batch_size: int,
        shuffle: bool,
        seed: int = 0,
        bucket_batches: int = 50,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.bucket_batches = max(1, bucket_batches)
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _batches(self) -> list[np.ndarray]:
        if not self.shuffle:
            order = np.argsort(self.lengths, kind="stable")[self.rank :: self.num_replicas]
            return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        rng = np.random.default_rng(self.seed + self.epoch)
        order = rng.permutation(len(self.lengths))
        span = self.batch_size * self.bucket_batches
        batches = []
        for b in range(0, len(order), span):
            bucket = order[b : b + span]
            bucket = bucket[np.argsort(self.lengths[bucket], kind="stable")]
            batches += [bucket[i : i + self.batch_size] for i in range(0, len(bucket), self.batch_size)]
        return [batches[i] for i in rng.permutation(len(batches))]

    def _per_rank(self) -> int:
        if not self.shuffle:
            return -(-len(range(self.rank, len(self.lengths), self.num_replicas)) // self.batch_size)
        n = -(-len(self.lengths) // self.batch_size)
        return n // self.num_replicas

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._batches()
        # Each pass is an epoch: Lightning calls set_epoch on samplers, not on batch samplers, so the
        # sampler moves on by itself; set_epoch still fixes the starting epoch (e.g. when resuming).
        self.epoch += 1
        if self.shuffle and self.num_replicas > 1:
            batches = batches[self.rank :: self.num_replicas][: self._per_rank()]
        for batch in batches:
            yield batch.tolist()

    def __len__(self) -> int:
        return self._per_rank()


class RandomCutBatchSampler(Sampler[list[tuple[int, int]]]):
    """Training batches of windows cut anew every epoch (:func:`~ktlab.data.encoding.random_windows`).

    Each epoch's windows are drawn from ``seed`` and the epoch, so every DDP rank cuts the same ones, and
    batched as :class:`LengthBucketBatchSampler` batches them. A batch is a list of ``(start, length)``
    pairs rather than indices, so DataLoader workers need no copy of the epoch's windows.

    Lightning plans an epoch from ``len()``, so every epoch has the same number of batches although the
    number of windows varies a little with the cuts: the count is that of the most windows the cuts can
    give, and when an epoch has fewer, its largest batches are halved until the count is reached (a few
    batches per epoch, each under ``batch_size``).

    Args:
        offsets: ``[N + 1]`` flat offsets of the learners' sequences (``EncodedInteractions.offsets``).
        max_len: longest window.
        batch_size: windows per batch.
        seed: base seed of the cuts and of the batch order; the epoch is added.
        bucket_batches: batches per length-sorted bucket.
        num_replicas: DDP world size.
        rank: this process's rank.
    """

    def __init__(
        self,
        offsets: np.ndarray,
        max_len: int,
        batch_size: int,
        seed: int = 0,
        bucket_batches: int = 50,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        self.offsets = np.asarray(offsets)
        self.max_len = max_len
        self.batch_size = batch_size
        self.seed = seed
        self.bucket_batches = bucket_batches
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.n_batches = -(-max_random_windows(self.offsets, max_len) // batch_size)  # every rank's

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _batches(self) -> list[list[tuple[int, int]]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        starts, lengths = random_windows(self.offsets, self.max_len, rng)
        order = LengthBucketBatchSampler(lengths, self.batch_size, True, self.seed, self.bucket_batches)
        order.set_epoch(self.epoch)
        batches = [[(int(starts[i]), int(lengths[i])) for i in batch] for batch in order]
        while len(batches) < self.n_batches:
            largest = max(range(len(batches)), key=lambda j: len(batches[j]))
            batch = batches[largest]
            if len(batch) < 2:
                break
            batches[largest : largest + 1] = [batch[: len(batch) // 2], batch[len(batch) // 2 :]]
        return batches

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        batches = self._batches()
        self.epoch += 1  # each pass is an epoch (see LengthBucketBatchSampler.__iter__)
        yield from batches[self.rank :: self.num_replicas][: len(self)]

    def __len__(self) -> int:
        return self.n_batches // self.num_replicas
