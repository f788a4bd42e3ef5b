"""Platform data for the tabular models: answers and learners, from the database, a file or the generator.

One layout for every source, in the names of the answer record (:mod:`ktlab.data.schema`):

* ``answers``: ``student_id``, ``skill_id`` (the skill domain), ``difficulty_level`` (1-5), ``correct``
  (0/1), ``time_spent`` (seconds > 0), ``timestamp`` (naive UTC); optional ``t``, ``problem_id`` and
  ``p_correct_true`` (the generator's true success probability, never a model input). ``difficulty_level``
  is the one column of the tabular models only: the platform's level 1-5, where the record's
  ``difficulty`` is a number in [0.2, 0.9] (:func:`ktlab.tabular.interactions.level_difficulty`);
* ``learners``: ``student_id``, ``grade_level`` (small int) and ``learning_style`` (text), the learner's
  attributes (and ``username`` when read from the database).

Outside layouts are column maps at their readers: the database's is
:data:`ktlab.db.columns.PLATFORM_ANSWERS` (:mod:`ktlab.tabular.dbdata`), and a file may use the record's
names or the database's column names (:data:`FILE_COLUMNS`, the layout of earlier versions).

French primary grades map to ``users.grade_level`` as the year of schooling: CE1 = 2, CE2 = 3, CM1 = 4,
CM2 = 5 (CP = 1). A file may hold ``grade_level`` as either the number or the French name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ktlab.data.io import read_table
from ktlab.data.layouts import rename_layout
from ktlab.db.columns import PLATFORM_ANSWERS
from ktlab.errors import DataValidationError
from ktlab.tabular.errors import TabularError

log = logging.getLogger(__name__)

DOMAINS: tuple[str, ...] = ("addition", "subtraction", "multiplication", "division", "fractions")
STYLES: tuple[str, ...] = ("visual", "auditory", "kinesthetic")
#: French primary grade -> ``users.grade_level`` (year of schooling).
GRADES: dict[str, int] = {"CE1": 2, "CE2": 3, "CM1": 4, "CM2": 5}
ANSWER_COLUMNS: tuple[str, ...] = (
    "student_id",
    "skill_id",
    "difficulty_level",
    "correct",
    "time_spent",
    "timestamp",
)
LEARNER_COLUMNS: tuple[str, ...] = ("student_id", "grade_level", "learning_style")
#: A file's column in the database's names (the file layout of earlier versions) -> the record's column.
#: A file may use either name of a column, not both.
FILE_COLUMNS: dict[str, str] = {stored: name for name, stored in PLATFORM_ANSWERS.items() if stored != name}


@dataclass
class PlatformData:
    """Answers and learners of a platform.

    Attributes:
        answers: one row per answer (see the module docstring), sorted by learner, time and ``t``.
        learners: one row per learner.
        source: where the data came from, for messages.
        profiles: the stored ``skill_profiles`` rows when read from the database (a snapshot, not history).
        names: the source's own name of a renamed column, for messages (not kept).
    """

    answers: pd.DataFrame
    learners: pd.DataFrame
    source: str = "platform data"
    profiles: pd.DataFrame | None = field(default=None)
    names: InitVar[Mapping[str, str] | None] = None

    def __post_init__(self, names: Mapping[str, str] | None) -> None:
        self.answers = validate_answers(self.answers, self.source, names)
        self.learners = validate_learners(self.learners, self.answers, self.source)

    @property
    def domains(self) -> list[str]:
        """The skill domains present in the answers."""
        return sorted(self.answers["skill_id"].unique().tolist())

    def check_domain(self, domain: str) -> None:
        """Raise a :class:`TabularError` when no answer is in ``domain``."""
        if domain not in set(self.answers["skill_id"].unique()):
            raise TabularError(
                f"Unknown skill domain '{domain}' in {self.source}: it holds answers in "
                f"{', '.join(self.domains)}. Pick one of these."
            )

    def end(self) -> pd.Timestamp:
        """Just after the last answer: the default point in time of a prediction."""
        return self.answers["timestamp"].max() + pd.Timedelta(microseconds=1)

    def split_at(self, at: pd.Timestamp) -> tuple[PlatformData, PlatformData]:
        """The answers strictly before ``at`` and those at or after it, with the same learners."""
        before = self.answers["timestamp"] < at
        return (
            PlatformData(self.answers[before], self.learners, f"{self.source} before {at}"),
            PlatformData(self.answers[~before], self.learners, f"{self.source} from {at}"),
        )

    def subset(self, student_ids: Sequence[Any]) -> PlatformData:
        """The data of some learners only."""
        keep = set(student_ids)
        answers = self.answers[self.answers["student_id"].isin(keep)]
        return PlatformData(answers, self.learners[self.learners["student_id"].isin(keep)], self.source)


def _first_bad(
    mask: pd.Series, frame: pd.DataFrame, column: str, source: str, rule: str, names: Mapping[str, str]
) -> None:
    if mask.any():
        row = int(np.flatnonzero(mask.to_numpy())[0])
        value = frame[column].iloc[row]
        value = value.item() if hasattr(value, "item") else value
        raise DataValidationError(
            f"{source}, row {row}, column '{names.get(column, column)}': value {value!r} {rule} "
            f"({int(mask.sum())} row(s) like this). Fix the data; nothing was trained or stored."
        )


def validate_answers(
    frame: pd.DataFrame, source: str, names: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Check and normalize an answer table; returns a copy sorted by learner, time and ``t``.

    Args:
        frame: the answers, in the record's names (module docstring).
        source: what to call the table in messages.
        names: the source's own name of a column, for messages (a file read through :data:`FILE_COLUMNS`).

    Raises:
        DataValidationError: a required column is missing or a value is out of range; the message names
            the source, the row, the column and the value.
    """
    shown = dict(names or {})
    missing = [c for c in ANSWER_COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{source}: missing column(s) {', '.join(missing)}; an answer table needs "
            f"{', '.join(ANSWER_COLUMNS)} (a file may use the database's names instead: "
            f"{', '.join(FILE_COLUMNS)}; see docs/tabular.md)."
        )
    out = frame.reset_index(drop=True).copy()

    def first_bad(mask: pd.Series, column: str, rule: str) -> None:
        _first_bad(mask, out, column, source, rule, shown)

    first_bad(out["student_id"].isna(), "student_id", "is empty; every answer needs a learner")
    skill = out["skill_id"]
    first_bad(skill.isna() | (skill.astype(str).str.len() == 0), "skill_id", "is empty")
    level = pd.to_numeric(out["difficulty_level"], errors="coerce")
    first_bad(~level.isin([1, 2, 3, 4, 5]), "difficulty_level", "is not a level 1-5")
    correct = pd.to_numeric(out["correct"].astype("object").replace({True: 1, False: 0}), errors="coerce")
    first_bad(~correct.isin([0, 1]), "correct", "is not 0/1 (or true/false)")
    spent = pd.to_numeric(out["time_spent"], errors="coerce")
    first_bad(~(spent > 0), "time_spent", "is not a number of seconds > 0")
    stamps = pd.to_datetime(out["timestamp"], errors="coerce", utc=True, format="mixed")
    first_bad(stamps.isna(), "timestamp", "is not a timestamp")
    out["skill_id"] = skill.astype(str)
    out["difficulty_level"] = level.astype(np.int16)
    out["correct"] = correct.astype(np.int8)
    out["time_spent"] = spent.astype(float)
    out["timestamp"] = stamps.dt.tz_convert(None).astype("datetime64[ns]")
    out = _drop_repeats(out, source)
    if "t" not in out:
        out["t"] = out.groupby("student_id").cumcount().astype(float)
    return out.sort_values(["student_id", "timestamp", "t"], kind="stable").reset_index(drop=True)


