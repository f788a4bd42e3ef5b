"""Point-in-time history of sorted answers: prefix sums and the boundaries of "strictly before" queries.

Answers are sorted by (group, time). A query ``(group, T)`` sees the rows ``[g, b)``: ``g`` is the group's
first row and ``b`` its first row at or after ``T`` (a binary search), so an answer at exactly ``T`` is not
history. Any sum over history is ``C[b] - C[g]`` with the prefix sums ``C``; windows (the last k answers,
the last d days) move ``g`` forward. Times are compared at 1 ms resolution: an answer in the same
millisecond as ``T`` counts as simultaneous and is left out. Hand-written because no library offers
as-of window aggregates over many groups with an exclusive bound (``pandas.merge_asof`` gives one row,
``rolling`` includes the current row and equal timestamps).
"""

from __future__ import annotations

import numpy as np

from ktlab.tabular.errors import TabularError

MS = 1_000_000  # nanoseconds per millisecond
DAY_MS = 86_400_000


class SortedHistory:
    """Rows sorted by group code then time, with the helpers features are built from.

    Args:
        codes: the group code of each row (non-negative ints), already sorted.
        times_ns: answer times in nanoseconds, sorted within each group.
        origin_ms: the time origin shared by every query (ms).
        span_ms: the width of one group's slot of the search key; larger than any time offset.
    """

    def __init__(self, codes: np.ndarray, times_ns: np.ndarray, origin_ms: int, span_ms: int) -> None:
        self.codes = codes
        self.times_ns = times_ns
        self.origin_ms = origin_ms
        self.span_ms = span_ms
        if codes.size and int(codes.max()) + 1 > (2**62) // span_ms:
            raise TabularError(
                "Too many learner groups over too long a period for one feature pass; compute features "
                "for fewer learners at a time."
            )
        self.key = codes.astype(np.int64) * span_ms + (times_ns // MS - origin_ms)
        idx = np.arange(codes.size)
        new = np.ones(codes.size, dtype=bool)
        new[1:] = codes[1:] != codes[:-1]
        self.is_first = new
        #: The first row of each row's group.
        self.group_start = np.maximum.accumulate(np.where(new, idx, 0)) if codes.size else idx

    def offset(self, times_ns: np.ndarray) -> np.ndarray:
        """Times of queries as key offsets, clipped into a group's slot."""
        return np.clip(times_ns // MS - self.origin_ms, 0, self.span_ms - 1)

    def bounds(self, codes: np.ndarray, times_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(g, b)``: the history of each query is rows ``[g, b)``, all strictly before its time."""
        base = codes.astype(np.int64) * self.span_ms
        g = np.searchsorted(self.key, base, side="left")
        b = np.searchsorted(self.key, base + self.offset(times_ns), side="left")
        return g, b

    def since(
        self, codes: np.ndarray, times_ns: np.ndarray, days: float, g: np.ndarray, b: np.ndarray
    ) -> np.ndarray:
        """First history row of each query within the last ``days`` days (``g <= a <= b``)."""
        base = codes.astype(np.int64) * self.span_ms
        start = self.offset(times_ns - np.int64(days * DAY_MS) * MS)
        a = np.searchsorted(self.key, base + start, side="left")
        return np.clip(a, g, b)

    def last_k(self, g: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
        """First row of the last ``k`` history rows."""
        return np.maximum(b - k, g)

    def last_index(self, flag: np.ndarray) -> np.ndarray:
        """For each row, the index of the latest row of its group up to it with ``flag``, else group start - 1."""
        idx = np.arange(flag.size)
        return np.maximum.accumulate(np.where(flag, idx, self.group_start - 1)) if flag.size else idx

    def previous_time_gap_ns(self) -> np.ndarray:
        """Time since the previous row of the same group (a large value for a group's first row)."""
        gap = np.full(self.codes.size, np.iinfo(np.int64).max, dtype=np.int64)
        gap[1:] = self.times_ns[1:] - self.times_ns[:-1]
        gap[self.is_first] = np.iinfo(np.int64).max
        return gap


def prefix(values: np.ndarray, start: float = 0.0) -> np.ndarray:
    """``C`` with ``C[0] = start`` and ``C[i + 1] = C[i] + values[i]``: a sum over rows [a, b) is C[b] - C[a].

    The running sum is accumulated in order, one row after the other, so the prefix sums of consecutive
    pieces of an array, each started at the last value of the previous piece, are bit for bit those of the
    whole array (a float sum ``C[b] - C[a]`` rounds the same either way).
    """
    out = np.empty(values.size + 1, dtype=np.float64)
    out[0] = start
    out[1:] = values
    np.cumsum(out, out=out)
    return out


def window_sum(cum: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sum over rows ``[a, b)`` from prefix sums."""
    return cum[b] - cum[a]


def window_mean(cum: np.ndarray, a: np.ndarray, b: np.ndarray, empty: float) -> np.ndarray:
    """Mean over rows ``[a, b)``, ``empty`` where the window holds no row."""
    n = b - a
    return np.where(n > 0, (cum[b] - cum[a]) / np.maximum(n, 1), empty)
