"""A synthetic learning platform: learners, sessions over weeks, answers with time taken and timestamps.

Vectorized over all answers (no loop over learners or steps). Each learner has a grade level (CE1-CM2),
a learning style, a general ability, a per-domain gap and a learning gain. Sessions fall on random days,
mostly after school; each session has 6-20 answers, mostly in one domain. The success logit of an answer is::

    ability + gap[domain] - domain_offset[domain] + gain * log1p(practice / 5)   # learning over time
    - forgetting * log1p(days since the last answer in the domain)              # gaps
    - level_weight * (level - 3)                                                 # difficulty 1-5
    - fatigue * position_in_session - evening * (hour >= 19)                     # fatigue, time of day
    + disparity_logit * (learning_style == disparity_group)                      # the built-in disparity

``practice`` counts the learner's earlier answers in the domain. Levels are served near the learner's skill
with noise, so every level is seen at every skill. Grade level has no effect: the exercises are adapted to
the grade. ``disparity_logit`` (0 by default) lowers the success chance of one learning-style group at equal
skill, e.g. exercises written for visual and written work that serve kinesthetic learners worse; it is what
the fairness audit must find. Each answer keeps its true success probability in ``p_correct_true``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ktlab.errors import ConfigError
from ktlab.tabular.data import DOMAINS, GRADES, STYLES, PlatformData

log = logging.getLogger(__name__)

#: Harder domains have a larger offset (subtracted from the success logit).
DOMAIN_OFFSETS: dict[str, float] = {
    "addition": -0.4,
    "subtraction": -0.2,
    "multiplication": 0.1,
    "division": 0.3,
    "fractions": 0.5,
}
#: Weight of each start hour of a session (school days: mostly after school; a few mornings).
_HOURS = np.array([8, 9, 10, 11, 13, 14, 16, 17, 18, 19, 20])
_HOUR_WEIGHTS = np.array([2, 3, 3, 2, 2, 2, 6, 8, 7, 4, 2], dtype=float)


@dataclass
class PlatformConfig:
    """Parameters of :func:`generate_platform` (the Hydra keys of ``data`` with ``data=synthetic_platform``)."""

    n_learners: int = 300
    weeks: int = 8
    sessions_per_week: float = 3.0
    min_session_answers: int = 6
    max_session_answers: int = 20
    seed: int = 7
    level_weight: float = 0.9
    learning_gain: float = 0.6
    forgetting: float = 0.25
    fatigue: float = 0.04
    evening: float = 0.3
    disparity_logit: float = 0.0
    disparity_group: str = "kinesthetic"
    start: str = "2024-09-02"

    def check(self) -> None:
        """Raise a :class:`ConfigError` listing every impossible value."""
        problems = []
        if self.n_learners < 2:
            problems.append(f"data.n_learners={self.n_learners}: must be >= 2")
        if self.weeks < 1:
            problems.append(f"data.weeks={self.weeks}: must be >= 1")
        if self.sessions_per_week <= 0:
            problems.append(f"data.sessions_per_week={self.sessions_per_week}: must be > 0")
        if not 1 <= self.min_session_answers <= self.max_session_answers:
            problems.append(
                f"data.min_session_answers={self.min_session_answers}, data.max_session_answers="
                f"{self.max_session_answers}: need 1 <= min <= max"
            )
        if self.disparity_group not in STYLES:
            problems.append(f"data.disparity_group={self.disparity_group!r}: must be one of {list(STYLES)}")
        if problems:
            raise ConfigError("Invalid platform generator settings: " + "; ".join(problems) + ".")


def _learners(cfg: PlatformConfig, rng: np.random.Generator) -> pd.DataFrame:
    n = cfg.n_learners
    grades = rng.choice(np.array(list(GRADES.values())), size=n)
    return pd.DataFrame(
        {
            "student_id": np.arange(1, n + 1, dtype=np.int64),
            "grade_level": grades.astype(np.int16),
            "learning_style": rng.choice(np.array(STYLES), size=n),
        }
    )


def generate_platform(cfg: PlatformConfig | None = None, **overrides: object) -> PlatformData:
    """Generate learners and their answers.

    Args:
        cfg: the settings (defaults when None).
        **overrides: fields of :class:`PlatformConfig` to change.

    Returns:
        The platform data; ``answers`` has ``p_correct_true``.
    """
    cfg = cfg or PlatformConfig()
    if overrides:
        cfg = PlatformConfig(**{**cfg.__dict__, **overrides})
    cfg.check()
    rng = np.random.default_rng(cfg.seed)
    learners = _learners(cfg, rng)
    n, n_dom = cfg.n_learners, len(DOMAINS)
    ability = rng.normal(0.3, 0.9, n)
    gap = rng.normal(0.0, 0.5, (n, n_dom))
    gain = cfg.learning_gain * rng.lognormal(0.0, 0.4, n)
    preference = rng.dirichlet(np.ones(n_dom), n)  # [N, D] which domains a learner practises
    group = (learners["learning_style"].to_numpy() == cfg.disparity_group).astype(float)

    # Sessions: a day and a start time each, sorted per learner.
    days = cfg.weeks * 7
    n_sessions = np.maximum(rng.poisson(cfg.weeks * cfg.sessions_per_week, n), 2)
    n_sessions = np.minimum(n_sessions, days)
    s_user = np.repeat(np.arange(n), n_sessions)
    # At most one session a day: each learner's first n_sessions days of a random order of the days.
    day_order = np.argsort(rng.random((n, days)), axis=1)
    rank = np.arange(s_user.size) - np.repeat(np.cumsum(n_sessions) - n_sessions, n_sessions)
    s_day = day_order[s_user, rank]
    s_hour = rng.choice(_HOURS, size=s_user.size, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    s_start = s_day * 86400.0 + s_hour * 3600.0 + rng.uniform(0, 1800, s_user.size)
    order = np.lexsort((s_start, s_user))
    s_user, s_start, s_hour = s_user[order], s_start[order], s_hour[order]
    cum_pref = preference[s_user].cumsum(axis=1)
    s_domain = (rng.random(s_user.size)[:, None] > cum_pref).sum(axis=1).clip(0, n_dom - 1)
    s_len = rng.integers(cfg.min_session_answers, cfg.max_session_answers + 1, s_user.size)

    # Answers: one row per step of each session.
    a_sess = np.repeat(np.arange(s_user.size), s_len)
    first = np.repeat(np.cumsum(s_len) - s_len, s_len)
    position = np.arange(a_sess.size) - first
    user = s_user[a_sess]
    domain = np.where(rng.random(a_sess.size) < 0.8, s_domain[a_sess], rng.integers(0, n_dom, a_sess.size))
    frame = pd.DataFrame({"u": user, "d": domain})
    practice = frame.groupby(["u", "d"], sort=False).cumcount().to_numpy()

    time_pause = rng.uniform(3.0, 20.0, a_sess.size)
    # Level near the learner's skill, with noise; time taken grows with level and fatigue.
    skill = ability[user] + gap[user, domain] + gain[user] * np.log1p(practice / 5.0)
    level = np.clip(np.rint(3.0 + 0.8 * skill + rng.normal(0.0, 1.1, a_sess.size)), 1, 5).astype(np.int16)
    base_time = np.exp(rng.normal(np.log(10.0 + 6.0 * level), 0.35)) * (1.0 + 0.02 * position)
    offsets = np.cumsum(base_time + time_pause) - (base_time + time_pause)
    offsets -= np.repeat(offsets[np.cumsum(s_len) - s_len], s_len)
    seconds = s_start[a_sess] + offsets
    frame["s"] = seconds
    since = frame.groupby(["u", "d"], sort=False)["s"].diff().fillna(0.0).to_numpy() / 86400.0
    hour = ((seconds % 86400.0) // 3600.0).astype(int)

    logit = (
        skill
        - np.array([DOMAIN_OFFSETS[d] for d in DOMAINS])[domain]
        - cfg.forgetting * np.log1p(since)
        - cfg.level_weight * (level - 3.0)
        - cfg.fatigue * position
        - cfg.evening * (hour >= 19)
        + cfg.disparity_logit * group[user]
    )
    p_true = 1.0 / (1.0 + np.exp(-logit))
    correct = rng.random(a_sess.size) < p_true
    time_spent = np.round(base_time * np.where(correct, 1.0, 1.2), 2)

    start = pd.Timestamp(cfg.start)
    answers = pd.DataFrame(
        {
            "student_id": learners["student_id"].to_numpy()[user],
            "skill_id": np.array(DOMAINS)[domain],
            "difficulty_level": level,
            "correct": correct.astype(np.int8),
            "time_spent": time_spent,
            "timestamp": start + pd.to_timedelta(np.round(seconds, 3), unit="s"),
            "p_correct_true": p_true,
        }
    )
    answers["t"] = answers.groupby("student_id").cumcount().astype(float) + 1.0
    answers["problem_id"] = answers["skill_id"] + "-" + answers["difficulty_level"].astype(str)
    log.info(
        "generated %d answers of %d learners over %d weeks (disparity %.2f on %s)",
        len(answers),
        n,
        cfg.weeks,
        cfg.disparity_logit,
        cfg.disparity_group,
    )
    return PlatformData(answers=answers, learners=learners, source="synthetic platform")


def synthetic_platform(**settings: object) -> PlatformData:
    """Hydra entry point of ``data=synthetic_platform``: the generator with the given settings."""
    return generate_platform(PlatformConfig(**settings))  # type: ignore[arg-type]
