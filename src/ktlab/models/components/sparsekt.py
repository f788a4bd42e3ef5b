"""sparseKT (Huang, Liu, Zhao, Luo and Weng, 2023, SIGIR): simpleKT with k-sparse attention.

"Towards Robust Knowledge Tracing Models via k-Sparse Attention". The network is simpleKT's
(:mod:`ktlab.models.components.simplekt`: Rasch question embeddings, attention of each step to the
answered steps before it, the output MLP); after the softmax, each query step keeps only some of its
attention weights and re-normalises them (:func:`ktlab.models.components.past_attention.sparsify`):

- ``mode=topk``: the ``k`` largest weights (sparseKT-topK);
- ``mode=soft``: the largest weights until their sum reaches ``ratio`` (sparseKT-soft, soft-thresholding).

Which weights are kept is decided from the weights of steps ``tau < t`` only, so step ``t``'s answer still
never reaches its own prediction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.models.components.past_attention import MODES, RESCALES, SparseSelection
from ktlab.models.components.simplekt import SimpleKT


class SparseKT(SimpleKT):
    """simpleKT whose attention keeps only each step's largest weights.

    Args:
        n_skills: skills seen in training (ids 1..n_skills; 0 is padding or unseen).
        n_problems: problems seen in training (0: no problem ids).
        mode: ``topk`` or ``soft``.
        k: weights kept per step under ``topk``.
        ratio: share of a step's attention mass kept under ``soft``, in ``(0, 1]``.
        rescale: re-normalisation of the kept weights: ``softmax`` of the weights (pyKT's released
            sparseKT) or ``sum`` (divide by their sum).
        dim, n_heads, n_blocks, ff_dim, head_dim, dropout, attention_dropout, vector_difficulty, rasch_l2,
        item_vec_dim, text_dropout, text_rank, text_difficulty:
            as for :class:`~ktlab.models.components.simplekt.SimpleKT`.
    """

    def __init__(
        self,
        n_skills: int,
        n_problems: int = 0,
        mode: str = "topk",
        k: int = 5,
        ratio: float = 0.8,
        rescale: str = "softmax",
        dim: int = 256,
        n_heads: int = 4,
        n_blocks: int = 2,
        ff_dim: int = 256,
        head_dim: int = 256,
        dropout: float = 0.1,
        attention_dropout: float = 0.1,
        vector_difficulty: bool = True,
        rasch_l2: float = 0.0,
        item_vec_dim: int = 0,
        text_dropout: float = 0.5,
        text_rank: int = 16,
        text_difficulty: bool = False,
    ) -> None:
        raise_problems(
            type(self).__name__,
            self.check_args(
                {
                    "n_skills": n_skills,
                    "n_problems": n_problems,
                    "mode": mode,
                    "k": k,
                    "ratio": ratio,
                    "rescale": rescale,
                    "dim": dim,
                    "n_heads": n_heads,
                    "n_blocks": n_blocks,
                    "ff_dim": ff_dim,
                    "head_dim": head_dim,
                    "dropout": dropout,
                    "attention_dropout": attention_dropout,
                    "rasch_l2": rasch_l2,
                    "item_vec_dim": item_vec_dim,
                    "text_dropout": text_dropout,
                    "text_rank": text_rank,
                }
            ),
        )
        super().__init__(
            n_skills,
            n_problems,
            dim=dim,
            n_heads=n_heads,
            n_blocks=n_blocks,
            ff_dim=ff_dim,
            head_dim=head_dim,
            dropout=dropout,
            attention_dropout=attention_dropout,
            vector_difficulty=vector_difficulty,
            rasch_l2=rasch_l2,
            selection=SparseSelection(mode, k, ratio, rescale),
            item_vec_dim=item_vec_dim,
            text_dropout=text_dropout,
            text_rank=text_rank,
            text_difficulty=text_difficulty,
        )

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the network's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.one_of("mode", MODES)
        checks.integer("k", 1)
        checks.require("ratio", lambda r: not isinstance(r, bool) and 0 < r <= 1, "must be in (0, 1]")
        checks.one_of("rescale", RESCALES)
        return SimpleKT.check_args(args) + checks.problems
