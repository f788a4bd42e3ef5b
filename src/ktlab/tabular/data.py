"""Platform data for the tabular models: answers and learners, from the database, a file or the generator.

One layout for every source, in the column names of the learner database:

* ``answers``: ``user_id``, ``skill_domain``, ``difficulty_level`` (1-5), ``is_correct`` (0/1),
  ``time_taken`` (seconds > 0), ``answered_at`` (timestamp, naive UTC); optional ``t``, ``exercise_id`` and
  ``p_correct_true`` (the generator's true success probability, never a model input);
* ``learners``: ``user_id``, ``grade_level`` (small int) and ``learning_style`` (text).

French primary grades map to ``users.grade_level`` as the year of schooling: CE1 = 2, CE2 = 3, CM1 = 4,
CM2 = 5 (CP = 1). A file may hold ``grade_level`` as either the number or the French name.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ktlab.data.io import read_table
from ktlab.errors import DataValidationError
from ktlab.tabular.errors import TabularError

log = logging.getLogger(__name__)

DOMAINS: tuple[str, ...] = ("addition", "subtraction", "multiplication", "division", "fractions")
STYLES: tuple[str, ...] = ("visual", "auditory", "kinesthetic")
#: French primary grade -> ``users.grade_level`` (year of schooling).
GRADES: dict[str, int] = {"CE1": 2, "CE2": 3, "CM1": 4, "CM2": 5}
ANSWER_COLUMNS: tuple[str, ...] = (
    "user_id",
    "skill_domain",
    "difficulty_level",
    "is_correct",
    "time_taken",
    "answered_at",
)
LEARNER_COLUMNS: tuple[str, ...] = ("user_id", "grade_level", "learning_style")


@dataclass
class PlatformData:
    """Answers and learners of a platform.

    Attributes:
        answers: one row per answer (see the module docstring), sorted by learner, time and ``t``.
        learners: one row per learner.
        source: where the data came from, for messages.
        profiles: the stored ``skill_profiles`` rows when read from the database (a snapshot, not history).
    """

    answers: pd.DataFrame
    learners: pd.DataFrame
    source: str = "platform data"
    profiles: pd.DataFrame | None = field(default=None)

    def __post_init__(self) -> None:
        self.answers = validate_answers(self.answers, self.source)
        self.learners = validate_learners(self.learners, self.answers, self.source)

    @property
    def domains(self) -> list[str]:
        """The skill domains present in the answers."""
        return sorted(self.answers["skill_domain"].unique().tolist())

    def check_domain(self, domain: str) -> None:
        """Raise a :class:`TabularError` when no answer is in ``domain``."""
        if domain not in set(self.answers["skill_domain"].unique()):
            raise TabularError(
                f"Unknown skill domain '{domain}' in {self.source}: it holds answers in "
                f"{', '.join(self.domains)}. Pick one of these."
            )

    def end(self) -> pd.Timestamp:
        """Just after the last answer: the default point in time of a prediction."""
        return self.answers["answered_at"].max() + pd.Timedelta(microseconds=1)

    def split_at(self, at: pd.Timestamp) -> tuple[PlatformData, PlatformData]:
        """The answers strictly before ``at`` and those at or after it, with the same learners."""
        before = self.answers["answered_at"] < at
        return (
            PlatformData(self.answers[before], self.learners, f"{self.source} before {at}"),
            PlatformData(self.answers[~before], self.learners, f"{self.source} from {at}"),
        )

    def subset(self, user_ids: Sequence[Any]) -> PlatformData:
        """The data of some learners only."""
        keep = set(user_ids)
        answers = self.answers[self.answers["user_id"].isin(keep)]
        return PlatformData(answers, self.learners[self.learners["user_id"].isin(keep)], self.source)


def _first_bad(mask: pd.Series, frame: pd.DataFrame, column: str, source: str, rule: str) -> None:
    if mask.any():
        row = int(np.flatnonzero(mask.to_numpy())[0])
        value = frame[column].iloc[row]
        value = value.item() if hasattr(value, "item") else value
        raise DataValidationError(
            f"{source}, row {row}, column '{column}': value {value!r} {rule} "
            f"({int(mask.sum())} row(s) like this). Fix the data; nothing was trained or stored."
        )


def validate_answers(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check and normalize an answer table; returns a copy sorted by learner, time and ``t``.

    Raises:
        DataValidationError: a required column is missing or a value is out of range; the message names
            the source, the row, the column and the value.
    """
    missing = [c for c in ANSWER_COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{source}: missing column(s) {', '.join(missing)}; an answer table needs "
            f"{', '.join(ANSWER_COLUMNS)} (see docs/tabular.md)."
        )
    out = frame.reset_index(drop=True).copy()
    _first_bad(out["user_id"].isna(), out, "user_id", source, "is empty; every answer needs a learner")
    domain = out["skill_domain"]
    _first_bad(domain.isna() | (domain.astype(str).str.len() == 0), out, "skill_domain", source, "is empty")
    level = pd.to_numeric(out["difficulty_level"], errors="coerce")
    _first_bad(~level.isin([1, 2, 3, 4, 5]), out, "difficulty_level", source, "is not a level 1-5")
    correct = pd.to_numeric(out["is_correct"].astype("object").replace({True: 1, False: 0}), errors="coerce")
    _first_bad(~correct.isin([0, 1]), out, "is_correct", source, "is not 0/1 (or true/false)")
    taken = pd.to_numeric(out["time_taken"], errors="coerce")
    _first_bad(~(taken > 0), out, "time_taken", source, "is not a number of seconds > 0")
    stamps = pd.to_datetime(out["answered_at"], errors="coerce", utc=True, format="mixed")
    _first_bad(stamps.isna(), out, "answered_at", source, "is not a timestamp")
    out["skill_domain"] = domain.astype(str)
    out["difficulty_level"] = level.astype(np.int16)
    out["is_correct"] = correct.astype(np.int8)
    out["time_taken"] = taken.astype(float)
    out["answered_at"] = stamps.dt.tz_convert(None).astype("datetime64[ns]")
    out = _drop_repeats(out, source)
    if "t" not in out:
        out["t"] = out.groupby("user_id").cumcount().astype(float)
    return out.sort_values(["user_id", "answered_at", "t"], kind="stable").reset_index(drop=True)


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
    if "user_id" not in learners.columns:
        raise DataValidationError(f"{source}: the learner table has no column user_id.")
    out = learners.drop_duplicates("user_id").copy()
    for column in ("grade_level", "learning_style"):
        if column not in out:
            out[column] = np.nan
    out["grade_level"] = _grade_number(out["grade_level"], source)
    extra = answers.loc[~answers["user_id"].isin(out["user_id"]), "user_id"].unique()
    known = pd.DataFrame({"user_id": np.concatenate([out["user_id"].to_numpy(), extra])})
    out = known.merge(out[list(LEARNER_COLUMNS)], on="user_id", how="left")
    out["learning_style"] = out["learning_style"].astype(object).fillna("unknown").astype(str)
    return out.reset_index(drop=True)


def load_file(path: str | Path) -> PlatformData:
    """Answers from a CSV or Parquet file in the database's columns (learner columns optional, per row).

    Raises:
        DataValidationError: the file is missing, unreadable or breaks the layout.
    """
    frame, _ = read_table(path, text=False)  # its validator parses pandas-typed columns
    cols = [c for c in LEARNER_COLUMNS if c in frame.columns]
    learners = (
        frame[cols].drop_duplicates("user_id") if "user_id" in cols else pd.DataFrame(columns=["user_id"])
    )
    data = PlatformData(frame, learners, source=str(path))
    log.info("read %d answers of %d learners from %s", len(data.answers), len(data.learners), path)
    return data


def from_frames(
    answers: pd.DataFrame, learners: pd.DataFrame | None = None, source: str = "frames"
) -> PlatformData:
    """Platform data from in-memory tables (learners optional)."""
    if learners is None:
        learners = pd.DataFrame({"user_id": answers.get("user_id", pd.Series(dtype=object)).unique()})
    return PlatformData(answers, learners, source)
