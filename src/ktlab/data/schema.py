"""The interaction schema and its validation.

One row is one answer of one learner::

    student_id, t, skill_id, correct, difficulty, adjustment, time_spent,
    motivation, anxiety_level, phase_type [, p_correct_true]

``student_id`` and ``skill_id`` are identifiers (kept as strings), ``t`` orders a learner's answers,
``correct`` is 0/1. The context signals are optional per run: a column is required only when the run's
``data.context_features`` or ``data.query_features`` name it. ``p_correct_true`` is the generator's true
success probability; it is never a model input and only feeds the oracle AUC.

:func:`validate_interactions` checks every column at once, over whole columns, and raises one
:class:`~ktlab.errors.DataValidationError` paragraph that names the file, the row, the column and the value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ktlab.errors import ConfigError, DataValidationError

log = logging.getLogger(__name__)

CORE_COLUMNS: tuple[str, ...] = ("student_id", "t", "skill_id", "correct")
CONTEXT_COLUMNS: tuple[str, ...] = (
    "difficulty",
    "adjustment",
    "time_spent",
    "motivation",
    "anxiety_level",
    "phase_type",
)
INTERACTION_COLUMNS: tuple[str, ...] = CORE_COLUMNS + CONTEXT_COLUMNS
ORACLE_COLUMN = "p_correct_true"

PHASES: tuple[str, ...] = ("hub", "exploration", "lecon", "synthese", "defi")
DIFFICULTY_RANGE: tuple[float, float] = (0.2, 0.9)
ADJUSTMENTS: tuple[int, ...] = (-1, 0, 1)

#: Signals fixed before a learner answers a step: the prediction for step t+1 may read them from t+1.
#: Time spent, correctness, motivation and anxiety are measured while (or after) answering and may only
#: be read from past steps.
KNOWN_BEFORE_ANSWER: frozenset[str] = frozenset({"difficulty", "adjustment", "phase_type"})

_EPS = 1e-9


@dataclass(frozen=True)
class ColumnRule:
    """How one column is parsed and which values it accepts."""

    kind: str  # "id", "number", "choice"
    expected: str  # words for the error message
    check: Callable[[pd.Series], pd.Series] | None = None  # True where a parsed value is bad


def _outside(low: float, high: float) -> Callable[[pd.Series], pd.Series]:
    return lambda s: (s < low - _EPS) | (s > high + _EPS)


RULES: dict[str, ColumnRule] = {
    "student_id": ColumnRule("id", "a non-empty learner id"),
    "t": ColumnRule("number", "a finite number ordering the learner's answers", lambda s: ~np.isfinite(s)),
    "skill_id": ColumnRule("id", "a non-empty skill id"),
    "correct": ColumnRule("number", "0 or 1", lambda s: ~s.isin([0, 1])),
    "difficulty": ColumnRule(
        "number", f"a number in [{DIFFICULTY_RANGE[0]}, {DIFFICULTY_RANGE[1]}]", _outside(*DIFFICULTY_RANGE)
    ),
    "adjustment": ColumnRule("number", "-1, 0 or 1", lambda s: ~s.isin(ADJUSTMENTS)),
    "time_spent": ColumnRule("number", "a number of seconds > 0", lambda s: ~np.isfinite(s) | (s <= 0)),
    "motivation": ColumnRule("number", "a number in [0, 1]", _outside(0.0, 1.0)),
    "anxiety_level": ColumnRule("number", "a number in [0, 1]", _outside(0.0, 1.0)),
    "phase_type": ColumnRule("choice", "one of " + ", ".join(PHASES), lambda s: ~s.isin(PHASES)),
    ORACLE_COLUMN: ColumnRule("number", "a probability in [0, 1]", _outside(0.0, 1.0)),
}


def required_columns(context_features: Sequence[str], query_features: Sequence[str]) -> list[str]:
    """Columns a run needs: the core ones plus every context signal it reads.

    Args:
        context_features: signals of past steps fed to the model (``data.context_features``).
        query_features: known-before signals of the predicted step (``data.query_features``).

    Raises:
        ConfigError: a name is not a context column, or a query feature would leak the answer.
    """
    problems = []
    for key, names in (("data.context_features", context_features), ("data.query_features", query_features)):
        for name in names:
            if name not in CONTEXT_COLUMNS:
                problems.append(
                    f"{key} names '{name}', which is not a context signal; choose from "
                    f"{', '.join(CONTEXT_COLUMNS)}"
                )
    for name in query_features:
        if name in CONTEXT_COLUMNS and name not in KNOWN_BEFORE_ANSWER:
            problems.append(
                f"data.query_features names '{name}', which is measured while answering and would leak "
                f"the answer into its own prediction; only {', '.join(sorted(KNOWN_BEFORE_ANSWER))} are "
                "known before the answer"
            )
    if problems:
        raise ConfigError("Invalid feature configuration: " + "; ".join(problems) + ".")
    extra = [c for c in CONTEXT_COLUMNS if c in set(context_features) | set(query_features)]
    return list(CORE_COLUMNS) + extra


def _where(source: str, position: int, line_offset: int | None) -> str:
    row = f"row {position + 1}"
    if line_offset is not None:
        row += f" (line {position + line_offset})"
    return f"{source}, {row}"


def _describe(value: object) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "an empty value"
    return f"value {value!r}"


def validate_interactions(
    frame: pd.DataFrame,
    source: str,
    required: Sequence[str] = INTERACTION_COLUMNS,
    line_offset: int | None = None,
) -> pd.DataFrame:
    """Check an interaction table and return it with parsed, canonical dtypes.

    Every required column is checked for presence, type, range, allowed values and emptiness, and
    ``(student_id, t)`` pairs must be unique. All problems are collected and reported together.

    Args:
        frame: the raw table, one row per answer, in file order.
        source: what to call the table in messages (a file path, ``"synthetic classroom"``...).
        required: columns that must be present (see :func:`required_columns`). Other schema columns
            that are present are checked too; unknown columns are dropped.
        line_offset: for text files, the line number of the first data row (2 for a CSV with a
            header), so messages give the file line as well as the row.

    Returns:
        A new frame holding the schema columns present, ids as strings, numbers as float/int.

    Raises:
        DataValidationError: the table is empty or breaks the schema.
    """
    if len(frame) == 0:
        raise DataValidationError(
            f"{source} holds no interactions: it needs a header and at least one row with the columns "
            f"{', '.join(required)}."
        )
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{source} lacks the column(s) {', '.join(missing)}; it has {', '.join(map(str, frame.columns))}. "
            "Add them (see `python scripts/make_template.py` for a template), or drop the signal from "
            "data.context_features / data.query_features."
        )
    present = [c for c in RULES if c in frame.columns]
    out: dict[str, pd.Series] = {}
    problems: list[str] = []
    for column in present:
        raw = frame[column].reset_index(drop=True)
        rule = RULES[column]
        if rule.kind == "id":
            empty = raw.isna() | (raw.astype(str).str.strip() == "")
            parsed = raw.astype(str).str.strip()
            bad = empty
        elif rule.kind == "choice":
            parsed = raw.astype("string").str.strip()
            bad = raw.isna() | rule.check(parsed).fillna(True).astype(bool)
        else:
            parsed = pd.to_numeric(raw, errors="coerce").astype(float)
            bad = parsed.isna() | (rule.check(parsed).astype(bool) if rule.check else False)
        bad = np.asarray(bad, dtype=bool)
        if bad.any():
            positions = np.flatnonzero(bad)
            first = int(positions[0])
            more = (
                f" ({len(positions) - 1} more row(s) in this column are bad too)"
                if len(positions) > 1
                else ""
            )
            problems.append(
                f"{_where(source, first, line_offset)}, column '{column}': {_describe(raw.iloc[first])} is "
                f"not {rule.expected}{more}"
            )
        out[column] = parsed
    if not problems:
        keys = pd.DataFrame({"student_id": out["student_id"], "t": out["t"]})
        dup = keys.duplicated(keep="first").to_numpy()
        if dup.any():
            first = int(np.flatnonzero(dup)[0])
            problems.append(
                f"{_where(source, first, line_offset)}, columns 'student_id'/'t': the pair "
                f"({out['student_id'].iloc[first]!r}, {out['t'].iloc[first]:g}) appears twice "
                f"({int(dup.sum())} duplicate row(s) in all); each learner's steps need distinct t"
            )
    if problems:
        raise DataValidationError("Invalid interaction data: " + "; ".join(problems) + ".")

    clean = pd.DataFrame(out)
    for column in ("correct", "adjustment"):
        if column in clean:
            clean[column] = clean[column].astype(np.int8)
    if "phase_type" in clean:
        clean["phase_type"] = clean["phase_type"].astype(str)
    log.debug("validated %d interactions from %s", len(clean), source)
    return clean
