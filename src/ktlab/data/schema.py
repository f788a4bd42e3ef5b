"""The interaction schema, declared once, and its validation.

One row is one answer of one learner on one skill (an answer tagged with several skills is several rows
sharing the learner and ``t``, in the order the skills are listed). Every column is declared here, once, as a :class:`Column`: its type,
the values it accepts, and its **role**, which says how the rest of ktlab treats it:

============  ====================================================================================
role          meaning
============  ====================================================================================
learner       who answered (``student_id``); learners, never rows, are split
order         orders a learner's answers (``t``, unique per learner and answer)
item          what was asked (``skill_id``, ``problem_id``): a vocabulary id the networks embed
answer        the target (``correct``, 0/1)
before        context fixed before the answer (difficulty, adjustment, phase): the prediction of a
              step may read it from that same step
during        context measured while or after answering (time, motivation, anxiety): only past steps
oracle        the generator's true success probability: never an input, feeds the oracle AUC only
split         a released train/val/test assignment that replaces the random learner split
when          the wall-clock time of the answer (stored by ingestion; the tabular features read it)
============  ====================================================================================

Validation (:func:`validate_interactions`), encoding (:mod:`ktlab.data.encoding`), batching, prediction,
the database source and ingestion all read these declarations, so a new column is one :class:`Column`
here plus its use. Context signals and item ids beyond ``skill_id`` are optional per run: a column is
required only when the run's ``data.context_features``, ``data.query_features`` or ``data.item_features``
name it (see :func:`required_columns`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd

from ktlab.checks import Problem, raise_problems
from ktlab.errors import DataValidationError
from ktlab.utils.text import MAX_ECHO, shorten

log = logging.getLogger(__name__)


class Role(str, Enum):
    """How a column takes part in training (see the module docstring)."""

    LEARNER = "learner"
    ORDER = "order"
    ITEM = "item"
    ANSWER = "answer"
    BEFORE = "before"
    DURING = "during"
    ORACLE = "oracle"
    SPLIT = "split"
    WHEN = "when"


PHASES: tuple[str, ...] = ("hub", "exploration", "lecon", "synthese", "defi")
DIFFICULTY_RANGE: tuple[float, float] = (0.2, 0.9)
ADJUSTMENTS: tuple[int, ...] = (-1, 0, 1)
SPLIT_NAMES: tuple[str, ...] = ("train", "val", "test")

_EPS = 1e-9


def _outside(low: float, high: float) -> Callable[[pd.Series], pd.Series]:
    return lambda s: (s < low - _EPS) | (s > high + _EPS)


@dataclass(frozen=True)
class Column:
    """The declaration of one interaction column.

    Attributes:
        name: the column name in files, frames and the template.
        kind: ``"id"`` (non-empty text), ``"number"``, ``"choice"`` (one of ``choices``) or ``"datetime"``
            (ISO 8601 text or a timestamp; read as UTC when it names no zone).
        role: see :class:`Role`.
        expected: what a valid value is, in words, for error messages.
        required: every run needs it (the core columns).
        check: for numbers, True where a parsed value is bad.
        choices: the allowed values of a ``choice`` column.
        integer: a number column stored as a small integer (0/1 answers, -1/0/1 adjustments).
        transform: applied before standardizing a numeric signal (``"log1p"`` for durations).
        batch_key: the name of its tensor in a batch (items, answer, oracle, categorical signals).
        in_template: shown in the template and read by default (the classroom's signals); the signals
            of real-world logs (attempts, hints, binned times) are read only when a run names them.
    """

    name: str
    kind: str
    role: Role
    expected: str
    required: bool = False
    check: Callable[[pd.Series], pd.Series] | None = None
    choices: tuple[str, ...] = ()
    integer: bool = False
    transform: str | None = None
    batch_key: str | None = None
    in_template: bool = True

    @property
    def categorical(self) -> bool:
        """A signal encoded as a vocabulary (one-hot in the networks) rather than standardized."""
        return self.kind == "choice"


COLUMNS: tuple[Column, ...] = (
    Column("student_id", "id", Role.LEARNER, "a non-empty learner id", required=True),
    Column(
        "t",
        "number",
        Role.ORDER,
        "a finite number ordering the learner's answers",
        required=True,
        check=lambda s: ~np.isfinite(s),
    ),
    Column(
        "skill_id",
        "id",
        Role.ITEM,
        "a non-empty skill id",
        required=True,
        batch_key="skill",
    ),
    Column(
        "correct",
        "number",
        Role.ANSWER,
        "0 or 1",
        required=True,
        check=lambda s: ~np.isin(s, [0, 1]),
        integer=True,
        batch_key="correct",
    ),
    Column(
        "difficulty",
        "number",
        Role.BEFORE,
        f"a number in [{DIFFICULTY_RANGE[0]}, {DIFFICULTY_RANGE[1]}]",
        check=_outside(*DIFFICULTY_RANGE),
    ),
    Column(
        "adjustment",
        "number",
        Role.BEFORE,
        "-1, 0 or 1",
        check=lambda s: ~np.isin(s, ADJUSTMENTS),
        integer=True,
    ),
    Column(
        "time_spent",
        "number",
        Role.DURING,
        "a number of seconds > 0",
        check=lambda s: ~np.isfinite(s) | (s <= 0),
        transform="log1p",
    ),
    Column(
        "motivation",
        "number",
        Role.DURING,
        "a number in [0, 1]",
        check=_outside(0.0, 1.0),
    ),
    Column(
        "anxiety_level",
        "number",
        Role.DURING,
        "a number in [0, 1]",
        check=_outside(0.0, 1.0),
    ),
    Column(
        "phase_type",
        "choice",
        Role.BEFORE,
        "one of " + ", ".join(PHASES),
        choices=PHASES,
        batch_key="phase",
    ),
    Column(
        "attempt_no",
        "number",
        Role.BEFORE,
        "an attempt number >= 1 (1: the first attempt at the question)",
        check=lambda s: ~np.isfinite(s) | (s < 1),
        transform="log1p",
        in_template=False,
    ),
    Column(
        "gap_bin",
        "number",
        Role.BEFORE,
        "an ordinal code >= 0 of the time since the learner's previous answer",
        check=lambda s: ~np.isfinite(s) | (s < 0),
        in_template=False,
    ),
    Column(
        "duration_bin",
        "number",
        Role.DURING,
        "an ordinal code >= 0 of the time spent answering",
        check=lambda s: ~np.isfinite(s) | (s < 0),
        in_template=False,
    ),
    Column(
        "attempt_count",
        "number",
        Role.DURING,
        "a number of attempts >= 0 made on the step",
        check=lambda s: ~np.isfinite(s) | (s < 0),
        transform="log1p",
        in_template=False,
    ),
    Column(
        "hint_count",
        "number",
        Role.DURING,
        "a number of hints >= 0 asked on the step",
        check=lambda s: ~np.isfinite(s) | (s < 0),
        transform="log1p",
        in_template=False,
    ),
    Column("problem_id", "id", Role.ITEM, "a non-empty problem id", batch_key="problem"),
    Column(
        "p_correct_true",
        "number",
        Role.ORACLE,
        "a probability in [0, 1]",
        check=_outside(0.0, 1.0),
        batch_key="p_true",
    ),
    Column(
        "timestamp",
        "datetime",
        Role.WHEN,
        "a date and time (ISO 8601, e.g. 2026-03-02T14:05:00)",
    ),
    Column(
        "split",
        "choice",
        Role.SPLIT,
        "one of " + ", ".join(SPLIT_NAMES),
        choices=SPLIT_NAMES,
    ),
)
SCHEMA: dict[str, Column] = {column.name: column for column in COLUMNS}


def names_with(*roles: Role) -> tuple[str, ...]:
    """Names of the declared columns having one of ``roles``, in declaration order."""
    return tuple(c.name for c in COLUMNS if c.role in roles)


CORE_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)
#: Signals a run may read as context: known before answering, or measured while answering.
CONTEXT_COLUMNS: tuple[str, ...] = names_with(Role.BEFORE, Role.DURING)
#: Signals fixed before a learner answers a step: the prediction for step t may read them from step t.
KNOWN_BEFORE_ANSWER: frozenset[str] = frozenset(names_with(Role.BEFORE))
ITEM_COLUMNS: tuple[str, ...] = names_with(Role.ITEM)
ORACLE_COLUMN: str = names_with(Role.ORACLE)[0]
SPLIT_COLUMN: str = names_with(Role.SPLIT)[0]
#: The classroom's signals, in the template and read by default (real-world logs add the others by name).
TEMPLATE_SIGNALS: tuple[str, ...] = tuple(c for c in CONTEXT_COLUMNS if SCHEMA[c].in_template)
#: What belongs to an answer rather than to one of its skills: the rows of a multi-skill answer agree on these.
ANSWER_LEVEL: tuple[str, ...] = ("correct", "problem_id", "timestamp")
#: The columns of a full interaction file (the template's columns).
INTERACTION_COLUMNS: tuple[str, ...] = CORE_COLUMNS + TEMPLATE_SIGNALS
#: The item feature naming each question's text (a vector per ``problem_id``; see :mod:`ktlab.data.item_text`).
ITEM_TEXT: str = "question_text"


def feature_problems(
    context_features: Sequence[str], query_features: Sequence[str], item_features: Sequence[str] = ()
) -> list[Problem]:
    """The problems of a run's feature lists: unknown names, and query signals that would leak the answer.

    Args:
        context_features: signals of past steps fed to the model.
        query_features: known-before signals of the predicted step.
        item_features: item ids the model embeds (``skill_id`` is always one), and ``question_text``
            (a vector per question read from its text).
    """
    problems = []
    lists = (("context_features", context_features), ("query_features", query_features))
    for arg, names in lists:
        for name in names:
            if name not in CONTEXT_COLUMNS:
                problems.append(
                    Problem(
                        arg,
                        list(names),
                        f"names '{name}', which is not a context signal; choose from {', '.join(CONTEXT_COLUMNS)}",
                    )
                )
    for name in query_features:
        if name in CONTEXT_COLUMNS and name not in KNOWN_BEFORE_ANSWER:
            problems.append(
                Problem(
                    "query_features",
                    list(query_features),
                    f"names '{name}', which is measured while answering and would leak the answer into its own "
                    f"prediction; only {', '.join(sorted(KNOWN_BEFORE_ANSWER))} are known before the answer",
                )
            )
    for name in item_features:
        if name not in ITEM_COLUMNS and name != ITEM_TEXT:
            problems.append(
                Problem(
                    "item_features",
                    list(item_features),
                    f"names '{name}', which is not an item feature; choose from "
                    f"{', '.join((*ITEM_COLUMNS, ITEM_TEXT))}",
                )
            )
    return problems


def required_columns(
    context_features: Sequence[str],
    query_features: Sequence[str],
    item_features: Sequence[str] = ("skill_id",),
) -> list[str]:
    """Columns a run needs: the core ones plus every signal and item id it reads.

    Raises:
        ConfigError: a feature list is wrong (see :func:`feature_problems`).
    """
    raise_problems("feature", feature_problems(context_features, query_features, item_features))
    used = set(context_features) | set(query_features) | set(item_features)
    if ITEM_TEXT in used:
        used.add("problem_id")  # a question's text is looked up by its id
    return list(CORE_COLUMNS) + [c.name for c in COLUMNS if not c.required and c.name in used]


def where(source: str, position: int, line_offset: int | np.ndarray | None) -> str:
    """``file, row N (line M)`` for an error message about the row at ``position`` (0-based).

    ``line_offset`` is the file line of the first row when rows are consecutive lines, or the line of
    every row (see :data:`ktlab.data.io.Lines`); None gives the row only.
    """
    row = f"row {position + 1}"
    if isinstance(line_offset, np.ndarray):
        row += f" (line {int(line_offset[position])})"
    elif line_offset is not None:
        row += f" (line {position + line_offset})"
    return f"{source}, {row}"


def describe_value(value: object) -> str:
    """A cell for an error message: ``value 'x'`` (long values cut) or ``an empty value``.

    Only a missing value or a blank text is empty: ``'NA'``, ``'null'`` and ``'nan'`` are values.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "an empty value"
    if isinstance(value, str) and not value.strip():
        return "an empty value"
    if isinstance(value, str) and len(value) > MAX_ECHO:
        return f"value {value[: MAX_ECHO - 20]!r}... ({len(value):,} characters)"
    return f"value {shorten(repr(value))}"


def _parse(raw: pd.Series, column: Column) -> tuple[pd.Series | np.ndarray, np.ndarray]:
    """The parsed column and where its values are bad.

    Numbers already stored as numbers (a frame built in Python, a Parquet file, the learner database)
    skip the text parsing: the checks run on the numpy array, which keeps the validation of a short
    history (one learner asking for a prediction) well under a millisecond per column.
    """
    if column.kind == "id":
        parsed = raw.astype(str).str.strip()
        bad = raw.isna().to_numpy() | (parsed.to_numpy(dtype=object) == "")
    elif column.kind == "choice":
        parsed = raw.astype("string").str.strip()
        bad = ~np.isin(parsed.to_numpy(dtype=object, na_value=""), column.choices)
    elif column.kind == "datetime":
        parsed = pd.to_datetime(raw, errors="coerce", utc=True, format="mixed")
        bad = parsed.isna()
    else:
        values = raw.to_numpy()
        if values.dtype.kind in "biuf":
            parsed = values.astype(np.float64)
        else:
            parsed = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(parsed)
        if column.check is not None:
            bad |= np.asarray(column.check(parsed), dtype=bool)
    return parsed, np.asarray(bad, dtype=bool)


def _order_problems(out: dict[str, pd.Series], source: str, line_offset: int | None) -> list[str]:
    """A repeated ``(student_id, t)`` is refused unless it tags one answer with another skill.

    The rows of a multi-skill answer share ``student_id`` and ``t``, name distinct skills and agree on
    what belongs to the answer (:data:`ANSWER_LEVEL`); any other repeat is two answers at one step.
    """
    codes = pd.factorize(out["student_id"])[0]
    t = np.asarray(out["t"])
    order = np.lexsort((t, codes))
    if not ((np.diff(codes[order]) == 0) & (np.diff(t[order]) == 0)).any():
        return []  # the common case, found without building a frame
    keys = pd.DataFrame({"student_id": out["student_id"], "t": t})
    repeated = keys.duplicated(keep="first").to_numpy()
    same_skill = keys.assign(skill_id=out["skill_id"]).duplicated(keep="first").to_numpy()
    answer = [c for c in ANSWER_LEVEL if c in out]
    table = keys.assign(**{c: out[c] for c in answer})
    disagree = (table.groupby(["student_id", "t"], sort=False)[answer].transform("nunique") > 1).any(axis=1)
    bad = same_skill | (repeated & disagree.to_numpy())
    if not bad.any():
        return []
    first = int(np.flatnonzero(bad)[0])
    why = "names the same skill twice" if same_skill[first] else f"disagrees on {'/'.join(answer)}"
    return [
        f"{where(source, first, line_offset)}, columns 'student_id'/'t': the pair "
        f"({shorten(repr(out['student_id'].iloc[first]))}, {t[first]:g}) appears again and "
        f"{why} ({int(bad.sum())} such row(s) in all); each learner's answers need distinct t (the rows of "
        f"one answer tagged with several skills share t, name distinct skills and agree on {', '.join(answer)})"
    ]


def validate_interactions(
    frame: pd.DataFrame,
    source: str,
    required: Sequence[str] = INTERACTION_COLUMNS,
    line_offset: int | None = None,
) -> pd.DataFrame:
    """Check an interaction table and return it with parsed, canonical dtypes.

    Every declared column present is checked for type, range, allowed values and emptiness, the
    ``required`` ones for presence, and ``(student_id, t)`` pairs must be unique except across the skills
    of one answer (an answer tagged with several skills is one row per skill, sharing ``t`` and the
    answer's columns; see :data:`ANSWER_LEVEL`). All problems are collected and reported together.

    Args:
        frame: the raw table, one row per answer, in file order.
        source: what to call the table in messages (a file path, ``"synthetic classroom"``...).
        required: columns that must be present (see :func:`required_columns`). Unknown columns are dropped.
        line_offset: for text files, the line number of the first data row (2 for a CSV with a
            header), so messages give the file line as well as the row.

    Returns:
        A new frame holding the declared columns present, ids as strings, numbers as float/int.

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
            f"{source} lacks the column(s) {', '.join(missing)}; it has "
            f"{shorten(', '.join(map(str, frame.columns)))}. Add them (see `python scripts/make_template.py` "
            "for a template), or drop the signal from data.context_features / data.query_features / "
            "data.item_features."
        )
    out: dict[str, pd.Series | np.ndarray] = {}
    problems: list[str] = []
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        frame = frame.reset_index(drop=True)  # positions are rows in the messages
    for column in (c for c in COLUMNS if c.name in frame.columns):
        raw = frame[column.name]
        parsed, bad = _parse(raw, column)
        if bad.any():
            positions = np.flatnonzero(bad)
            first = int(positions[0])
            more = (
                f" ({len(positions) - 1} more row(s) in this column are bad too)"
                if len(positions) > 1
                else ""
            )
            problems.append(
                f"{where(source, first, line_offset)}, column '{column.name}': "
                f"{describe_value(raw.iloc[first])} is not {column.expected}{more}"
            )
        out[column.name] = parsed
    if not problems:
        problems += _order_problems(out, source, line_offset)
    if problems:
        raise DataValidationError("Invalid interaction data: " + "; ".join(problems) + ".")

    for column in COLUMNS:
        if column.name not in out:
            continue
        if column.integer:
            out[column.name] = np.asarray(out[column.name]).astype(np.int8)
        elif column.kind == "choice":
            out[column.name] = out[column.name].astype(str)
    clean = pd.DataFrame(out)
    log.debug("validated %d interactions from %s", len(clean), source)
    return clean
