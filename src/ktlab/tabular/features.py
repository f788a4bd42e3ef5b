"""Point-in-time features per (learner, domain), for all learners at once.

The features of a (learner, domain, time ``T``) read only answers strictly before ``T``: an answer at
exactly ``T`` (or later) is never seen, also when it was recorded at the same timestamp as an earlier one.
Training rows use the time of the answer being predicted as ``T``, so an answer never sees itself nor any
answer recorded at the same moment. Everything is vectorized (sorts, prefix sums and binary searches, see
:mod:`ktlab.tabular.history`) and runs over blocks of about :data:`BLOCK_ANSWERS` answers of whole learners,
one block after the other: a block's arrays stay in the processor's cache and its sorts stay short, so the
time per answer does not grow with the number of answers. A learner's features read only that learner's
answers, and the running sums carry over from block to block, so the values are bit for bit those of one
pass over all answers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ktlab.tabular.data import STYLES, PlatformData
from ktlab.tabular.history import DAY_MS, MS, SortedHistory, prefix, window_mean, window_sum

log = logging.getLogger(__name__)

#: Every feature: (what it measures, its value without history). "domain" = the learner's answers in the
#: domain of the prediction, "all" = the learner's answers in every domain; all strictly before T.
FEATURES: dict[str, tuple[str, str]] = {
    "dom_n_prior": ("number of answers in the domain", "0"),
    "dom_success_rate": ("domain proficiency: smoothed success rate of all domain answers", "prior mean"),
    "dom_recent_success": ("smoothed success rate of the last `recent_window` domain answers", "prior mean"),
    "dom_recent_log_time": ("mean log seconds taken over the last `recent_window` domain answers", "log 30"),
    "dom_streak": ("current run of right answers in the domain", "0"),
    "dom_error_streak": ("current run of wrong answers in the domain", "0"),
    "dom_trend_7d": ("7-day trend: success rate of the last 7 days minus that of earlier answers", "0"),
    "dom_trend_30d": ("30-day trend: success rate of the last 30 days minus that of earlier answers", "0"),
    "dom_n_7d": ("domain answers in the last 7 days", "0"),
    "dom_n_30d": ("domain answers in the last 30 days (the practice pace)", "0"),
    "dom_velocity": (
        "learning velocity: success rate of the last `recent_window` domain answers minus that of the "
        "`recent_window` before them",
        "0",
    ),
    "dom_days_since_last": ("days since the last domain answer (capped at `max_gap_days`)", "max_gap_days"),
    "dom_recent_level": ("mean difficulty level of the last `recent_window` domain answers", "3"),
    "dom_level_score": ("mean of level x right (0/1) over the last `recent_window` domain answers", "0"),
    "strategy_effectiveness": (
        "smoothed success rate of domain answers that followed a wrong one",
        "prior mean",
    ),
    "dom_time_trend": ("recent mean log time minus the mean log time of all domain answers", "0"),
    "all_n_prior": ("number of answers in all domains", "0"),
    "all_success_rate": ("smoothed success rate in all domains", "prior mean"),
    "all_recent_success": (
        "smoothed success rate of the last `long_window` answers, any domain",
        "prior mean",
    ),
    "cross_domain_avg": ("smoothed success rate in the other domains", "prior mean"),
    "all_mean_log_time": ("mean log seconds taken, all domains", "log 30"),
    "session_position": ("answers so far in the current session (0 when T starts a new one)", "0"),
    "session_minutes": ("minutes since the current session began", "0"),
    "session_success_rate": ("smoothed success rate within the current session", "prior mean"),
    "fatigue_slowdown": (
        "fatigue: mean log time of the last 3 answers of the session minus the learner's mean log time",
        "0",
    ),
    "hour_of_day": ("hour of T (timezone of the stored timestamps: UTC for the database)", "-"),
    "day_of_week": ("day of the week of T (0 = Monday)", "-"),
    "days_active": ("distinct days with at least one answer", "0"),
    "days_since_first": ("days since the learner's first answer", "0"),
    "days_since_last_any": ("days since the learner's last answer, any domain (capped)", "max_gap_days"),
    "grade_level": ("grade level of the learner (CE1 = 2 ... CM2 = 5; -1 unknown)", "-"),
    "learning_style": ("learning style code (0 visual, 1 auditory, 2 kinesthetic; -1 unknown)", "-"),
}
FEATURE_NAMES: list[str] = list(FEATURES)
DEFAULT_LOG_TIME = float(np.log(30.0))
#: Answers per block of learners computed together (a learner with more answers is a block of its own).
BLOCK_ANSWERS = 1 << 16


class FeatureEngineering(BaseEstimator):
    """Computes :data:`FEATURES` for (learner, domain) pairs at points in time.

    Args:
        recent_window: answers in the "recent" domain windows.
        long_window: answers in the recent all-domain window.
        session_gap_minutes: a pause longer than this starts a new session.
        prior_strength: pseudo-answers of the smoothed success rates.
        prior_mean: the success rate they are smoothed toward.
        max_gap_days: cap (and no-history value) of the "days since" features.
    """

    def __init__(
        self,
        recent_window: int = 10,
        long_window: int = 20,
        session_gap_minutes: float = 30.0,
        prior_strength: float = 2.0,
        prior_mean: float = 0.5,
        max_gap_days: float = 60.0,
    ) -> None:
        self.recent_window = recent_window
        self.long_window = long_window
        self.session_gap_minutes = session_gap_minutes
        self.prior_strength = prior_strength
        self.prior_mean = prior_mean
        self.max_gap_days = max_gap_days

    @property
    def feature_names(self) -> list[str]:
        """The feature columns, in order."""
        return list(FEATURE_NAMES)

    def _rate(self, correct: np.ndarray, n: np.ndarray) -> np.ndarray:
        return (correct + self.prior_strength * self.prior_mean) / (n + self.prior_strength)

    def answer_features(self, data: PlatformData) -> pd.DataFrame:
        """Features of every answer of ``data``, as known just before it (row-aligned with ``data.answers``)."""
        return self._compute(data, None, None, data.answers["timestamp"])

    def features_at(
        self,
        data: PlatformData,
        student_ids: Sequence[Any],
        domains: Sequence[str] | str,
        at: pd.Timestamp | Sequence[pd.Timestamp],
    ) -> pd.DataFrame:
        """Features of (learner, domain) pairs at time(s) ``at``, from the answers strictly before.

        Args:
            data: the platform data.
            student_ids: one learner per pair.
            domains: one domain per pair, or one for all.
            at: one time per pair, or one for all (naive UTC).
        """
        users = np.asarray(list(student_ids), dtype=object)
        doms = np.full(users.size, domains, dtype=object) if isinstance(domains, str) else np.asarray(domains)
        times = pd.Series(pd.to_datetime(at if not isinstance(at, pd.Timestamp) else [at] * users.size))
        return self._compute(data, users, doms, times)

    def _compute(
        self, data: PlatformData, q_user: np.ndarray | None, q_domain: np.ndarray | None, q_time: pd.Series
    ) -> pd.DataFrame:
        """Features of the queries ``(q_user, q_domain, q_time)``; ``None`` learners and domains: the answers'."""
        answers = data.answers
        a_user, q_user_code, user_index = _factorize(answers["student_id"], q_user)
        a_dom, q_dom, _ = _factorize(answers["skill_id"], q_domain)
        n_dom = int(max(a_dom.max(initial=-1), q_dom.max(initial=-1))) + 1 if a_dom.size + q_dom.size else 1
        ts = answers["timestamp"].to_numpy("datetime64[ns]").view(np.int64)
        qt = pd.to_datetime(q_time).to_numpy("datetime64[ns]").view(np.int64)
        origin = int(ts.min() // MS) if ts.size else 0
        span = int((ts.max() // MS - origin) + 2) if ts.size else 2
        columns = {
            name: answers[name].to_numpy() for name in ("t", "correct", "difficulty_level", "time_spent")
        }
        learners = data.learners.set_index("student_id")
        learner_row = pd.Index(learners.index).get_indexer(user_index)
        grade = learners["grade_level"].to_numpy(np.float64)
        # Code of each known style, -1 for any other (unknown) one.
        style = pd.Index(list(STYLES)).get_indexer(learners["learning_style"]).astype(np.float64)

        # A block is a run of learner codes, so the (group, time) order of its answers is its part of the
        # order of all answers; its rows are a slice as the answers are sorted by learner (codes follow them).
        counts = np.bincount(a_user, minlength=len(user_index))
        block_of = (np.cumsum(counts) - counts) // BLOCK_ANSWERS
        n_blocks = int(block_of.max()) + 1 if block_of.size else 1
        a_blocks = _Blocks(block_of[a_user], n_blocks)
        q_blocks = a_blocks if q_user is None else _Blocks(block_of[q_user_code], n_blocks)
        values = np.empty((len(FEATURE_NAMES), qt.size), dtype=np.float64)
        dom_time = all_time = 0.0
        for k in range(n_blocks):
            a, q = a_blocks.rows(k), q_blocks.rows(k)
            user, t, tie = a_user[a], ts[a], columns["t"][a].astype(np.float64)
            correct = columns["correct"][a].astype(np.float64)
            log_time = np.log(columns["time_spent"][a].astype(np.float64))
            q_ucode, q_t = q_user_code[q], qt[q]
            out: dict[str, np.ndarray] = {}
            dom_n, dom_c, dom_time = self._domain(
                out,
                user.astype(np.int64) * n_dom + a_dom[a],
                t,
                tie,
                correct,
                columns["difficulty_level"][a].astype(np.float64),
                log_time,
                q_ucode.astype(np.int64) * n_dom + q_dom[q],
                q_t,
                origin,
                span,
                dom_time,
            )
            all_time = self._learner(
                out, user, t, tie, correct, log_time, q_ucode, q_t, origin, span, dom_n, dom_c, all_time
            )
            stamps = pd.DatetimeIndex(q_t.view("datetime64[ns]"))
            out["hour_of_day"] = stamps.hour.to_numpy(np.float64)
            out["day_of_week"] = stamps.day_of_week.to_numpy(np.float64)
            who = learner_row[q_ucode]
            out["grade_level"] = np.where(who >= 0, np.nan_to_num(grade[who], nan=-1.0), -1.0)
            out["learning_style"] = np.where(who >= 0, style[who], -1.0)
            for j, name in enumerate(FEATURE_NAMES):
                values[j, q] = out[name]
        return pd.DataFrame(values.T, columns=FEATURE_NAMES, copy=False)

    def _domain(
        self,
        out: dict[str, np.ndarray],
        pair: np.ndarray,
        ts: np.ndarray,
        tie: np.ndarray,
        correct: np.ndarray,
        level: np.ndarray,
        log_time: np.ndarray,
        q_pair: np.ndarray,
        qt: np.ndarray,
        origin: int,
        span: int,
        time_start: float,
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """Domain features into ``out``; the history counts, right answers and end of the log-time sums."""
        order = np.lexsort((tie, ts, pair))
        hist = SortedHistory(pair[order], ts[order], origin, span)
        c, lv, lt, t_sorted = correct[order], level[order], log_time[order], ts[order]
        cc, cl, ct, ccl = prefix(c), prefix(lv), prefix(lt, time_start), prefix(c * lv)
        after_wrong = np.zeros(c.size, dtype=bool)
        after_wrong[1:] = (c[:-1] == 0) & ~hist.is_first[1:]
        cw, cwc = prefix(after_wrong.astype(float)), prefix(after_wrong * c)
        g, b = hist.bounds(q_pair, qt)
        k = self.recent_window
        n = b - g
        a_k = hist.last_k(g, b, k)
        a_2k = hist.last_k(g, b, 2 * k)
        last = np.maximum(b - 1, 0)
        has = n > 0
        out["dom_n_prior"] = n.astype(np.float64)
        n_c = window_sum(cc, g, b)
        out["dom_success_rate"] = self._rate(n_c, n)
        recent = self._rate(window_sum(cc, a_k, b), b - a_k)
        out["dom_recent_success"] = recent
        out["dom_recent_log_time"] = window_mean(ct, a_k, b, DEFAULT_LOG_TIME)
        if c.size:
            last_wrong, last_right = hist.last_index(c == 0), hist.last_index(c == 1)
            out["dom_streak"] = np.where(has, last - last_wrong[last], 0).astype(np.float64)
            out["dom_error_streak"] = np.where(has, last - last_right[last], 0).astype(np.float64)
        else:
            out["dom_streak"] = out["dom_error_streak"] = np.zeros(q_pair.size)
        for days in (7, 30):
            a_d = hist.since(q_pair, qt, days, g, b)
            in_window = b - a_d
            trend = self._rate(window_sum(cc, a_d, b), in_window) - self._rate(
                window_sum(cc, g, a_d), a_d - g
            )
            out[f"dom_trend_{days}d"] = np.where(in_window > 0, trend, 0.0)
            out[f"dom_n_{days}d"] = in_window.astype(np.float64)
        earlier = self._rate(window_sum(cc, a_2k, a_k), a_k - a_2k)
        out["dom_velocity"] = np.where(a_k > a_2k, recent - earlier, 0.0)
        gap_days = (qt - t_sorted[last]) / (DAY_MS * MS) if c.size else np.zeros(q_pair.size)
        out["dom_days_since_last"] = np.where(has, np.minimum(gap_days, self.max_gap_days), self.max_gap_days)
        out["dom_recent_level"] = window_mean(cl, a_k, b, 3.0)
        out["dom_level_score"] = window_mean(ccl, a_k, b, 0.0)
        out["strategy_effectiveness"] = self._rate(window_sum(cwc, g, b), window_sum(cw, g, b))
        out["dom_time_trend"] = np.where(has, out["dom_recent_log_time"] - window_mean(ct, g, b, 0.0), 0.0)
        return n, n_c, float(ct[-1])

    def _learner(
        self,
        out: dict[str, np.ndarray],
        user: np.ndarray,
        ts: np.ndarray,
        tie: np.ndarray,
        correct: np.ndarray,
        log_time: np.ndarray,
        q_user: np.ndarray,
        qt: np.ndarray,
        origin: int,
        span: int,
        dom_n: np.ndarray,
        dom_c: np.ndarray,
        time_start: float,
    ) -> float:
        """All-domain, session and calendar features into ``out``; the end of the log-time sums."""
        order = np.lexsort((tie, ts, user))
        hist = SortedHistory(user[order], ts[order], origin, span)
        c, lt, t_sorted = correct[order], log_time[order], ts[order]
        cc, ct = prefix(c), prefix(lt, time_start)
        g, b = hist.bounds(q_user, qt)
        n = b - g
        has = n > 0
        last = np.maximum(b - 1, 0)
        out["all_n_prior"] = n.astype(np.float64)
        n_c = window_sum(cc, g, b)
        out["all_success_rate"] = self._rate(n_c, n)
        a_long = hist.last_k(g, b, self.long_window)
        out["all_recent_success"] = self._rate(window_sum(cc, a_long, b), b - a_long)
        out["cross_domain_avg"] = self._rate(n_c - dom_c, n - dom_n)
        mean_time = window_mean(ct, g, b, DEFAULT_LOG_TIME)
        out["all_mean_log_time"] = mean_time

        gap_ns = np.int64(self.session_gap_minutes * 60_000) * MS
        idx = np.arange(c.size)
        new_session = hist.previous_time_gap_ns() > gap_ns
        session_start = np.maximum.accumulate(np.where(new_session, idx, 0)) if c.size else idx
        day = t_sorted // (DAY_MS * MS)
        new_day = hist.is_first.copy()
        new_day[1:] |= day[1:] != day[:-1]
        in_session = np.zeros(q_user.size, dtype=bool)
        s0, first_time, last_time, start_time = b, qt, qt, qt
        if c.size:
            in_session = has & (qt - t_sorted[last] <= gap_ns)
            s0 = np.where(in_session, session_start[last], b)
            first_time, last_time = t_sorted[np.minimum(g, c.size - 1)], t_sorted[last]
            start_time = t_sorted[np.minimum(s0, c.size - 1)]
        position = b - s0
        out["session_position"] = position.astype(np.float64)
        out["session_minutes"] = np.where(in_session, (qt - start_time) / (60_000 * MS), 0.0)
        out["session_success_rate"] = self._rate(window_sum(cc, s0, b), position)
        a3 = np.maximum(b - 3, s0)
        out["fatigue_slowdown"] = np.where(in_session, window_mean(ct, a3, b, 0.0) - mean_time, 0.0)
        out["days_active"] = window_sum(prefix(new_day.astype(float)), g, b)
        out["days_since_first"] = np.where(has, (qt - first_time) / (DAY_MS * MS), 0.0)
        since_last = np.minimum((qt - last_time) / (DAY_MS * MS), self.max_gap_days)
        out["days_since_last_any"] = np.where(has, since_last, self.max_gap_days)
        return float(ct[-1])


def _factorize(values: pd.Series, queries: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Codes of the answers' and the queries' values, in order of first appearance (answers first).

    ``queries=None`` stands for the answers' own values, which are then coded once.
    """
    if queries is None:
        codes, uniques = pd.factorize(values)
        return codes, codes, pd.Index(uniques)
    codes, uniques = pd.factorize(np.concatenate([values.to_numpy(), queries]))
    return codes[: len(values)], codes[len(values) :], pd.Index(uniques)


class _Blocks:
    """The rows of each block, from the block of every row (a slice when the rows are already grouped)."""

    def __init__(self, block: np.ndarray, n_blocks: int) -> None:
        grouped = bool(np.all(block[1:] >= block[:-1]))
        self.order = None if grouped else np.argsort(block, kind="stable")
        self.bounds = np.zeros(n_blocks + 1, dtype=np.int64)
        np.cumsum(np.bincount(block, minlength=n_blocks), out=self.bounds[1:])

    def rows(self, k: int) -> slice | np.ndarray:
        """The rows of block ``k``, in their order."""
        lo, hi = int(self.bounds[k]), int(self.bounds[k + 1])
        return slice(lo, hi) if self.order is None else self.order[lo:hi]
