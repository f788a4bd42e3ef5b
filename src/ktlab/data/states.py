"""Knowledge states: every learner's success probability on every skill after each of their answers.

Row ``(learner, step s, skill k)`` is the probability that the learner answers skill ``k`` right if it
were asked right after step ``s`` (after reading answers ``0..s`` of the window the model sees, the last
``max_len`` answers). A network that computes all skills at once exposes
``skill_states(batch) -> [B, T, K]`` (DKT and DKT+ do); for any other network, each prefix of each
learner's window is extended by one candidate step per skill and scored, which costs ``K`` extra
sequences per step. The candidate steps' known-before signals are left at their training means, their
phase at the learner's phase at that step.

:func:`plot_states` draws one learner's states as a heatmap (skills practised x steps, skills in natural
order: "skill 2" above "skill 10"), each step's answer marked on its skill.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from rich.progress import track

from ktlab.data.batching import WindowCollator
from ktlab.data.encoding import EncodedInteractions, InteractionEncoder
from ktlab.data.io import write_table
from ktlab.data.next_step import _append_candidates, encode_history
from ktlab.errors import ConfigError

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


def natural_key(value: object) -> tuple[Any, ...]:
    """Sort key that orders the digit runs of a label by number ("skill 2" before "skill 10").

    Hand-written: natsort does this, but for one sort key it is not worth a dependency.
    """
    parts = re.split(r"(\d+)", str(value))
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.casefold()) for part in parts)


def state_grid(states: pd.DataFrame, learner: str, max_skills: int = 30) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One learner's states as a skills x steps table, and their steps (``step, answered_skill, correct``).

    The rows are the first ``max_skills`` skills the learner answered, in natural order (:func:`natural_key`).
    """
    mine = states[states["student_id"].astype(str) == str(learner)]
    steps = mine.drop_duplicates("step")[["step", "answered_skill", "correct"]]
    practised = sorted(list(dict.fromkeys(steps["answered_skill"]))[:max_skills], key=natural_key)
    grid = mine[mine["skill_id"].isin(practised)].pivot(index="skill_id", columns="step", values="p_correct")
    return grid.reindex(practised), steps


def plot_states(states: pd.DataFrame, learner: str, path: str | Path, max_skills: int = 30) -> Path:
    """Heatmap of one learner's states: skills answered (the first ``max_skills``, natural order) x steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid, steps = state_grid(states, learner, max_skills)
    practised = list(grid.index)
    fig, ax = plt.subplots(figsize=(min(16, max(6.5, 3 + 0.08 * grid.shape[1])), 1.8 + 0.3 * len(practised)))
    image = ax.imshow(grid.to_numpy(), aspect="auto", cmap="RdYlGn", vmin=0, vmax=1, interpolation="nearest")
    rows = {skill: i for i, skill in enumerate(practised)}
    marked = steps[steps["answered_skill"].isin(rows)]
    ax.scatter(
        marked["step"],
        marked["answered_skill"].map(rows),
        c=np.where(marked["correct"] == 1, "black", "white"),
        edgecolors="black",
        s=12,
        linewidths=0.5,
    )
    ax.set_yticks(range(len(practised)), [str(s) for s in practised], fontsize=7)
    ax.set_xlabel("step, after its answer (dot: the skill answered; black right, white wrong)")
    ax.set_ylabel("skill")
    ax.set_title(f"Knowledge state of learner {learner}")
    fig.colorbar(image, ax=ax, label="P(correct)")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    log.info("wrote the knowledge-state heatmap of learner %s to %s", learner, path)
    return path


def write_states(
    model: torch.nn.Module,
    frame: pd.DataFrame,
    encoder: InteractionEncoder,
    states_dir: str | Path | None,
    learner: str | None = None,
    **options: object,
) -> tuple[Path, Path | None]:
    """Write ``states.csv`` and one learner's heatmap under ``states_dir``; returns both paths.

    Raises:
        ConfigError: ``states_dir`` is not given, or ``learner`` is not in the history.
    """
    if not states_dir:
        raise ConfigError("states=true needs states_dir, the folder for states.csv and the heatmap.")
    states = knowledge_states(model, frame, encoder, **options)  # type: ignore[arg-type]
    known = states["student_id"].astype(str)
    chosen = str(learner) if learner is not None else (known.iloc[0] if len(known) else None)
    if learner is not None and not (known == chosen).any():  # checked before anything is written
        raise ConfigError(
            f"states_learner={chosen!r}: no such learner in the history; it has "
            f"{', '.join(known.unique()[:5])}{' ...' if known.nunique() > 5 else ''}. Nothing was written."
        )
    folder = Path(states_dir).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    table = write_table(states, folder / "states.csv")
    if states.empty:
        return table, None
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in chosen)
    return table, plot_states(states, chosen, folder / f"states_{safe}.png")
