"""Writing knowledge states and drawing them: ``states.csv`` and one learner's heatmap.

The states themselves come from the model's DataModule (:meth:`~ktlab.inference.Predictor.states`, see
:mod:`ktlab.data.states`); this module only lays them out for a person.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ktlab.data.io import write_table
from ktlab.errors import ConfigError

log = logging.getLogger(__name__)


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


def chosen_learner(states: pd.DataFrame, learner: str | None) -> str | None:
    """The learner whose heatmap is drawn: ``learner``, else the first of ``states``.

    Raises:
        ConfigError: ``learner`` is not in the states (checked before anything is written).
    """
    known = states["student_id"].astype(str)
    chosen = str(learner) if learner is not None else (known.iloc[0] if len(known) else None)
    if learner is not None and not (known == chosen).any():  # checked before anything is written
        raise ConfigError(
            f"states_learner={chosen!r}: no such learner in the history; it has "
            f"{', '.join(known.unique()[:5])}{' ...' if known.nunique() > 5 else ''}. Nothing was written."
        )
    return chosen


def write_states(
    states: pd.DataFrame, folder: str | Path, learner: str | None = None
) -> tuple[Path, Path | None]:
    """Write ``states.csv`` and the heatmap of ``learner`` (else the first) under ``folder``; both paths.

    Raises:
        ConfigError: ``learner`` is not in the states.
    """
    chosen = chosen_learner(states, learner)
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    table = write_table(states, folder / "states.csv")
    if states.empty:
        return table, None
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in chosen)
    return table, plot_states(states, chosen, folder / f"states_{safe}.png")
