"""The Lightning DataModule shared by every sequence model, and its side of the data-to-model contract.

The contract (every model family follows it; see ``docs/contract.md``):

* ``model_inputs()`` returns ``{"dims": ..., "state": ...}``: the sizes the network is built with and
  the fitted state (here the encoder), as plain data; the checkpoint stores it under
  ``hyper_parameters["inputs"]``;
* the constructor takes ``fitted_state`` back (resume, ``eval.py``, ``predict.py``), so nothing is refitted;
* ``dataloader(split)`` serves ``train``, ``val``, ``test`` or ``all``;
* ``predict(model, frame, ...)`` answers ``predict.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from lightning import LightningDataModule
from torch.utils.data import DataLoader

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.data.batching import LengthBucketBatchSampler, RandomCutBatchSampler, WindowDataset
from ktlab.data.encoding import InteractionEncoder, make_windows
from ktlab.data.item_text import ItemTexts, text_table
from ktlab.data.next_step import predict_next_step
from ktlab.data.schema import ITEM_TEXT, SPLIT_COLUMN, SPLIT_NAMES, feature_problems, required_columns
from ktlab.data.sources import InteractionSource
from ktlab.data.split_sizes import check_split_sizes, split_size
from ktlab.data.splitting import split_from_column, split_students
from ktlab.data.states import knowledge_states
from ktlab.errors import ConfigError, DataValidationError
from ktlab.utils.logging import get_logger

log = get_logger(__name__)

SPLITS = SPLIT_NAMES
SPLIT_LABELS = {"train": "training", "val": "validation", "test": "test"}


class KTDataModule(LightningDataModule):
    """Loads interactions from a source, splits learners, encodes and serves padded windows.

    Learners are split at random (seeded) unless the table has a ``split`` column (a released
    train/val/test split), which is then followed as published.

    Args:
        source: an :class:`~ktlab.data.sources.InteractionSource` (``data.source`` in config).
        context_features: signals of each answered step the model reads.
        query_features: known-before signals of the predicted step.
        item_features: item ids the model embeds (``skill_id``, plus ``problem_id`` where the data has it),
            and ``question_text``: each question's text vector (see :mod:`ktlab.data.item_text`).
        max_len: longest window; longer sequences are cut into consecutive windows.
        batch_size: windows per batch (per process under DDP).
        val_fraction: share of learners held out for validation (random split only).
        test_fraction: share of learners held out for testing (random split only).
        split_seed: seed of the learner split and of the batch order.
        num_workers: DataLoader worker processes.
        pin_memory: pin batches for faster host-to-GPU copies.
        bucket_batches: batches per length-sorted bucket (see :class:`LengthBucketBatchSampler`).
        random_cuts: cut the training sequences longer than ``max_len`` at other places every epoch
            (see :func:`~ktlab.data.encoding.random_windows`); validation and test windows never move.
        min_eval_answers: fewer scored answers in the validation or test split draw a warning that their
            AUC is mostly noise (a split with one kind of answer only is refused; see
            :mod:`ktlab.data.split_sizes`).
        fitted_state: the fitted encoder's state (from a checkpoint); when given it is used as is.
        path: the data file for file-based sources (read through ``source.path`` interpolation).
        train: the training file of sources with released split files (read by interpolation, like ``path``).
        valid: their validation file.
        test: their test file.
        item_text: where the questions' texts come from (:class:`~ktlab.data.item_text.ItemTexts`), for
            ``question_text`` among the item features.
        text_encoder: the frozen text encoder's directory (None: the packaged MiniLM).
        text_cache_dir: where the text vectors are cached (None: computed at every setup).
        text_components: reduce the text vectors to this many whitened principal coordinates, fitted on
            the questions' texts (0: keep them whole; see :func:`~ktlab.data.item_text.fit_reduction`).
        problem_dropout: share of the training steps whose problem id is hidden (0, unseen), drawn anew
            for every batch, so a model learns to predict questions it does not know (see
            :class:`~ktlab.data.batching.WindowCollator`).
    """

    def __init__(
        self,
        source: InteractionSource,
        context_features: list[str],
        query_features: list[str],
        item_features: list[str] | None = None,
        max_len: int = 100,
        batch_size: int = 64,
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        split_seed: int = 0,
        num_workers: int = 0,
        pin_memory: bool = False,
        bucket_batches: int = 50,
        random_cuts: bool = False,
        min_eval_answers: int = 200,
        fitted_state: dict[str, Any] | None = None,
        path: str | None = None,
        train: str | None = None,
        valid: str | None = None,
        test: str | None = None,
        item_text: ItemTexts | None = None,
        text_encoder: str | None = None,
        text_cache_dir: str | None = None,
        text_components: int = 0,
        problem_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        item_features = list(item_features or ["skill_id"])
        raise_problems(
            "data",
            self.check_args(
                {
                    "context_features": context_features,
                    "query_features": query_features,
                    "item_features": item_features,
                    "max_len": max_len,
                    "batch_size": batch_size,
                    "val_fraction": val_fraction,
                    "test_fraction": test_fraction,
                    "split_seed": split_seed,
                    "num_workers": num_workers,
                    "bucket_batches": bucket_batches,
                    "random_cuts": random_cuts,
                    "min_eval_answers": min_eval_answers,
                    "text_components": text_components,
                    "problem_dropout": problem_dropout,
                }
            ),
        )
        if ITEM_TEXT in item_features and item_text is None:
            raise ConfigError(
                f"data.item_features names {ITEM_TEXT} but data.item_text gives no question texts; set "
                "data.item_text (e.g. the texts of data=dbe_kt22) or drop question_text."
            )
        self.required = required_columns(context_features, query_features, item_features)
        self.item_text = item_text
        self.text_encoder = text_encoder
        self.text_cache_dir = text_cache_dir
        self.text_components = text_components
        self.problem_dropout = problem_dropout
        self.source = source
        self.max_len = max_len
        self.batch_size = batch_size
        self.val_fraction = val_fraction
        self.test_fraction = test_fraction
        self.split_seed = split_seed
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.bucket_batches = bucket_batches
        self.random_cuts = random_cuts
        self.min_eval_answers = min_eval_answers
        self.encoder = (
            InteractionEncoder.from_state_dict(fitted_state)
            if fitted_state
            else InteractionEncoder(context_features, query_features, item_features)
        )
        self.parts: dict[str, pd.DataFrame] = {}
        self.datasets: dict[str, WindowDataset] = {}

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the DataModule's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.integer("max_len", 2)
        checks.integer("batch_size", 1)
        checks.in_range("val_fraction", 0.0, 1.0)
        checks.in_range("test_fraction", 0.0, 1.0)
        checks.integer("split_seed", 0)
        checks.integer("num_workers", 0)
        checks.integer("bucket_batches", 1)
        checks.integer("min_eval_answers", 0)
        checks.integer("text_components", 0)
        checks.in_range("problem_dropout", 0.0, 1.0)
        checks.require("random_cuts", lambda v: isinstance(v, bool), "must be true or false")
        if not checks.problems:
            held_out = args.get("val_fraction", 0.1) + args.get("test_fraction", 0.1)
            checks.require(
                "test_fraction", lambda _: held_out < 1.0, "val_fraction + test_fraction must be < 1"
            )
        problems = checks.problems
        if "context_features" in args:
            problems += feature_problems(
                args["context_features"], args.get("query_features", []), args.get("item_features") or []
            )
        return problems

    # ------------------------------------------------------------------ the contract
    def model_inputs(self) -> dict[str, Any]:
        """What a model of this data is built with: ``dims`` for the network, ``state`` (plain data) to store."""
        if not self.encoder.fitted:
            raise RuntimeError("model_inputs() needs setup() first: the encoder is fitted there")
        inputs: dict[str, Any] = {"dims": self.encoder.dims, "state": self.encoder.state_dict()}
        if "train" in self.datasets:
            # Mean scored answers per training batch (every step of a window but its first): the scale of
            # the loss that weighs every answer the same whatever batch it falls in (model.loss_scale).
            lengths = np.asarray(self.datasets["train"].lengths)
            inputs["answers_per_batch"] = float(
                max(lengths.mean() - 1.0, 1.0) * min(self.batch_size, len(lengths))
            )
        return inputs

    # ------------------------------------------------------------------ preparation
    def prepare_data(self) -> None:
        prepare = getattr(self.source, "prepare", None)
        if callable(prepare):
            prepare()

    def _groups(self, frame: pd.DataFrame) -> dict[str, set]:
        name = self.source.name
        if SPLIT_COLUMN in frame:
            groups = split_from_column(frame, name)
            empty = [SPLIT_LABELS[s] for s in SPLITS if not groups[s]]
            if empty:
                raise DataValidationError(
                    f"{name}: its '{SPLIT_COLUMN}' column gives no learner to the {' and '.join(empty)} "
                    f"split; each of {', '.join(SPLITS)} needs at least one learner (or drop the column to "
                    "split learners at random)."
                )
            log.info("%s: following the released split of column '%s'", name, SPLIT_COLUMN)
            return groups
        groups = split_students(
            frame["student_id"].to_numpy(), self.val_fraction, self.test_fraction, self.split_seed
        )
        n = frame["student_id"].nunique()
        for split, fraction in (("val", self.val_fraction), ("test", self.test_fraction)):
            if fraction > 0 and not groups[split]:
                raise ConfigError(
                    f"{name} has {n} learner(s): too few for a {SPLIT_LABELS[split]} split "
                    f"({split}_fraction={fraction}) beside the test and training ones; each split needs at "
                    "least one learner, so use data with at least 3 learners (many more for a meaningful AUC)."
                )
        if not groups["train"]:
            raise ConfigError(
                f"{name} has {n} learner(s): too few to keep any for training with val_fraction="
                f"{self.val_fraction} and test_fraction={self.test_fraction}; add learners or lower the fractions."
            )
        return groups

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        frame = self.source.load(self.required)
        groups = self._groups(frame)
        self.parts = self.split_parts(frame, groups)
        if not self.encoder.fitted:
            self.encoder.fit(self.parts["train"])
        self._ensure_text_table()
        for name in SPLITS:
            self.datasets[name] = self._windows(self.parts[name])
        sizes = {name: split_size(name, len(groups[name]), self.datasets[name]) for name in SPLITS}
        check_split_sizes(sizes, self.source.name, self.min_eval_answers)
        log.info(
            "%s: %s",
            self.source.name,
            ", ".join(
                f"{name} {len(groups[name])} learners / {len(self.datasets[name])} windows" for name in SPLITS
            ),
        )

    def _ensure_text_table(self) -> None:
        """Give the encoder its question-text vectors when it reads them (from the disk cache once computed)."""
        if self.encoder.item_text and self.encoder.text_table is None:
            assert self.item_text is not None  # checked in __init__
            ids, table, reduction = text_table(
                self.item_text,
                self.encoder.text_ids,
                self.text_encoder,
                self.text_cache_dir,
                self.text_components,
                self.encoder.text_reduction,
            )
            self.encoder.set_text_table(ids, table, reduction)

    def split_parts(self, frame: pd.DataFrame, groups: dict[str, set]) -> dict[str, pd.DataFrame]:
        """Each split's rows (its learners') and ``all``; a subclass may hold some rows out of training."""
        parts = {name: frame[frame["student_id"].isin(ids)] for name, ids in groups.items()}
        parts["all"] = frame
        return parts

    def _windows(self, frame: pd.DataFrame) -> WindowDataset:
        encoded = self.encoder.transform(frame)
        return WindowDataset(encoded, *make_windows(encoded.offsets, self.max_len))

    # ------------------------------------------------------------------ loaders
    def _world(self) -> tuple[int, int]:
        trainer = getattr(self, "trainer", None)
        if trainer is None:
            return 1, 0
        return trainer.world_size, trainer.global_rank

    def dataloader(self, split: str, shuffle: bool | None = None) -> DataLoader:
        """A loader over one split: ``train``, ``val``, ``test`` or ``all`` (every learner)."""
        if split == "all" and "all" not in self.datasets:
            self.datasets["all"] = self._windows(self.parts["all"])
        dataset = self.datasets[split]
        shuffle = split == "train" if shuffle is None else shuffle
        world, rank = self._world()
        n_batches = -(-len(dataset) // self.batch_size)
        if shuffle and world > 1 and n_batches < world:
            raise ConfigError(
                f"batch_size={self.batch_size} gives {n_batches} training batch(es) for {world} processes; "
                f"lower data.batch_size to at most {max(1, len(dataset) // world)} or use fewer devices."
            )
        sampler: LengthBucketBatchSampler | RandomCutBatchSampler
        if split == "train" and shuffle and self.random_cuts:
            sampler = RandomCutBatchSampler(
                dataset.encoded.offsets,
                self.max_len,
                batch_size=self.batch_size,
                seed=self.split_seed,
                bucket_batches=self.bucket_batches,
                num_replicas=world,
                rank=rank,
            )
        else:
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
            # the epoch about to run: current_epoch lags by one when a fit resumes from an epoch-end checkpoint
            sampler.set_epoch(self.trainer.fit_loop.epoch_progress.current.processed)
        return DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=dataset.collator(self.problem_dropout if split == "train" and shuffle else 0.0),
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

    # ------------------------------------------------------------------ prediction
    def predict(
        self,
        model: torch.nn.Module,
        frame: pd.DataFrame,
        source: str = "history",
        line_offset: int | None = None,
        max_len: int | None = None,
        batch_size: int = 256,
    ) -> pd.DataFrame:
        """Next-step success probability of every known skill for every learner of ``frame``.

        See :func:`ktlab.data.next_step.predict_next_step`; ``max_len`` defaults to this data's.
        """
        reading = self._reading(source, line_offset, max_len, batch_size)
        return predict_next_step(model, frame, self.encoder, **reading)

    def states(
        self,
        model: torch.nn.Module,
        frame: pd.DataFrame,
        source: str = "history",
        line_offset: int | None = None,
        max_len: int | None = None,
        batch_size: int = 256,
    ) -> pd.DataFrame:
        """The knowledge state after every step of every learner of ``frame``.

        See :func:`ktlab.data.states.knowledge_states`; ``max_len`` defaults to this data's.
        """
        return knowledge_states(
            model, frame, self.encoder, **self._reading(source, line_offset, max_len, batch_size)
        )

    def _reading(self, source: str, line_offset: int | None, max_len: int | None, batch_size: int) -> dict:
        """How a history is read for a prediction: its name and lines, the window length, the batch size."""
        self._ensure_text_table()  # a restored checkpoint reads its questions' texts before it predicts
        return {
            "max_len": max_len or self.max_len,
            "batch_size": batch_size,
            "source": source,
            "line_offset": line_offset,
        }
