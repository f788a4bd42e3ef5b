"""Vectorized encoding of interaction tables into flat arrays, and windows over them.

:class:`InteractionEncoder` is fitted on the training learners only. What it does to each column follows
the column's declaration in :mod:`ktlab.data.schema`:

* item ids (``skill_id``, ``problem_id`` when ``data.item_features`` names it) and categorical signals
  (``phase_type``) become vocabulary ids 1..n; 0 is padding and any value unseen in training, whose
  embedding (or one-hot) is zero, so the model predicts from the history and the other signals alone;
* numeric signals are standardized (after their declared transform, ``log1p`` for durations) into the
  ``context`` (answered step) and ``query`` (known before the predicted step) matrices;
* the answer and the oracle probability are copied;
* with ``question_text`` among the item features, each row's question is also looked up in a table of
  text vectors (:mod:`ktlab.data.item_text`; row 0, zeros, for a question without text): ``text_row``
  is the row, and the batch carries the vectors as ``item_vec`` ``[B, T, E]``. The table covers every
  question with a text, those unseen in training too;
* an answer tagged with several skills arrives as one row per skill (same learner and ``t``, see
  :mod:`ktlab.data.schema`): its rows stay in the order given, each a step of its own, so a network that
  reads one skill per step needs nothing else; the rows after the first are flagged ``copy`` (batch key
  ``copy``), and the evaluation protocols neither score nor train on them (their answer is in the history).

Its state is plain data stored inside every checkpoint, so ``eval.py`` and ``predict.py`` encode exactly
as training did. Encoded arrays are flat, sorted by learner then ``t``; ``offsets[i]:offsets[i + 1]`` is
learner ``i``. Sequences longer than ``max_len`` are cut into consecutive windows by :func:`make_windows`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ktlab.data.schema import CONTEXT_COLUMNS, ITEM_COLUMNS, ITEM_TEXT, ORACLE_COLUMN, SCHEMA
from ktlab.utils.logging import get_logger

log = get_logger(__name__)

#: The categorical signals and their batch keys: always in a batch (zeros when a run does not use them).
CATEGORICAL = tuple(name for name in CONTEXT_COLUMNS if SCHEMA[name].categorical)


@dataclass
class EncodedInteractions:
    """Flat, learner-sorted arrays of one table (see the module docstring).

    ``fields`` maps each batch key to its ``[N, ...]`` array: ``skill`` (and ``problem``) int64 ids,
    ``correct`` float32, ``context`` ``[N, C]`` and ``query`` ``[N, Q]`` float32 standardized signals,
    ``phase`` int64 ids, ``p_true`` float32 (NaN where unknown).
    """

    student_ids: np.ndarray  # [S] learner ids (str), in encoded order
    offsets: np.ndarray  # [S + 1] int64 boundaries into the flat arrays
    t: np.ndarray  # [N] float64 original step values
    fields: dict[str, np.ndarray] = field(default_factory=dict)
    source_rows: np.ndarray | None = None  # [N] each row's position in the table it was encoded from
    #: batch key -> (the field holding each row's index, the table ``[M, ...]`` that index reads)
    lookups: dict[str, tuple[str, np.ndarray]] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.fields["correct"].shape[0])


class InteractionEncoder:
    """Fits vocabularies and a scaler on training data, then encodes any table the same way.

    Args:
        context_features: signals of each answered step fed to the model (the ``x_t`` side).
        query_features: known-before signals of the step being predicted (the ``t+1`` side).
        item_features: item id columns the model embeds; ``skill_id`` is always one; ``question_text`` adds
            each question's text vector (:meth:`set_text_table` gives the table).
    """

    def __init__(
        self,
        context_features: Sequence[str],
        query_features: Sequence[str],
        item_features: Sequence[str] = ("skill_id",),
    ) -> None:
        self.context_features = [c for c in CONTEXT_COLUMNS if c in set(context_features)]
        self.query_features = [c for c in CONTEXT_COLUMNS if c in set(query_features)]
        self.item_features = [c for c in ITEM_COLUMNS if c in {"skill_id", *item_features}]
        self.item_text = ITEM_TEXT in set(item_features)
        self.text_table: np.ndarray | None = None  # [1 + questions with text, E]; not part of the state
        self.text_reduction: dict[str, list] | None = None  # see ktlab.data.item_text.fit_reduction
        self.vocab: dict[str, list[str]] = {}
        self.mean: dict[str, float] = {}
        self.std: dict[str, float] = {}
        self.skill_difficulty: list[float] = []
        self._lookups: dict[str, tuple[list[str], pd.Index]] = {}

    # ------------------------------------------------------------------ state
    @property
    def fitted(self) -> bool:
        return bool(self.vocab.get("skill_id"))

    @property
    def skills(self) -> list[str]:
        return self.vocab.get("skill_id", [])

    def _used(self) -> set[str]:
        return set(self.context_features) | set(self.query_features)

    @property
    def numeric_context(self) -> list[str]:
        return [c for c in self.context_features if not SCHEMA[c].categorical]

    @property
    def numeric_query(self) -> list[str]:
        return [c for c in self.query_features if not SCHEMA[c].categorical]

    @property
    def dims(self) -> dict[str, Any]:
        """Sizes a network needs: vocabulary sizes, numeric widths and which inputs carry the phase."""
        return {
            "n_skills": len(self.vocab.get("skill_id", [])),
            "n_problems": len(self.vocab.get("problem_id", [])),
            "n_phases": len(self.vocab.get("phase_type", [])),
            "context_dim": len(self.numeric_context),
            "query_dim": len(self.numeric_query),
            "phase_in_context": "phase_type" in self.context_features,
            "phase_in_query": "phase_type" in self.query_features,
            "item_vec_dim": int(self.text_table.shape[1])
            if self.item_text and self.text_table is not None
            else 0,
        }

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild the encoder, as plain Python values."""
        return {
            "context_features": list(self.context_features),
            "query_features": list(self.query_features),
            "item_features": list(self.item_features) + ([ITEM_TEXT] if self.item_text else []),
            "vocab": {name: list(values) for name, values in self.vocab.items()},
            "mean": dict(self.mean),
            "std": dict(self.std),
            "skill_difficulty": list(self.skill_difficulty),
            "text_reduction": self.text_reduction,
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> InteractionEncoder:
        enc = cls(state["context_features"], state["query_features"], state.get("item_features", ()))
        enc.vocab = {name: list(values) for name, values in state["vocab"].items()}
        enc.mean = {k: float(v) for k, v in state["mean"].items()}
        enc.std = {k: float(v) for k, v in state["std"].items()}
        enc.skill_difficulty = [float(v) for v in state.get("skill_difficulty", [])]
        enc.text_reduction = state.get("text_reduction")
        return enc

    # ------------------------------------------------------------------ fit / transform
    @staticmethod
    def _numeric(frame: pd.DataFrame, column: str) -> np.ndarray:
        values = frame[column].to_numpy(dtype=np.float64)
        return np.log1p(values) if SCHEMA[column].transform == "log1p" else values

    def fit(self, frame: pd.DataFrame) -> InteractionEncoder:
        """Learn the vocabularies and the mean/std of every numeric signal used."""
        used = self._used()
        self.vocab = {name: _sorted_ids(frame[name]) for name in self.item_features}
        for name in CATEGORICAL:
            if name in used:
                self.vocab[name] = sorted(pd.unique(frame[name]).tolist())
        for column in sorted(used - set(CATEGORICAL)):
            values = self._numeric(frame, column)
            std = float(values.std())
            self.mean[column] = float(values.mean())
            self.std[column] = std if std > 1e-8 else 1.0
        if "difficulty" in frame:
            per_skill = frame.groupby("skill_id", sort=False)["difficulty"].mean()
            self.skill_difficulty = [float(per_skill.get(s, np.nan)) for s in self.skills]
        log.info(
            "encoder fitted: %s, context %s, query %s",
            ", ".join(f"{len(v)} {k} values" for k, v in self.vocab.items()),
            self.context_features,
            self.query_features,
        )
        return self

    @property
    def text_ids(self) -> list[str] | None:
        """The question ids of the text table, in its row order (None before :meth:`set_text_table`)."""
        return self.vocab.get(ITEM_TEXT)

    def set_text_table(
        self, ids: Sequence[str], table: np.ndarray, reduction: dict[str, list] | None = None
    ) -> None:
        """The text vectors ``table`` (row 0 zeros, then one row per id of ``ids``), read by :meth:`transform`,
        and the reduction they went through (kept in the state, so a checkpoint reduces its texts alike)."""
        if len(table) != len(ids) + 1:
            raise ValueError(
                f"a text table for {len(ids)} question(s) needs {len(ids) + 1} rows, not {len(table)}"
            )
        self.vocab[ITEM_TEXT] = list(ids)
        self.text_table = np.asarray(table, dtype=np.float32)
        self.text_reduction = reduction

    def _scaled(self, frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
        out = np.empty((len(frame), len(columns)), dtype=np.float32)
        for j, column in enumerate(columns):
            out[:, j] = (self._numeric(frame, column) - self.mean[column]) / self.std[column]
        return out

    def index(self, name: str, values: Sequence[str] | np.ndarray) -> np.ndarray:
        """Values of column ``name`` to model ids (1-based; 0 for values unseen in training or unused)."""
        vocab = self.vocab.get(name)
        if not vocab:
            return np.zeros(len(values), dtype=np.int64)
        # The lookup index of a vocabulary is built once (a prediction encodes a short history per call).
        cached = self._lookups.get(name)
        if cached is None or cached[0] is not vocab:
            cached = self._lookups[name] = (vocab, pd.Index(vocab))
        return cached[1].get_indexer(np.asarray(values, dtype=object)).astype(np.int64) + 1

    def skill_index(self, skill_ids: Sequence[str] | np.ndarray) -> np.ndarray:
        """Skill ids to model ids (1-based; 0 for skills unseen in training)."""
        return self.index("skill_id", skill_ids)

    def transform(self, frame: pd.DataFrame) -> EncodedInteractions:
        """Encode a validated table; rows are reordered by learner then ``t``."""
        if not self.fitted:
            raise RuntimeError("InteractionEncoder.transform called before fit")
        codes, uniques = pd.factorize(frame["student_id"], sort=False)
        order = np.lexsort((frame["t"].to_numpy(), codes))
        frame = frame.iloc[order]
        codes = codes[order]
        starts = np.flatnonzero(np.r_[len(codes) > 0, codes[1:] != codes[:-1]])  # none for an empty table
        offsets = np.r_[starts, len(frame)].astype(np.int64)

        fields: dict[str, np.ndarray] = {}
        for name in self.item_features:
            ids = self.index(name, frame[name].to_numpy())
            unseen = int((ids == 0).sum())
            if unseen:
                log.warning("%d interaction(s) have a %s unseen in training (zero embedding)", unseen, name)
            fields[SCHEMA[name].batch_key] = ids
        lookups = {}
        if self.item_text:
            if self.text_table is None:
                raise RuntimeError(
                    "InteractionEncoder.transform with question_text needs set_text_table first"
                )
            fields["text_row"] = self.index(ITEM_TEXT, frame["problem_id"].to_numpy())
            lookups["item_vec"] = ("text_row", self.text_table)
        fields["correct"] = frame["correct"].to_numpy(dtype=np.float32)
        fields["context"] = self._scaled(frame, self.numeric_context)
        fields["query"] = self._scaled(frame, self.numeric_query)
        for name in CATEGORICAL:
            fields[SCHEMA[name].batch_key] = (
                self.index(name, frame[name].to_numpy())
                if name in self.vocab
                else np.zeros(len(frame), np.int64)
            )
        # The second and later rows of an answer tagged with several skills (same learner, same t): the
        # model reads them as history, but they are not predicted (their answer is the row before's).
        same_step = np.r_[False, (codes[1:] == codes[:-1]) & (np.diff(frame["t"].to_numpy()) == 0)]
        fields["copy"] = same_step
        fields[SCHEMA[ORACLE_COLUMN].batch_key] = (
            frame[ORACLE_COLUMN].to_numpy(dtype=np.float32)
            if ORACLE_COLUMN in frame
            else np.full(len(frame), np.nan, dtype=np.float32)
        )
        return EncodedInteractions(
            student_ids=np.asarray(uniques, dtype=object)[codes[starts]],
            offsets=offsets,
            t=frame["t"].to_numpy(dtype=np.float64),
            fields=fields,
            source_rows=order.astype(np.int64),
            lookups=lookups,
        )


def _sorted_ids(values: pd.Series) -> list[str]:
    return sorted(pd.unique(values).tolist(), key=_natural_key)


def _natural_key(value: str) -> tuple[int, Any]:
    """Sort numeric-looking ids numerically ("2" before "10"), others as text after them."""
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)


def make_windows(offsets: np.ndarray, max_len: int, min_len: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Cut every learner's sequence into consecutive windows of at most ``max_len`` steps.

    Nothing is dropped silently: a trailing window shorter than ``min_len`` (it would hold no scored
    step) is dropped and counted in the log.

    Returns:
        ``(starts, lengths)``: flat start index and length of every window, learner by learner.
    """
    lengths = np.diff(offsets)
    if len(lengths) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    n_windows = -(-lengths // max_len)  # ceil
    owner = np.repeat(np.arange(len(lengths)), n_windows)
    first_window = np.r_[0, np.cumsum(n_windows)[:-1]]
    rank = np.arange(int(n_windows.sum())) - np.repeat(first_window, n_windows)
    starts = offsets[:-1][owner] + rank * max_len
    win_len = np.minimum(max_len, lengths[owner] - rank * max_len)
    keep = win_len >= min_len
    if not keep.all():
        log.info("dropped %d window(s) shorter than %d step(s)", int((~keep).sum()), min_len)
    long_ = int((lengths > max_len).sum())
    if long_:
        log.info("%d sequence(s) longer than max_len=%d were cut into windows", long_, max_len)
    return starts[keep].astype(np.int64), win_len[keep].astype(np.int64)


def random_windows(
    offsets: np.ndarray, max_len: int, rng: np.random.Generator, min_len: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Cut every learner's sequence into windows of at most ``max_len`` steps, the cuts moved at random.

    A learner with ``n > max_len`` answers is cut as by :func:`make_windows` after a first window of a
    random ``s`` steps (``s`` uniform over ``0 .. max_len - 1``; ``s = 0`` is the usual cut), so every cut
    moves by ``s``; a learner with at most ``max_len`` answers keeps one window. Drawn anew each epoch, this
    shows the model each answer after histories of other lengths (a training augmentation; evaluation
    keeps :func:`make_windows`). Windows shorter than ``min_len`` are dropped, so the number of windows
    varies a little with the draw; :func:`max_random_windows` bounds it.

    Returns:
        ``(starts, lengths)`` as :func:`make_windows` returns them.
    """
    lengths = np.diff(offsets).astype(np.int64)
    shift = np.where(lengths > max_len, rng.integers(0, max_len, len(lengths)), 0)
    lead = (max_len - shift) % max_len  # the sequence is cut as if it began ``lead`` steps earlier
    k = -(-(lengths + lead) // max_len)
    owner = np.repeat(np.arange(len(lengths)), k)
    rank = np.arange(int(k.sum())) - np.repeat(np.r_[0, np.cumsum(k)[:-1]], k)
    virtual = rank * max_len - lead[owner]  # window start relative to the learner's first answer
    start = np.maximum(virtual, 0)
    end = np.minimum(virtual + max_len, lengths[owner])
    keep = end - start >= min_len
    return (offsets[:-1][owner] + start)[keep].astype(np.int64), (end - start)[keep].astype(np.int64)


def max_random_windows(offsets: np.ndarray, max_len: int, min_len: int = 2) -> int:
    """The most windows :func:`random_windows` can give: one more than usual for each long learner."""
    lengths = np.diff(offsets)
    long_ = lengths > max_len
    return int((-(-lengths[long_] // max_len) + 1).sum() + ((lengths >= min_len) & ~long_).sum())


def last_windows(offsets: np.ndarray, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """The last ``max_len`` steps of every learner (what a prediction conditions on)."""
    lengths = np.diff(offsets)
    win_len = np.minimum(lengths, max_len)
    return (offsets[1:] - win_len).astype(np.int64), win_len.astype(np.int64)
