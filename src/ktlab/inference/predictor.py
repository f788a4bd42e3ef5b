"""The predictor: a checkpoint loaded once, answering many calls.

``predict.py``, ``estimate_difficulty.py`` and a service for a learning platform all sit on this class.
It knows no model family: what a prediction is comes from the checkpoint's own DataModule (its
``predict``), as in training. For the sequence models a prediction is every learner's next-step success
probability on every known skill; for the question-text students, each question's success probability
for a student.

Python use::

    from ktlab import Predictor

    predictor = Predictor.load("logs/train/runs/<time>/checkpoints/best.ckpt")
    predictor.predict(history)  # student_id, skill_id, p_correct, difficulty, n_answers
    predictor.states(history)  # the knowledge state after every step
    predictor.predict_learners(["alice", "bob"])  # histories read from the learner database
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from lightning import LightningDataModule, LightningModule

from ktlab.errors import ConfigError
from ktlab.models.checkpoint import load_model, restore_datamodule

log = logging.getLogger(__name__)


class Predictor:
    """A trained model and its data's fitted state, ready to answer.

    Args:
        model: the trained module, in eval mode.
        datamodule: its DataModule, rebuilt with the fitted state (vocabularies, tokenizer...).
        source: where the model came from, for messages.
    """

    def __init__(
        self, model: LightningModule, datamodule: LightningDataModule, source: str = "model"
    ) -> None:
        self.model = model.eval()
        self.datamodule = datamodule
        self.source = source

    @classmethod
    def load(
        cls,
        ckpt_path: str | Path,
        device: str | torch.device = "cpu",
        data: Mapping[str, Any] | None = None,
        fix: str = "",
    ) -> Predictor:
        """Read a checkpoint written by ``train.py`` (no code from it runs) and rebuild its model and data.

        Args:
            ckpt_path: the checkpoint.
            device: where the model runs.
            data: a data config (``_target_`` at least) the model must belong to: a checkpoint of another
                family is refused, with ``fix`` (how to get the right one) in the message.
            fix: see ``data``.

        Raises:
            CheckpointError: the file is missing, unreadable, not a ktlab checkpoint, or of another family.
        """
        model = load_model(ckpt_path, data, fix).to(device)
        return cls(model, restore_datamodule(model), source=str(ckpt_path))

    @property
    def max_len(self) -> int | None:
        """How many last answers a sequence model reads (None for the text family)."""
        return getattr(self.datamodule, "max_len", None)

    def predict(self, frame: pd.DataFrame, **options: Any) -> pd.DataFrame:
        """Predictions for ``frame`` (a history for the sequence models, questions for the text family).

        ``options`` are those of the DataModule's ``predict`` (``max_len``, ``batch_size``...).
        """
        with torch.inference_mode():
            return self.datamodule.predict(self.model, frame, **options)

    def states(self, history: pd.DataFrame, **options: Any) -> pd.DataFrame:
        """The knowledge state after every step of every learner of ``history`` (sequence models).

        ``options`` are those of the DataModule's ``states`` (``max_len``, ``batch_size``, ``source``...).

        Raises:
            ConfigError: the model traces no knowledge states (the question-text students).
        """
        states = getattr(self.datamodule, "states", None)
        if states is None:
            raise ConfigError(
                f"{self.source}: this model traces no knowledge states (it answers questions from their "
                "text); states are for the sequence models."
            )
        with torch.inference_mode():
            return states(self.model, history, **options)

    def required_columns(self) -> list[str]:
        """The history columns the model reads besides the core ones (sequence models)."""
        encoder = getattr(self.datamodule, "encoder", None)
        if encoder is None:
            raise ConfigError(
                f"{self.source}: this model reads question texts, not answer histories; pass it questions."
            )
        from ktlab.data.schema import required_columns

        return list(required_columns(encoder.context_features, encoder.query_features, encoder.item_features))

    def history(self, learners: Sequence[str], db: Mapping[str, Any] | str | None = None) -> pd.DataFrame:
        """The stored answers of ``learners`` (their usernames) in the learner database.

        ``db`` is the ``db`` config or a URL; ``KTLAB_DATABASE_URL`` wins over it, as for ``data=db``.
        """
        from ktlab.inference.history import history_from_db

        return history_from_db(db, learners, self.required_columns())

    def predict_learners(
        self, learners: Sequence[str], db: Mapping[str, Any] | str | None = None, **options: Any
    ) -> pd.DataFrame:
        """Next-step predictions for learners whose answers are stored in the learner database."""
        history = self.history(learners, db)
        if history.empty:
            raise ConfigError(
                f"the learner database holds no answers of {', '.join(map(str, learners[:5]))}; nothing to "
                "predict from."
            )
        return self.predict(history, source="learner database", **options)
