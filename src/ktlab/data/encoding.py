"""Vectorized encoding of interaction tables into flat arrays, and windows over them.

:class:`InteractionEncoder` is fitted on the training learners only. It maps skills and phases to integer
ids and standardizes the numeric signals, over whole columns (no per-row Python). Its state is a plain
dict saved inside every checkpoint, so ``eval.py`` and ``predict.py`` encode exactly as training did.

Unseen values at encoding time:

* a skill not seen in training maps to id 0, the padding id, whose embedding is fixed at zero: the model
  then predicts from the learner's history and the context signals alone; a warning gives the count;
* a phase not seen in training maps to id 0 likewise (a zero one-hot).

Encoded arrays are flat, sorted by learner then ``t``; ``offsets[i]:offsets[i + 1]`` is learner ``i``.
Sequences longer than ``max_len`` are cut into consecutive windows by :func:`make_windows`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ktlab.data.schema import CONTEXT_COLUMNS, ORACLE_COLUMN

log = logging.getLogger(__name__)

NUMERIC_SIGNALS: tuple[str, ...] = ("difficulty", "adjustment", "time_spent", "motivation", "anxiety_level")
PHASE = "phase_type"


@dataclass
class EncodedInteractions:
    """Flat, learner-sorted arrays of one table (see the module docstring)."""

    student_ids: np.ndarray  # [S] learner ids (str), in encoded order
    offsets: np.ndarray  # [S + 1] int64 boundaries into the flat arrays
    t: np.ndarray  # [N] float64 original step values
    skill: np.ndarray  # [N] int64, 0 = unseen skill
    correct: np.ndarray  # [N] float32
    context: np.ndarray  # [N, C] float32 standardized signals of the answered step
    query: np.ndarray  # [N, Q] float32 standardized known-before signals of the step
    phase: np.ndarray  # [N] int64, 0 = unseen or unused
    p_true: np.ndarray  # [N] float32, NaN where unknown

    def __len__(self) -> int:
        return int(self.skill.shape[0])


class InteractionEncoder:
    """Fits category maps and a scaler on training data, then encodes any table the same way.

    Args:
        context_features: signals of each answered step fed to the model (the ``x_t`` side).
        query_features: known-before signals of the step being predicted (the ``t+1`` side).
    """

    def __init__(self, context_features: Sequence[str], query_features: Sequence[str]) -> None:
        self.context_features = [c for c in CONTEXT_COLUMNS if c in set(context_features)]
        self.query_features = [c for c in CONTEXT_COLUMNS if c in set(query_features)]
        self.skills: list[str] = []
        self.phases: list[str] = []
        self.mean: dict[str, float] = {}
        self.std: dict[str, float] = {}
        self.skill_difficulty: list[float] = []

    # ------------------------------------------------------------------ state
    @property
    def fitted(self) -> bool:
        return bool(self.skills)

    @property
    def numeric_context(self) -> list[str]:
        return [c for c in self.context_features if c in NUMERIC_SIGNALS]

    @property
    def numeric_query(self) -> list[str]:
        return [c for c in self.query_features if c in NUMERIC_SIGNALS]

    @property
    def dims(self) -> dict[str, Any]:
        """Sizes a network needs: vocabulary sizes, numeric widths and which inputs carry the phase."""
        return {
            "n_skills": len(self.skills),
            "n_phases": len(self.phases),
            "context_dim": len(self.numeric_context),
            "query_dim": len(self.numeric_query),
            "phase_in_context": PHASE in self.context_features,
            "phase_in_query": PHASE in self.query_features,
        }

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild the encoder, as plain Python values."""
        return {
            "context_features": list(self.context_features),
            "query_features": list(self.query_features),
            "skills": list(self.skills),
            "phases": list(self.phases),
            "mean": dict(self.mean),
            "std": dict(self.std),
            "skill_difficulty": list(self.skill_difficulty),
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> InteractionEncoder:
        enc = cls(state["context_features"], state["query_features"])
        enc.skills = list(state["skills"])
        enc.phases = list(state["phases"])
        enc.mean = {k: float(v) for k, v in state["mean"].items()}
        enc.std = {k: float(v) for k, v in state["std"].items()}
        enc.skill_difficulty = [float(v) for v in state.get("skill_difficulty", [])]
        return enc

    # ------------------------------------------------------------------ fit / transform
    def _numeric(self, frame: pd.DataFrame, column: str) -> np.ndarray:
        values = frame[column].to_numpy(dtype=np.float64)
        return np.log1p(values) if column == "time_spent" else values

    def fit(self, frame: pd.DataFrame) -> InteractionEncoder:
        """Learn skill and phase vocabularies and the mean/std of every numeric signal used."""
        self.skills = sorted(pd.unique(frame["skill_id"]).tolist(), key=_natural_key)
        used = set(self.context_features) | set(self.query_features)
        self.phases = sorted(pd.unique(frame[PHASE]).tolist()) if PHASE in used else []
        for column in NUMERIC_SIGNALS:
            if column in used:
                values = self._numeric(frame, column)
                std = float(values.std())
                self.mean[column] = float(values.mean())
                self.std[column] = std if std > 1e-8 else 1.0
        if "difficulty" in frame:
            per_skill = frame.groupby("skill_id", sort=False)["difficulty"].mean()
            self.skill_difficulty = [float(per_skill.get(s, np.nan)) for s in self.skills]
        log.info(
            "encoder fitted: %d skills, %d phases, context %s, query %s",
            len(self.skills),
            len(self.phases),
            self.context_features,
            self.query_features,
        )
        return self

    def _scaled(self, frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
        if not columns:
            return np.zeros((len(frame), 0), dtype=np.float32)
        out = np.empty((len(frame), len(columns)), dtype=np.float32)
        for j, column in enumerate(columns):
            out[:, j] = (self._numeric(frame, column) - self.mean[column]) / self.std[column]
        return out

    def skill_index(self, skill_ids: Sequence[str] | np.ndarray) -> np.ndarray:
        """Skill ids to model ids (1-based; 0 for skills unseen in training)."""
        return pd.Index(self.skills).get_indexer(np.asarray(skill_ids, dtype=object)).astype(np.int64) + 1

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

        skill = self.skill_index(frame["skill_id"].to_numpy())
        unseen = int((skill == 0).sum())
        if unseen:
            log.warning(
                "%d interaction(s) have skills unseen in training; they use the zero skill embedding", unseen
            )
        if self.phases:
            phase = pd.Index(self.phases).get_indexer(frame[PHASE].to_numpy()).astype(np.int64) + 1
        else:
            phase = np.zeros(len(frame), dtype=np.int64)
        p_true = (
            frame[ORACLE_COLUMN].to_numpy(dtype=np.float32)
            if ORACLE_COLUMN in frame
            else np.full(len(frame), np.nan, dtype=np.float32)
        )
        return EncodedInteractions(
            student_ids=np.asarray(uniques, dtype=object)[codes[starts]],
            offsets=offsets,
            t=frame["t"].to_numpy(dtype=np.float64),
            skill=skill,
            correct=frame["correct"].to_numpy(dtype=np.float32),
            context=self._scaled(frame, self.numeric_context),
            query=self._scaled(frame, self.numeric_query),
            phase=phase,
            p_true=p_true,
        )


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


def last_windows(offsets: np.ndarray, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """The last ``max_len`` steps of every learner (what a prediction conditions on)."""
    lengths = np.diff(offsets)
    win_len = np.minimum(lengths, max_len)
    return (offsets[1:] - win_len).astype(np.int64), win_len.astype(np.int64)
