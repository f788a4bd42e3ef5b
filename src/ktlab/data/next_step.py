"""Next-step success probability of every skill, for every learner of a history file.

For each learner the model reads the last ``max_len`` answers (the window length used in training) and
scores one more step on every skill it knows. What is known before that step is filled in as follows:

* ``difficulty``: the learner's last difficulty on that skill, else the mean difficulty of that skill in
  the training data, else the overall training mean;
* ``adjustment``: 0 (no difficulty change announced);
* ``phase_type``: the learner's last phase.

Skills absent from training are not scored (the model has nothing learned about them); their answers in a
history still count as history, with a zero skill embedding. When the model embeds problem ids, the
candidate step's problem is unknown (id 0): the prediction is for an unseen problem of that skill.

Python use (the checkpoint rebuilds the model and its encoder)::

    from ktlab.predict import predict_file, predict_frame
    predictions = predict_frame("logs/train/runs/.../checkpoints/best.ckpt", history_frame)
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch
from rich.progress import track

from ktlab.data.batching import WindowCollator
from ktlab.data.encoding import EncodedInteractions, InteractionEncoder, last_windows
from ktlab.data.schema import required_columns, validate_interactions

log = logging.getLogger(__name__)


def _candidate_difficulty(
    encoder: InteractionEncoder, frame: pd.DataFrame, encoded: EncodedInteractions
) -> np.ndarray:
    """``[S, K]`` raw difficulty of each learner's next step on each skill (see the module docstring)."""
    k = len(encoder.skills)
    overall = encoder.mean.get("difficulty", 0.55)
    per_skill = np.array(
        [d if np.isfinite(d) else overall for d in encoder.skill_difficulty] or [overall] * k
    )
    out = np.tile(per_skill, (len(encoded.student_ids), 1))
    if "difficulty" in frame:
        raw = frame["difficulty"].to_numpy(dtype=np.float64)[encoded.source_rows]  # learner, then t order
        learner = np.repeat(np.arange(len(encoded.student_ids)), np.diff(encoded.offsets))
        skill = encoded.fields["skill"] - 1  # -1: a skill unseen in training
        known = skill >= 0
        key, values = learner[known] * k + skill[known], raw[known]
        # the last answer of each (learner, skill) is the first one met in reverse order
        _, first_from_end = np.unique(key[::-1], return_index=True)
        last = len(key) - 1 - first_from_end
        out.reshape(-1)[key[last]] = values[last]
    return out


def _candidate_queries(encoder: InteractionEncoder, difficulty: np.ndarray) -> np.ndarray:
    """``[S, K, Q]`` standardized known-before signals of the candidate steps."""
    columns = encoder.numeric_query
    out = np.zeros((*difficulty.shape, len(columns)), dtype=np.float32)
    for j, column in enumerate(columns):
        raw = difficulty if column == "difficulty" else np.zeros_like(difficulty)
        out[..., j] = (raw - encoder.mean[column]) / encoder.std[column]
    return out


def _append_candidates(batch: dict[str, torch.Tensor], lengths: torch.Tensor, skills: torch.Tensor,
                       queries: torch.Tensor, phase: torch.Tensor) -> dict[str, torch.Tensor]:  # fmt: skip
    """Repeat each window once per candidate skill and put the candidate step right after its end."""
    b, k = skills.shape
    rep = {key: value.repeat_interleave(k, dim=0) for key, value in batch.items() if key != "window"}
    pad = {key: torch.zeros_like(value[:, :1]) for key, value in rep.items()}
    rep = {key: torch.cat([value, pad[key]], dim=1) for key, value in rep.items()}
    rows = torch.arange(b * k)
    pos = lengths.repeat_interleave(k)
    rep["skill"][rows, pos] = skills.reshape(-1)
    rep["query"][rows, pos] = queries.reshape(b * k, -1)
    rep["phase"][rows, pos] = phase.repeat_interleave(k)
    rep["mask"][rows, pos] = True
    return rep


def encode_history(
    history: pd.DataFrame,
    encoder: InteractionEncoder,
    max_len: int,
    source: str = "history",
    line_offset: int | None = None,
) -> tuple[pd.DataFrame, EncodedInteractions, np.ndarray, np.ndarray, WindowCollator]:
    """Validate a history for the encoder's columns, encode it and take each learner's last window.

    Returns:
        ``(frame, encoded, starts, lengths, collate)``: the validated frame, its encoding, the flat start and
        length of every learner's last ``max_len`` steps, and the collator over those windows.
    """
    frame = validate_interactions(
        history,
        source,
        required=required_columns(encoder.context_features, encoder.query_features, encoder.item_features),
        line_offset=line_offset,
    )
    encoded = encoder.transform(frame)
    starts, lengths = last_windows(encoded.offsets, max_len)
    return frame, encoded, starts, lengths, WindowCollator(encoded, starts, lengths)


@torch.no_grad()
def predict_next_step(
    model: torch.nn.Module,
    history: pd.DataFrame,
    encoder: InteractionEncoder,
    max_len: int = 100,
    batch_size: int = 256,
    source: str = "history",
    line_offset: int | None = None,
) -> pd.DataFrame:
    """Predict every learner's success probability on each known skill at the next step.

    Args:
        model: maps a batch dict to logits ``[B, T]`` (a ktlab module in eval mode).
        history: interactions in the ktlab schema (validated here).
        encoder: the model's fitted encoder.
        max_len: how many last answers to read.
        batch_size: learners per forward pass.
        source: name of the history in error messages.
        line_offset: file line of the first row, when the history was read from a text file.

    Returns:
        Columns ``student_id, skill_id, p_correct, difficulty, n_answers``, one row per learner and skill.
    """
    if model.training:  # a loaded predictor is already in eval mode: no walk over its modules per call
        model.eval()
    frame, encoded, _, lengths, collate = encode_history(history, encoder, max_len, source, line_offset)
    students = encoded.student_ids
    k = len(encoder.skills)
    difficulty = _candidate_difficulty(encoder, frame, encoded)
    queries = torch.from_numpy(_candidate_queries(encoder, difficulty))
    skill_ids = torch.arange(1, k + 1)
    probs = np.empty((len(students), k), dtype=np.float32)
    chunks = range(0, len(students), batch_size)
    # A network that scores candidates after one pass over the history says so with next_step_logits.
    direct = getattr(getattr(model, "net", model), "next_step_logits", None)
    for lo in track(chunks, description="predicting") if len(chunks) >= 4 else chunks:
        idx = list(range(lo, min(lo + batch_size, len(students))))
        batch = collate(idx)
        n = torch.as_tensor(lengths[idx])
        last_phase = batch["phase"][torch.arange(len(idx)), n - 1]
        candidates = skill_ids.expand(len(idx), k)
        if callable(direct):
            picked = direct(batch, n, candidates, queries[idx], last_phase)  # [B, K]
        else:
            extended = _append_candidates(batch, n, candidates, queries[idx], last_phase)
            logits = model(extended)  # [B*K, L+1]
            picked = logits[torch.arange(len(idx) * k), n.repeat_interleave(k)]
        probs[idx] = torch.sigmoid(picked.float()).reshape(len(idx), k).numpy()
    return pd.DataFrame(
        {
            "student_id": np.repeat(students, k),
            "skill_id": np.tile(np.asarray(encoder.skills, dtype=object), len(students)),
            "p_correct": probs.reshape(-1),
            "difficulty": difficulty.reshape(-1),
            "n_answers": np.repeat(np.diff(encoded.offsets), k),
        }
    )
