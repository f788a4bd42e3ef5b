"""The question-text vectors of a batch, projected into a network's own widths.

With ``data.item_features=[..., question_text]`` a batch carries ``item_vec`` ``[B, T, E]``, each step's
question-text vector (zeros for a question without text; see :mod:`ktlab.data.item_text`), and the
networks are built with ``item_vec_dim = E`` (0 without text). A network that reads it holds one
:class:`ItemText` and adds its two projections where it embeds items:

* :meth:`ItemText.question`: a vector of the asked question, added to the embedding the network
  predicts a step from (known before the answer: the text is fixed before the learner answers);
* :meth:`ItemText.answer`: a vector of the answered question, one projection for a right answer and one
  for a wrong one, added to the embedding of the answered step.
* :meth:`ItemText.difficulty` (with ``difficulty=True``): a scalar read from the question's text, which a
  network with Rasch problem embeddings adds to the problem's learned difficulty ``mu`` (see
  :mod:`ktlab.models.components.rasch`): the text then explains what it can of every question's difficulty,
  the penalised ``mu`` of a seen question the rest, and a new question keeps the text's part.

Both are linear maps without bias (a zero text vector adds nothing) through a narrow shared layer of
``rank`` units, after a dropout on the text vector: a few hundred training questions could otherwise be
told apart by their texts alone and their answers memorised through them, which would teach nothing
about a new question. A question whose id is unseen in training (id 0) still brings its text.
"""

from __future__ import annotations

import torch
from torch import nn

from ktlab.checks import Checks
from ktlab.errors import ConfigError

#: The batch key of the vectors.
ITEM_VEC = "item_vec"


class ItemText(nn.Module):
    """Projections of the question-text vectors (see the module docstring).

    Args:
        item_vec_dim: width ``E`` of the text vectors.
        question_dim: width of :meth:`question` (0: none).
        answer_dim: width of :meth:`answer` (0: none).
        dropout: dropout on the text vectors in training.
        rank: width of the shared layer every projection goes through.
        difficulty: also read a scalar difficulty from the text (:meth:`difficulty`).
    """

    def __init__(
        self,
        item_vec_dim: int,
        question_dim: int,
        answer_dim: int = 0,
        dropout: float = 0.5,
        rank: int = 16,
        difficulty: bool = False,
    ) -> None:
        super().__init__()
        self.reduce = nn.Sequential(nn.Dropout(dropout), nn.Linear(item_vec_dim, rank, bias=False))
        self.to_question = nn.Linear(rank, question_dim, bias=False) if question_dim else None
        self.answer_dim = answer_dim
        self.to_answer = nn.Linear(rank, 2 * answer_dim, bias=False) if answer_dim else None
        self.to_difficulty = nn.Linear(rank, 1, bias=False) if difficulty else None
        if self.to_difficulty is not None:
            nn.init.zeros_(self.to_difficulty.weight)  # as mu: every question starts at its skills

    @staticmethod
    def vectors(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The batch's text vectors ``[B, T, E]``."""
        if ITEM_VEC not in batch:
            raise ConfigError(
                f"this network was built to read question texts but the batch has no '{ITEM_VEC}'; use the "
                "data it was trained with (data.item_features naming question_text)."
            )
        return batch[ITEM_VEC]

    def question(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """``[B, T, question_dim]``: the asked question's text, projected."""
        if self.to_question is None:
            raise RuntimeError("ItemText.question needs question_dim > 0")
        return self.to_question(self.reduce(self.vectors(batch)))

    def difficulty(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """``[B, T]``: the asked question's difficulty read from its text (0 for a step without text)."""
        if self.to_difficulty is None:
            raise RuntimeError("ItemText.difficulty needs difficulty=True")
        return self.to_difficulty(self.reduce(self.vectors(batch))).squeeze(-1)

    def answer(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """``[B, T, answer_dim]``: the answered question's text, projected by whether the answer was right."""
        if self.to_answer is None:
            raise RuntimeError("ItemText.answer needs answer_dim > 0")
        both = self.to_answer(self.reduce(self.vectors(batch)))  # [B, T, 2 * D]
        wrong, right = both.split(self.answer_dim, dim=-1)
        correct = batch["correct"].unsqueeze(-1).to(both.dtype)  # [B, T, 1]
        return wrong + correct * (right - wrong)


def check_text_args(checks: Checks) -> None:
    """Add the checks of the text arguments every text-reading network takes (``item_vec_dim``,
    ``text_dropout``, ``text_rank``) to a network's ``checks``."""
    checks.integer("item_vec_dim", 0)
    checks.in_range("text_dropout", 0.0, 1.0)
    checks.integer("text_rank", 1)


def difficulty_offset(text: ItemText | None, batch: dict[str, torch.Tensor]) -> torch.Tensor | None:
    """``[B, T]``: the difficulty ``text`` reads from the batch's question texts, or None when there is no
    text path or it was built without ``difficulty`` (a network passes it to its Rasch shift as ``offset``)."""
    if text is None or text.to_difficulty is None:
        return None
    return text.difficulty(batch)


def item_text(
    item_vec_dim: int,
    question_dim: int,
    answer_dim: int,
    dropout: float,
    rank: int,
    difficulty: bool = False,
) -> ItemText | None:
    """An :class:`ItemText` when the data gives text vectors (``item_vec_dim > 0``), else None."""
    if item_vec_dim <= 0:
        return None
    return ItemText(item_vec_dim, question_dim, answer_dim, dropout, rank, difficulty)
