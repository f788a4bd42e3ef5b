"""Whether each split holds enough answers, of both kinds, for its AUC to mean something.

The metrics score every answer but the first of each window (the first has no history to predict
from). An AUC needs right and wrong answers among them: with one kind only it is undefined, and
``val/auc`` (which picks the best epoch) or ``test/auc`` would be empty, so such data is refused. With
few answers it is defined but mostly noise: near 0.5 its standard error is about
``sqrt((n_right + n_wrong + 1) / (12 * n_right * n_wrong))`` (the Mann-Whitney statistic's), 0.5 for one
answer of each kind and 0.04 for 100 of each, so a validation or test split under ``min_answers`` scored
answers is reported in a warning that gives every split's counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ktlab.data.batching import WindowDataset
from ktlab.errors import DataValidationError
from ktlab.utils.logging import get_logger

log = get_logger(__name__)

LABELS = {"train": "training", "val": "validation", "test": "test"}


@dataclass(frozen=True)
class SplitSize:
    """The scored answers of one split."""

    split: str
    learners: int
    scored: int
    right: int

    @property
    def wrong(self) -> int:
        return self.scored - self.right

    @property
    def one_kind(self) -> bool:
        """No AUC: no scored answer, or all right, or all wrong."""
        return self.right == 0 or self.wrong == 0

    def auc_error(self) -> float:
        """The standard error of an AUC near 0.5 on these answers (see the module docstring)."""
        return math.sqrt((self.scored + 1) / (12 * self.right * self.wrong))

    def __str__(self) -> str:
        return (
            f"{LABELS.get(self.split, self.split)} {self.scored} scored answer(s) ({self.right} right, "
            f"{self.wrong} wrong) from {self.learners} learner(s)"
        )


def split_size(split: str, learners: int, dataset: WindowDataset) -> SplitSize:
    """Count the scored answers of a split's windows, and the right ones among them."""
    starts = np.asarray(dataset.starts, dtype=np.int64)
    lengths = np.asarray(dataset.lengths, dtype=np.int64)
    correct = np.asarray(dataset.encoded.fields["correct"]).astype(np.int64)  # 0/1
    running = np.concatenate([[0], np.cumsum(correct)])
    scored = int(np.clip(lengths - 1, 0, None).sum())
    right = int((running[starts + lengths] - running[starts + 1]).sum())
    return SplitSize(split, learners, scored, right)


def check_split_sizes(sizes: Mapping[str, SplitSize], source: str, min_answers: int) -> None:
    """Refuse splits whose AUC is undefined; warn about validation/test splits under ``min_answers``.

    A split without learners (``val_fraction=0``) is not checked.

    Raises:
        DataValidationError: a split with learners has no scored answer, or only right or only wrong ones.
    """
    present = [size for size in sizes.values() if size.learners > 0]
    counts = "; ".join(str(size) for size in present)
    undefined = [size for size in present if size.one_kind]
    if undefined:
        names = " and ".join(LABELS[size.split] for size in undefined)
        raise DataValidationError(
            f"{source}: the {names} split(s) hold only one kind of scored answer (or none), so their AUC is "
            f"undefined ({counts}; the first answer of each window is not scored). Add learners, or "
            "change the split (data.split_seed, data.val_fraction, data.test_fraction, or the file's split "
            "column); nothing was trained."
        )
    small = [size for size in present if size.split != "train" and size.scored < min_answers]
    if small:
        noise = ", ".join(f"{LABELS[size.split]} about ±{size.auc_error():.2f}" for size in small)
        log.warning(
            "%s: the %s split(s) hold fewer than %d scored answers (%s), so their AUC is mostly noise "
            "(its standard error near 0.5: %s). Read val/auc and test/auc with care, or add learners; "
            "data.min_eval_answers sets this threshold.",
            source,
            " and ".join(LABELS[size.split] for size in small),
            min_answers,
            counts,
            noise,
        )
