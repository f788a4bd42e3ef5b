"""pyKT sequence tables as tensors, and batches in ktlab's batch layout.

A batch holds the keys every ktlab sequence network reads (see :class:`ktlab.data.batching.WindowCollator`):
``skill`` (concept id + 1; 0 is padding), ``problem`` (question id + 1), ``correct``, ``mask`` (real
rows), ``copy`` (the second and later concept rows of a question), ``context`` / ``query`` (no signals:
width 0), ``phase`` (zeros), ``p_true`` (NaN), plus the protocol's own: ``select`` (pyKT's
``selectmasks`` == 1, the rows a protocol may score), and for question-level sequences ``qidx`` and
``rest``. A window is cut to the longest real sequence of its batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from ktlab.data.pykt.split import Table


def _ints(table: Table, key: str, width: int) -> np.ndarray:
    out = np.full((len(table), width), -1, dtype=np.int64)
    for i, row in enumerate(table):
        values = np.asarray(row[key], dtype=np.int64)
        out[i, : len(values)] = values
    return out


@dataclass
class SequenceTensors:
    """One sequence table as ``[N, L]`` arrays (-1 padding kept in ``concepts``/``questions``)."""

    concepts: np.ndarray
    questions: np.ndarray | None
    responses: np.ndarray
    select: np.ndarray
    copy: np.ndarray
    qidx: np.ndarray | None = None
    rest: np.ndarray | None = None

    @classmethod
    def from_table(cls, table: Table, skill_key: str = "concepts") -> SequenceTensors:
        """Arrays of a sequence table; ``skill_key`` names the column read as skills."""
        width = max((len(row["responses"]) for row in table), default=1)
        responses = _ints(table, "responses", width)
        has_q = bool(table) and "questions" in table[0]
        return cls(
            concepts=_ints(table, skill_key, width),
            questions=_ints(table, "questions", width) if has_q and skill_key != "questions" else None,
            responses=responses,
            select=_ints(table, "selectmasks", width) == 1,
            copy=(_ints(table, "is_repeat", width) == 1)
            if table and "is_repeat" in table[0]
            else np.zeros_like(responses, dtype=bool),
            qidx=_ints(table, "qidxs", width) if table and "qidxs" in table[0] else None,
            rest=_ints(table, "rest", width) if table and "rest" in table[0] else None,
        )

    def __len__(self) -> int:
        return int(self.responses.shape[0])

    @property
    def lengths(self) -> np.ndarray:
        """Real rows per sequence."""
        return (self.responses != -1).sum(axis=1)


class SequenceDataset(Dataset[int]):
    """Sequences of one table; an item is its index, gathered into a batch by :class:`SequenceCollator`."""

    def __init__(self, tensors: SequenceTensors) -> None:
        self.tensors = tensors

    def __len__(self) -> int:
        return len(self.tensors)

    def __getitem__(self, index: int) -> int:
        return index


class SequenceCollator:
    """Indices of sequences to a batch dict (see the module docstring).

    Args:
        tensors: the table's arrays.
        first_rows_only: select only the first concept row of each question (``copy`` rows unselected):
            the non-leaking validation selection on multi-concept data.
    """

    def __init__(self, tensors: SequenceTensors, first_rows_only: bool = False) -> None:
        self.t = tensors
        self.first_rows_only = first_rows_only

    def __call__(self, items: list[int]) -> dict[str, torch.Tensor]:
        idx = np.asarray(items, dtype=np.int64)
        width = int(max(self.t.lengths[idx].max(), 1))
        real = self.t.responses[idx, :width] != -1
        concepts = self.t.concepts[idx, :width]
        skill = np.where(real, concepts + 1, 0)
        select = self.t.select[idx, :width] & real
        copy = self.t.copy[idx, :width] & real
        if self.first_rows_only:
            select = select & ~copy
        n, t = skill.shape
        batch = {
            "skill": torch.from_numpy(skill),
            "correct": torch.from_numpy(np.where(real, self.t.responses[idx, :width], 0).astype(np.float32)),
            "mask": torch.from_numpy(real),
            "select": torch.from_numpy(select),
            "copy": torch.from_numpy(copy),
            "context": torch.zeros(n, t, 0),
            "query": torch.zeros(n, t, 0),
            "phase": torch.zeros(n, t, dtype=torch.long),
            "p_true": torch.full((n, t), float("nan")),
        }
        if self.t.questions is not None:
            batch["problem"] = torch.from_numpy(np.where(real, self.t.questions[idx, :width] + 1, 0))
        if self.t.qidx is not None and self.t.rest is not None:
            batch["qidx"] = torch.from_numpy(self.t.qidx[idx, :width])
            batch["rest"] = torch.from_numpy(self.t.rest[idx, :width])
        return batch
