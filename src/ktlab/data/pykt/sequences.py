"""pyKT's sequence files, built from a learner table (see :mod:`ktlab.data.pykt.split`).

* :func:`chunk_sequences` (``train_valid_sequences.csv``, ``test_sequences.csv``): each learner cut into
  consecutive chunks of ``max_len`` rows; a leftover shorter than ``min_seq_len`` is dropped, a longer one
  padded with -1. ``selectmasks`` is 1 on real rows.
* :func:`window_sequences` (``test_window_sequences.csv``): a learner of at most ``max_len`` rows is one
  padded sequence; a longer one gives its first ``max_len`` rows, then one window ending at every later
  row, where only that last row is selected.
* :func:`question_sequences` (``test_question_sequences.csv`` and ``..._window_...``): every row of a
  question is predicted from all rows of the earlier questions plus itself, the question's other rows
  hidden. A run of one-concept questions shares one sequence (each of its rows selected); a learner's
  first question is never selected. ``qidxs`` numbers questions across all test learners, ``rest`` counts
  the rows of the same question after a row, ``orirow`` is the learner's position in the test table.
  Sequences longer than ``max_len`` are windowed (``window=True``: one window ending at each selected row
  past the first ``max_len``) or chunked (``window=False``: like :func:`chunk_sequences`, keeping a
  chunk only when its last row is selected).

Every value is kept as the string pyKT writes; padding is ``-1``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ktlab.data.pykt.split import ALL_KEYS, ONE_KEYS, Table

PAD = "-1"


def _columns(fields: Sequence[str]) -> list[str]:
    return [key for key in ALL_KEYS if key in set(fields)]


def _padded(values: Sequence[str], length: int) -> list[str]:
    return list(values) + [PAD] * (length - len(values))


def chunk_sequences(table: Table, fields: Sequence[str], max_len: int = 200, min_seq_len: int = 3) -> Table:
    """Consecutive chunks of ``max_len`` rows per learner (see the module docstring)."""
    keys = [key for key in fields if key not in ONE_KEYS]
    out: Table = []
    for learner in table:
        n = len(learner["responses"])
        start = 0
        while n >= start + max_len:
            out.append(
                {
                    **{key: learner[key] for key in ONE_KEYS},
                    **{key: learner[key][start : start + max_len] for key in keys},
                    "selectmasks": ["1"] * max_len,
                }
            )
            start += max_len
        rest = n - start
        if rest < min_seq_len:
            continue
        out.append(
            {
                **{key: learner[key] for key in ONE_KEYS},
                **{key: _padded(learner[key][start:], max_len) for key in keys},
                "selectmasks": _padded(["1"] * rest, max_len),
            }
        )
    return out


def window_sequences(table: Table, fields: Sequence[str], max_len: int = 200) -> Table:
    """The test windows (see the module docstring)."""
    keys = [key for key in fields if key not in ONE_KEYS]
    out: Table = []
    for learner in table:
        n = len(learner["responses"])
        ones = {key: learner[key] for key in ONE_KEYS}
        if n <= max_len:
            out.append(
                {
                    **ones,
                    **{key: _padded(learner[key], max_len) for key in keys},
                    "selectmasks": _padded(["1"] * n, max_len),
                }
            )
            continue
        out.append({**ones, **{key: learner[key][:max_len] for key in keys}, "selectmasks": ["1"] * max_len})
        last_only = [PAD] * (max_len - 1) + ["1"]
        for end in range(max_len + 1, n + 1):
            out.append(
                {**ones, **{key: learner[key][end - max_len : end] for key in keys}, "selectmasks": last_only}
            )
    return out


def _question_views(repeat: Sequence[str]) -> list[tuple[list[int], list[str]]]:
    """For one learner: each question view as (row indices, selectmasks) (see the module docstring)."""
    views: list[tuple[list[int], list[str]]] = []
    start = 0  # first row of the current question
    previous = None
    for i, flag in enumerate(repeat):
        if flag == "0":
            start = i
        if i == 0:
            views.append(([0], [PAD]))
        elif previous == "0" and flag == "0":  # one more one-concept question in the same run
            views[-1][0].append(i)
            views[-1][1].append("1")
        else:
            views.append(([*range(start), i], [PAD] * start + ["1"] if start else [PAD]))
        previous = flag
    return views


class _View:
    """One question view of a learner, cut into the sequences written."""

    def __init__(self, rows: list[int], masks: list[str], values: dict, ones: dict, max_len: int) -> None:
        self.rows, self.masks, self.values, self.ones, self.max_len = rows, masks, values, ones, max_len

    def piece(self, lo: int, hi: int, pad: bool = False, last_only: bool = False) -> dict:
        """Rows ``lo:hi`` of the view; ``last_only`` selects only its last row; ``pad`` pads to max_len."""
        cut = self.rows[lo:hi]
        seq = {key: [column[r] for r in cut] for key, column in self.values.items()}
        seq["selectmasks"] = [PAD] * (len(cut) - 1) + ["1"] if last_only else self.masks[lo:hi]
        if pad:
            seq = {key: _padded(column, self.max_len) for key, column in seq.items()}
        return {**self.ones, **seq}


def question_sequences(
    table: Table, fields: Sequence[str], window: bool, max_len: int = 200, min_seq_len: int = 3
) -> Table:
    """The question-level test sequences (see the module docstring); ``table`` needs ``is_repeat``."""
    keys = [key for key in fields if key not in ONE_KEYS]
    out: Table = []
    qidx = -1
    for position, learner in enumerate(table):
        repeat = learner["is_repeat"]
        qidxs: list[str] = []
        for flag in repeat:
            qidx += flag == "0"
            qidxs.append(str(qidx))
        rests = [str(qidxs[i + 1 :].count(q)) for i, q in enumerate(qidxs)]
        values = {
            **{key: learner[key] for key in keys},
            "qidxs": qidxs,
            "rest": rests,
            "orirow": [str(position)] * len(repeat),
        }
        ones = {key: learner[key] for key in ONE_KEYS}
        for rows, masks in _question_views(repeat):
            view = _View(rows, masks, values, ones, max_len)
            n = len(rows)
            if n < 2:
                continue
            if n < max_len:
                out.append(view.piece(0, n, pad=True))
            elif window:
                if masks[max_len - 1] == "1":
                    out.append(view.piece(0, max_len))
                for end in range(max_len + 1, n + 1):
                    if masks[end - 1] == "1":
                        out.append(view.piece(end - max_len, end, last_only=True))
            else:
                start = 0
                while n >= start + max_len:
                    if masks[start + max_len - 1] == "1":
                        out.append(view.piece(start, start + max_len))
                    start += max_len
                if n - start >= min_seq_len:
                    out.append(view.piece(start, n, pad=True))
    return out


def columns_of(fields: Sequence[str], *extra: str) -> list[str]:
    """The columns of a file holding ``fields`` plus ``extra``, in pyKT's order."""
    return _columns([*ONE_KEYS, *fields, *extra])