def _drop_repeats(answers: pd.DataFrame, source: str) -> pd.DataFrame:
    """The answers without exact repeats (every column equal: an answer stored or exported twice).

    A repeat would count one answer twice in every feature and label; each is kept once, with a warning.
    """
    repeats = answers.duplicated(keep="first")
    if repeats.any():
        first = int(np.flatnonzero(repeats.to_numpy())[0])
        log.warning(
            "%s: %d answer row(s) repeat an earlier row exactly (every column equal; the first is row %d); "
            "each answer is counted once",
            source,
            int(repeats.sum()),
            first,
        )
        answers = answers[~repeats].reset_index(drop=True)
    return answers


def _grade_number(values: pd.Series, source: str) -> pd.Series:
    mapped = values.map(lambda v: GRADES.get(str(v).strip().upper(), v) if isinstance(v, str) else v)
    numbers = pd.to_numeric(mapped, errors="coerce")
    bad = values.notna() & (numbers.isna() | ~numbers.between(0, 13))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(
            f"{source}, learner row {row}, column 'grade_level': value {values.iloc[row]!r} is neither a "
            f"grade 0-13 nor one of {', '.join(GRADES)}."
        )
    return numbers


def validate_learners(learners: pd.DataFrame, answers: pd.DataFrame, source: str) -> pd.DataFrame:
    """One row per learner of the table or of ``answers``; those without a row get an unknown grade and style."""
    if "student_id" not in learners.columns:
        raise DataValidationError(f"{source}: the learner table has no column student_id.")
    out = learners.drop_duplicates("student_id").copy()
    for column in ("grade_level", "learning_style"):
        if column not in out:
            out[column] = np.nan
    out["grade_level"] = _grade_number(out["grade_level"], source)
    extra = answers.loc[~answers["student_id"].isin(out["student_id"]), "student_id"].unique()
    known = pd.DataFrame({"student_id": np.concatenate([out["student_id"].to_numpy(), extra])})
    out = known.merge(out[list(LEARNER_COLUMNS)], on="student_id", how="left")
    out["learning_style"] = out["learning_style"].astype(object).fillna("unknown").astype(str)
    return out.reset_index(drop=True)


