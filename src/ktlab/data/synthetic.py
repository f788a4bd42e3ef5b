"""Synthetic classroom: learners with latent mastery, motivation and anxiety, taught with a ZPDES-style rule.

The generator is vectorized over learners and loops over time steps only. For each learner it draws

* a general ability and a per-skill gap (latent mastery on the logit scale),
* a motivation and an anxiety level in [0, 1] (observed, drifting with success and failure),
* a lesson plan: blocks of 8-15 steps on one skill, each block walking through the learning phases
  ``hub`` -> ``lecon`` -> ``exploration`` -> ``synthese`` -> ``defi``.

The success probability of an answer is::

    sigmoid(mastery_weight * mastery[skill] - difficulty_weight * (difficulty - 0.55)
            + motivation_weight * (motivation - 0.5) - anxiety_weight * (anxiety - 0.3) + phase_effect)

Practice raises mastery of the practised skill (more after a success, and more for motivated learners).
Difficulty per (learner, skill) starts at ``start_difficulty`` and follows a ZPDES-style rule: after more than
``fail_streak`` consecutive failures it drops by ``step``, after more than ``success_streak`` consecutive
successes it rises by ``step``, within ``[0.2, 0.9]``; ``adjustment`` records the change applied before a step.
Each row keeps its true success probability in ``p_correct_true`` for the oracle AUC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.data.schema import DIFFICULTY_RANGE, ORACLE_COLUMN, PHASES
from ktlab.utils.logging import get_logger

log = get_logger(__name__)

#: Additive effect of each learning phase on the success logit.
DEFAULT_PHASE_EFFECTS: dict[str, float] = {
    "hub": 0.0,
    "lecon": 0.4,
    "exploration": 0.0,
    "synthese": -0.2,
    "defi": -0.5,
}


@dataclass
class ClassroomConfig:
    """Parameters of :func:`generate_classroom`; every field is a Hydra key of ``data.source``."""

    n_students: int = 2500
    n_skills: int = 5
    min_len: int = 50
    max_len: int = 100
    seed: int = 7
    mastery_weight: float = 1.5
    difficulty_weight: float = 5.0
    motivation_weight: float = 1.0
    anxiety_weight: float = 1.2
    learning_rate: float = 0.06
    start_difficulty: float = 0.5
    step: float = 0.1
    fail_streak: int = 2
    success_streak: int = 3
    block_len: tuple[int, int] = (8, 15)
    phase_effects: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PHASE_EFFECTS))

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the generator's parameters (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        for name in ("n_students", "n_skills", "min_len", "max_len", "fail_streak", "success_streak"):
            checks.integer(name, 1)
        checks.integer("seed")
        checks.in_range("start_difficulty", *DIFFICULTY_RANGE, high_open=False)
        checks.require("step", lambda v: v > 0, "must be > 0")
        if isinstance(args.get("min_len"), int) and isinstance(args.get("max_len"), int):
            checks.require("min_len", lambda v: v <= args["max_len"], f"must be <= max_len={args['max_len']}")
        checks.require(
            "block_len",
            lambda v: len(v) == 2 and 1 <= v[0] <= v[1],
            "must be two integers [low, high] with 1 <= low <= high",
        )
        checks.require(
            "phase_effects", lambda v: set(v) <= set(PHASES), f"may only name the phases {', '.join(PHASES)}"
        )
        return checks.problems

    def check(self) -> None:
        """Raise one :class:`ConfigError` listing every impossible value."""
        raise_problems("synthetic classroom (data.source)", self.check_args(asdict(self)))


def _phase_of(block_pos: np.ndarray, block_len: np.ndarray) -> np.ndarray:
    """Phase index per learner from its position in the current skill block."""
    phase = np.full(block_pos.shape, PHASES.index("exploration"), dtype=np.int8)
    phase[block_pos <= 2] = PHASES.index("lecon")
    phase[block_pos == 0] = PHASES.index("hub")
    phase[(block_pos >= 0.6 * block_len) & (block_pos > 2)] = PHASES.index("synthese")
    phase[(block_pos >= block_len - 2) & (block_pos > 2)] = PHASES.index("defi")
    return phase


def generate_classroom(config: ClassroomConfig | None = None) -> pd.DataFrame:
    """Simulate a classroom and return its interactions in the ktlab schema plus ``p_correct_true``.

    Args:
        config: generator parameters; defaults give 2,500 learners, 5 skills, 50-100 answers each.

    Returns:
        One row per answer, sorted by learner then ``t`` (0-based step index).
    """
    cfg = config or ClassroomConfig()
    cfg.check()
    rng = np.random.default_rng(cfg.seed)
    n, k = cfg.n_students, cfg.n_skills
    rows = np.arange(n)
    lengths = rng.integers(cfg.min_len, cfg.max_len + 1, size=n)
    horizon = int(lengths.max())

    mastery = rng.normal(0.0, 1.0, size=(n, 1)) + rng.normal(0.0, 0.7, size=(n, k))
    motivation = rng.beta(4.0, 2.5, size=n)
    anxiety = rng.beta(2.0, 4.0, size=n)
    difficulty = np.full((n, k), cfg.start_difficulty)
    pending_adjustment = np.zeros((n, k), dtype=np.int8)
    fails = np.zeros((n, k), dtype=np.int32)
    successes = np.zeros((n, k), dtype=np.int32)
    skill = rng.integers(0, k, size=n)
    block_pos = np.zeros(n, dtype=np.int32)
    block_len = rng.integers(cfg.block_len[0], cfg.block_len[1] + 1, size=n)
    phase_effect = np.array([cfg.phase_effects.get(p, 0.0) for p in PHASES])

    shape = (n, horizon)
    out_skill = np.empty(shape, dtype=np.int32)
    out_correct = np.empty(shape, dtype=np.int8)
    out_difficulty = np.empty(shape)
    out_adjustment = np.empty(shape, dtype=np.int8)
    out_time = np.empty(shape)
    out_motivation = np.empty(shape)
    out_anxiety = np.empty(shape)
    out_phase = np.empty(shape, dtype=np.int8)
    out_p = np.empty(shape)

    for step in range(horizon):
        new_block = block_pos >= block_len
        if new_block.any() and k > 1:
            shift = rng.integers(1, k, size=int(new_block.sum()))
            skill[new_block] = (skill[new_block] + shift) % k
        block_pos[new_block] = 0
        block_len[new_block] = rng.integers(cfg.block_len[0], cfg.block_len[1] + 1, size=int(new_block.sum()))
        phase = _phase_of(block_pos, block_len)

        d = difficulty[rows, skill]
        logit = (
            cfg.mastery_weight * mastery[rows, skill]
            - cfg.difficulty_weight * (d - 0.55)
            + cfg.motivation_weight * (motivation - 0.5)
            - cfg.anxiety_weight * (anxiety - 0.3)
            + phase_effect[phase]
        )
        p = 1.0 / (1.0 + np.exp(-logit))
        correct = rng.random(n) < p
        seconds = np.exp(rng.normal(np.log(25.0) + 1.2 * (d - 0.55) + 0.5 * anxiety - 0.25 * correct, 0.35))

        out_skill[:, step] = skill
        out_correct[:, step] = correct
        out_difficulty[:, step] = d
        out_adjustment[:, step] = pending_adjustment[rows, skill]
        out_time[:, step] = seconds
        out_motivation[:, step] = motivation
        out_anxiety[:, step] = anxiety
        out_phase[:, step] = phase
        out_p[:, step] = p

        # Learning, affect drift and the ZPDES-style difficulty rule.
        surprise = correct - p
        mastery[rows, skill] += cfg.learning_rate * (0.5 + motivation) * np.where(correct, 1.0, 0.5)
        motivation = np.clip(motivation + 0.04 * surprise + rng.normal(0, 0.01, n), 0.02, 0.98)
        anxiety = np.clip(anxiety - 0.04 * surprise + rng.normal(0, 0.01, n), 0.02, 0.98)
        successes[rows, skill] = np.where(correct, successes[rows, skill] + 1, 0)
        fails[rows, skill] = np.where(correct, 0, fails[rows, skill] + 1)
        lower = fails[rows, skill] > cfg.fail_streak
        raise_ = successes[rows, skill] > cfg.success_streak
        change = np.where(lower, -cfg.step, np.where(raise_, cfg.step, 0.0))
        new_d = np.clip(np.round(d + change, 6), *DIFFICULTY_RANGE)
        pending_adjustment[rows, skill] = np.sign(np.round(new_d - d, 6)).astype(np.int8)
        difficulty[rows, skill] = new_d
        fails[rows[lower], skill[lower]] = 0
        successes[rows[raise_], skill[raise_]] = 0
        block_pos += 1

    active = np.arange(horizon)[None, :] < lengths[:, None]  # [N, T]
    frame = pd.DataFrame(
        {
            "student_id": np.repeat(rows, lengths).astype(str),
            "t": np.broadcast_to(np.arange(horizon), shape)[active],
            "skill_id": out_skill[active].astype(str),
            "correct": out_correct[active],
            "difficulty": np.round(out_difficulty[active], 6),
            "adjustment": out_adjustment[active],
            "time_spent": np.round(out_time[active], 3),
            "motivation": np.round(out_motivation[active], 4),
            "anxiety_level": np.round(out_anxiety[active], 4),
            "phase_type": np.asarray(PHASES, dtype=object)[out_phase[active]],
            ORACLE_COLUMN: out_p[active],
        }
    )
    log.info(
        "synthetic classroom: %d learners, %d skills, %d interactions, success rate %.3f",
        n,
        k,
        len(frame),
        frame["correct"].mean(),
    )
    return frame
