"""Batches of answers that carry each distinct question's tokens once, padded to the batch's longest.

A batch of ``B`` answers to ``Q`` distinct questions (``Q <= B``)::

    input_ids      [Q, L] long   the questions' tokens, padded with the pad id to the longest (or pad_to)
    attention_mask [Q, L] long   1 on tokens, 0 on padding
    question       [B]    long   the row of input_ids each answer is about
    student        [B]    long   the student's index (0: a student unknown to the model)
    correct        [B]    float  1 right, 0 wrong
    p_true         [B]    float  the true success probability (NaN where unknown; never an input)
    answer         [B]    long   the answer's row in its dataset
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset


@dataclass
class TokenizedQuestions:
    """Token ids of every question: question ``i`` is ``ids[offsets[i]:offsets[i + 1]]``."""

    ids: np.ndarray
    offsets: np.ndarray
    pad_id: int

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


class AnswerDataset(Dataset[int]):
    """Answers of one split; an item is its row index, the batch is built by :class:`QuestionCollator`."""

    def __init__(
        self, question: np.ndarray, student: np.ndarray, correct: np.ndarray, p_true: np.ndarray
    ) -> None:
        self.question = np.array(question, dtype=np.int64)  # copies: torch needs writable arrays
        self.student = np.array(student, dtype=np.int64)
        self.correct = np.array(correct, dtype=np.float32)
        self.p_true = np.array(p_true, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.question)

    def __getitem__(self, index: int) -> int:
        return index

    def sort_keys(self, tokens: TokenizedQuestions) -> np.ndarray:
        """Length first, then question: sorting by it groups answers of one question in one batch."""
        n_questions = len(tokens.offsets) - 1
        return tokens.lengths[self.question] * n_questions + self.question


class QuestionCollator:
    """Turns answer indices into the batch dict of the module docstring (vectorized gather and padding).

    Args:
        dataset: the answers.
        tokens: every question's tokens.
        pad_to: pad every batch to this length instead of its longest question (for comparisons only).
    """

    def __init__(self, dataset: AnswerDataset, tokens: TokenizedQuestions, pad_to: int | None = None) -> None:
        self.question = torch.from_numpy(dataset.question)
        self.student = torch.from_numpy(dataset.student)
        self.correct = torch.from_numpy(dataset.correct)
        self.p_true = torch.from_numpy(dataset.p_true)
        # the flat ids plus one padding slot at the end, which padded positions point to
        self.ids = torch.cat([torch.from_numpy(tokens.ids), torch.tensor([tokens.pad_id])])
        self.starts = torch.from_numpy(tokens.offsets[:-1].copy())
        self.lengths = torch.from_numpy(tokens.lengths.copy())
        self.pad_slot = len(tokens.ids)
        self.pad_to = pad_to

    def __call__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        answer = torch.as_tensor(indices, dtype=torch.long)
        distinct, row = torch.unique(self.question[answer], return_inverse=True)  # [Q], [B]
        lengths = self.lengths[distinct]
        width = self.pad_to or int(lengths.max())
        steps = torch.arange(width)
        mask = steps[None, :] < lengths[:, None]  # [Q, L]
        flat = torch.where(mask, self.starts[distinct][:, None] + steps[None, :], self.pad_slot)
        return {
            "input_ids": self.ids[flat],
            "attention_mask": mask.long(),
            "question": row,
            "student": self.student[answer],
            "correct": self.correct[answer],
            "p_true": self.p_true[answer],
            "answer": answer,
        }
