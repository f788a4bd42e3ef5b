"""Asking trained students about questions: success probabilities for (question, student) pairs.

Used by ``predict.py`` (through the DataModule's ``predict``) and by ``estimate_difficulty.py``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch

from ktlab.data.text.batching import AnswerDataset, TokenizedQuestions
from ktlab.data.text.schema import validate_questions
from ktlab.data.text.tokenizer import encode_texts, special_ids
from ktlab.errors import ConfigError

log = logging.getLogger(__name__)


def predict_questions(
    datamodule: Any,
    model: torch.nn.Module,
    frame: pd.DataFrame,
    source: str = "questions",
    line_offset: int | None = None,
    batch_size: int = 256,
    max_len: int | None = None,
    all_students: bool = False,
) -> pd.DataFrame:
    """Success probability of each question of ``frame`` for its ``student_id``, or for every known student.

    Args:
        datamodule: the model's :class:`~ktlab.data.text.datamodule.TextDataModule` (restored from the
            checkpoint: its tokenizer, template and student vocabulary); it need not be set up.
        model: the trained module (``success_probability(batch)``).
        frame: questions in the answer-log question columns; with a ``student_id`` column (or the notebook's
            ``user_id``), one prediction per row for that student (a student the model does not know
            counts as an average one).
        source: the frame's name in messages.
        line_offset: the file line of the first row, for messages.
        batch_size: answers per batch.
        max_len: unused (the text length is the data's ``max_length``); kept for ``predict.py``.
        all_students: predict every question for every known student, even when ``frame`` names
            students. A model that knows no student (a success-rate regression, ``data=item_difficulty``) predicts
            each question once, for the unknown student (``student_id`` empty).

    Returns:
        ``problem_id, student_id, p_correct`` (one row per input row, or per question and student).
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size={batch_size}: must be >= 1; set batch_size.")
    state = datamodule.state
    questions = validate_questions(frame, source, line_offset=line_offset, extra=["student_id"])
    students = list(state["students"])
    if not students:  # a success-rate regression: one prediction per question
        question, index = np.arange(len(questions)), np.zeros(len(questions), dtype=np.int64)
        out = pd.DataFrame({"problem_id": questions["problem_id"], "student_id": ""})
    elif "student_id" in questions and not all_students:
        named = questions["student_id"].astype(str).str.strip()
        index = named.map({s: i + 1 for i, s in enumerate(students)}).fillna(0).astype(np.int64).to_numpy()
        if (index == 0).any():
            log.warning("%s: %d row(s) name a student the model does not know; predicted as an average "
                        "student", source, int((index == 0).sum()))  # fmt: skip
        question = np.arange(len(questions))
        out = pd.DataFrame({"problem_id": questions["problem_id"], "student_id": named})
    else:
        question = np.repeat(np.arange(len(questions)), len(students))
        index = np.tile(np.arange(1, len(students) + 1), len(questions))
        out = pd.DataFrame({"problem_id": questions["problem_id"].to_numpy()[question],
                            "student_id": np.asarray(students, dtype=object)[index - 1]})  # fmt: skip
    texts = datamodule.template.render(questions)
    ids, offsets = encode_texts(
        state["tokenizer"], texts, datamodule.max_length, template=datamodule.template.template
    )
    tokens = TokenizedQuestions(ids, offsets, special_ids(state["tokenizer"]).get("pad_token_id", 0))
    dataset = AnswerDataset(question, index, np.zeros(len(question)), np.full(len(question), np.nan))
    loader = datamodule.loader_for(dataset, tokens, shuffle=False, batch_size=batch_size)
    p = np.empty(len(dataset), dtype=np.float64)
    model.eval()
    device = next(model.parameters()).device
    for batch in loader:
        batch = {key: value.to(device) for key, value in batch.items()}
        p[batch["answer"].cpu().numpy()] = model.success_probability(batch).cpu().numpy()
    out["p_correct"] = p
    return out


def predict_answers(
    datamodule: Any, model: torch.nn.Module, answers: pd.DataFrame, batch_size: int = 512
) -> np.ndarray:
    """The model's success probability of every row of ``answers``: answers of the DataModule's own data
    (after its ``setup``; students it does not know count as average ones), in their order."""
    dataset = datamodule.answer_dataset(answers)
    loader = datamodule.loader_for(dataset, datamodule.tokens, shuffle=False, batch_size=batch_size)
    p = np.empty(len(dataset), dtype=np.float64)
    model.eval()
    device = next(model.parameters()).device
    with torch.inference_mode():
        for batch in loader:
            batch = {key: value.to(device) for key, value in batch.items()}
            p[batch["answer"].cpu().numpy()] = model.success_probability(batch).cpu().numpy()
    return p
