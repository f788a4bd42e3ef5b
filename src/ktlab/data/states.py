"""Knowledge states: every learner's success probability on every skill after each of their answers.

Row ``(learner, step s, skill k)`` is the probability that the learner answers skill ``k`` right if it
were asked right after step ``s`` (after reading answers ``0..s`` of the window the model sees, the last
``max_len`` answers). A network that computes all skills at once exposes
``skill_states(batch) -> [B, T, K]`` (DKT and DKT+ do); for any other network, each prefix of each
learner's window is extended by one candidate step per skill and scored, which costs ``K`` extra
sequences per step. The candidate steps' known-before signals are left at their training means, their
phase at the learner's phase at that step.

:mod:`ktlab.inference.states` writes them and draws one learner's as a heatmap.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch
from rich.progress import track

from ktlab.data.batching import WindowCollator
from ktlab.data.encoding import EncodedInteractions, InteractionEncoder
from ktlab.data.next_step import _append_candidates, encode_history

log = logging.getLogger(__name__)

STATE_COLUMNS = ("student_id", "step", "t", "answered_skill", "correct", "skill_id", "p_correct")


def _fallback_states(
    model: torch.nn.Module,
    encoded: EncodedInteractions,
    starts: np.ndarray,
    lengths: np.ndarray,
    k: int,
    chunk: int,
) -> list[np.ndarray]:
    """``[L_i, K]`` states per learner by scoring one candidate step per skill after every prefix."""
    owners = np.repeat(np.arange(len(lengths)), lengths)  # one (learner, prefix) pair per step
    prefix = np.concatenate([np.arange(1, n + 1) for n in lengths]) if len(lengths) else np.zeros(0, int)
    pairs = WindowCollator(encoded, starts[owners], prefix)
    out = np.empty((len(owners), k), dtype=np.float32)
    skills = torch.arange(1, k + 1)
    per_chunk = max(1, chunk // max(k, 1))
    chunks = range(0, len(owners), per_chunk)
    for lo in track(chunks, description="knowledge states", disable=len(chunks) < 4):
        idx = list(range(lo, min(lo + per_chunk, len(owners))))
        batch = pairs(idx)
        n = torch.as_tensor(prefix[idx])
        q = torch.zeros(len(idx), k, batch["query"].shape[-1])
        phase = batch["phase"][torch.arange(len(idx)), n - 1]
        extended = _append_candidates(batch, n, skills.expand(len(idx), k), q, phase)
        logits = model(extended)  # [B*K, L+1]
        picked = logits[torch.arange(len(idx) * k), n.repeat_interleave(k)]
        out[idx] = torch.sigmoid(picked.float()).reshape(len(idx), k).numpy()
    bounds = np.r_[0, np.cumsum(lengths)]
    return [out[bounds[i] : bounds[i + 1]] for i in range(len(lengths))]


@torch.no_grad()
def knowledge_states(
    model: torch.nn.Module,
    history: pd.DataFrame,
    encoder: InteractionEncoder,
    max_len: int = 100,
    batch_size: int = 256,
    source: str = "history",
    line_offset: int | None = None,
) -> pd.DataFrame:
    """The knowledge state after every step of every learner of ``history`` (see the module docstring).

    Returns:
        Columns ``student_id, step, t, answered_skill, correct, skill_id, p_correct``: one row per learner,
        step of the window and known skill; ``step`` counts from 0 within the window.
    """
    if model.training:  # a loaded predictor is already in eval mode: no walk over its modules per call
        model.eval()
    _, encoded, starts, lengths, collate = encode_history(history, encoder, max_len, source, line_offset)
    skills = np.asarray(encoder.skills, dtype=object)
    k = len(skills)
    direct = getattr(getattr(model, "net", model), "skill_states", None)
    if callable(direct):
        per_learner = []
        for lo in range(0, len(lengths), batch_size):
            idx = list(range(lo, min(lo + batch_size, len(lengths))))
            states = direct(collate(idx)).float().numpy()  # [B, L, K]
            per_learner += [states[j, : lengths[i]] for j, i in enumerate(idx)]
    else:
        per_learner = _fallback_states(model, encoded, starts, lengths, k, chunk=batch_size * 16)
    steps = np.concatenate([np.arange(n) for n in lengths]) if len(lengths) else np.zeros(0, int)
    flat = (
        np.concatenate([starts[i] + np.arange(n) for i, n in enumerate(lengths)]) if len(lengths) else steps
    )
    answered = np.r_[skills, ["(unseen)"]][encoded.fields["skill"][flat] - 1]
    n_rows = len(steps)
    return pd.DataFrame(
        {
            "student_id": np.repeat(np.repeat(encoded.student_ids, lengths), k),
            "step": np.repeat(steps, k),
            "t": np.repeat(encoded.t[flat], k),
            "answered_skill": np.repeat(answered, k),
            "correct": np.repeat(encoded.fields["correct"][flat].astype(np.int8), k),
            "skill_id": np.tile(skills, n_rows),
            "p_correct": np.concatenate(per_learner).reshape(-1) if n_rows else np.zeros(0, np.float32),
        },
        columns=list(STATE_COLUMNS),
    )
