"""Question-held-out tracing: some questions are never answered in training, and tested apart.

The questions are cut into ``n_question_folds`` folds (:func:`~ktlab.data.splitting.group_folds`),
grouped by their skill set, so questions that share a skill set (often variants of one template) sit
in one fold: none of them leaks the others' answers. With ``held_out_fold=k`` the questions of fold ``k``
are held out:

* the answers to them are dropped from the training and validation learners' sequences, so the encoder
  never learns their ids (they map to 0, like any unseen question) and nothing of their answers reaches
  the weights or the choice of epoch;
* the test learners keep every answer; each row carries ``held_out`` (batch key ``held_out``), True for
  an answer to a held-out question, so the test AUC is reported apart for answers to seen and to unseen
  questions (:func:`ktlab.evaluation.held_out.held_out_scores`).

Running ``k = 0 .. n_question_folds - 1`` predicts every question once out of fold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.data.batching import WindowDataset
from ktlab.data.datamodule import KTDataModule
from ktlab.data.encoding import make_windows
from ktlab.data.splitting import group_folds
from ktlab.errors import ConfigError
from ktlab.utils.logging import get_logger

log = get_logger(__name__)

#: The batch key flagging answers to held-out questions.
HELD_OUT = "held_out"


def question_folds(frame: pd.DataFrame, n_folds: int, seed: int) -> pd.Series:
    """Each question's fold (index ``problem_id``), questions grouped by their sorted skill set."""
    skill_sets = frame.groupby("problem_id", sort=True)["skill_id"].agg(lambda s: "|".join(sorted(set(s))))
    try:
        fold = group_folds(skill_sets.to_numpy(), n_folds, seed)
    except ValueError as err:
        raise ConfigError(
            f"data.n_question_folds={n_folds}: {err} (questions grouped by skill set)"
        ) from None
    return pd.Series(fold, index=skill_sets.index, name="fold")


class QuestionHeldOutDataModule(KTDataModule):
    """:class:`KTDataModule` with one fold of questions held out of training (see the module docstring).

    Args:
        held_out_fold: the fold of questions held out (None: none, the learner split alone).
        n_question_folds: how many folds the questions are cut into.
        fold_seed: seed of the question folds.
        **kwargs: the arguments of :class:`KTDataModule`; ``problem_id`` must be read (an item feature,
            or implied by ``question_text``).
    """

    def __init__(
        self,
        held_out_fold: int | None = None,
        n_question_folds: int = 5,
        fold_seed: int = 0,
        **kwargs: Any,
    ) -> None:
        raise_problems(
            "data",
            self.check_args(
                {"held_out_fold": held_out_fold, "n_question_folds": n_question_folds, "fold_seed": fold_seed}
            ),
        )
        super().__init__(**kwargs)
        if held_out_fold is not None and "problem_id" not in self.required:
            raise ConfigError(
                f"data.held_out_fold={held_out_fold} holds questions out, and needs their ids: add "
                "problem_id (or question_text) to data.item_features."
            )
        self.held_out_fold = held_out_fold
        self.n_question_folds = n_question_folds
        self.fold_seed = fold_seed
        self.held_out_questions: set[str] = set()

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the arguments (those of :class:`KTDataModule` and the question folds')."""
        problems = KTDataModule.check_args(args)
        checks = Checks(args)
        checks.integer("n_question_folds", 2)
        checks.integer("fold_seed", 0)
        checks.integer("held_out_fold", 0)
        folds = args.get("n_question_folds", 5)
        if not checks.problems and isinstance(folds, int):
            checks.require(
                "held_out_fold",
                lambda k: k < folds,
                f"must be one of 0..{folds - 1} (data.n_question_folds={folds}), or null to hold no question out",
            )
        return problems + checks.problems

    def split_parts(self, frame: pd.DataFrame, groups: dict[str, set]) -> dict[str, pd.DataFrame]:
        parts = super().split_parts(frame, groups)
        if self.held_out_fold is None:
            return parts
        folds = question_folds(frame, self.n_question_folds, self.fold_seed)
        self.held_out_questions = set(folds.index[folds.to_numpy() == self.held_out_fold])
        for name in ("train", "val"):
            kept = ~parts[name]["problem_id"].isin(self.held_out_questions)
            log.info(
                "%s: %d of %d rows answer one of the %d held-out questions and are dropped",
                name,
                int((~kept).sum()),
                len(kept),
                len(self.held_out_questions),
            )
            parts[name] = parts[name][kept.to_numpy()]
        return parts

    def _windows(self, frame: pd.DataFrame) -> WindowDataset:
        encoded = self.encoder.transform(frame)
        rows = frame.iloc[encoded.source_rows]
        held = rows["problem_id"].isin(self.held_out_questions) if "problem_id" in rows else None
        encoded.fields[HELD_OUT] = (
            held.to_numpy(dtype=bool, copy=True) if held is not None else np.zeros(len(encoded), dtype=bool)
        )
        return WindowDataset(encoded, *make_windows(encoded.offsets, self.max_len))