def _record_names(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """``frame`` with its database-named columns (:data:`FILE_COLUMNS`) renamed to the record's.

    Returns:
        The renamed frame, and the file's name of each renamed column (for messages).

    Raises:
        DataValidationError: the file names a column both ways.
    """
    renamed, names, both = rename_layout(frame, FILE_COLUMNS)
    if both:
        raise DataValidationError(
            f"{source}: the column(s) {', '.join(both)} are one column under two names (the database's and "
            "the answer record's); keep one of each pair (see docs/tabular.md)."
        )
    return renamed, names


def load_file(path: str | Path) -> PlatformData:
    """Answers from a CSV or Parquet file (learner columns optional, per row).

    The file uses the record's names (module docstring) or the database's (:data:`FILE_COLUMNS`).

    Raises:
        DataValidationError: the file is missing, unreadable or breaks the layout.
    """
    raw, _ = read_table(path, text=False)  # its validator parses pandas-typed columns
    frame, names = _record_names(raw, str(path))
    cols = [c for c in LEARNER_COLUMNS if c in frame.columns]
    learners = (
        frame[cols].drop_duplicates("student_id")
        if "student_id" in cols
        else pd.DataFrame(columns=["student_id"])
    )
    data = PlatformData(frame, learners, source=str(path), names=names)
    log.info("read %d answers of %d learners from %s", len(data.answers), len(data.learners), path)
    return data


def from_frames(
    answers: pd.DataFrame, learners: pd.DataFrame | None = None, source: str = "frames"
) -> PlatformData:
    """Platform data from in-memory tables in the record's names (learners optional)."""
    if learners is None:
        learners = pd.DataFrame({"student_id": answers.get("student_id", pd.Series(dtype=object)).unique()})
    return PlatformData(answers, learners, source)
