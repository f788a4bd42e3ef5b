"""Reader of DBE-KT22 (Abdelrahman et al., 2022, arXiv:2208.12651): a database course's multiple-choice
questions with their text, and real students' answers to them.

The folder holds ``items.csv`` (one row per question: ``question_id``, ``question_text``, ``choices_json``,
``kc_names``: its skills separated by ``|``) and ``interactions.csv`` (one row per answer: ``student_id``,
``seq_pos``, ``question_id``, ``correct``, ``attempt_no``, ``elapsed_bin``, ``lag_bin``). Onto the
interaction schema::

    student_id -> student_id     seq_pos -> t           question_id -> problem_id    correct -> correct
    attempt_no -> attempt_no     elapsed_bin -> duration_bin                          lag_bin -> gap_bin
    each skill of kc_names -> skill_id (one row per skill, sharing t: a multi-skill answer)

First attempts only (``attempt_no == 1``) by default, every attempt with ``attempts="all"``. Answers whose
question is unknown (an empty id, or one ``items.csv`` lacks) are dropped and counted in the log.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.data.formats.sources import missing_files_error
from ktlab.data.schema import INTERACTION_COLUMNS, validate_interactions
from ktlab.errors import DataValidationError

log = logging.getLogger(__name__)

ATTEMPTS: tuple[str, ...] = ("first", "all")
RENAMES: dict[str, str] = {
    "student_id": "student_id",
    "seq_pos": "t",
    "question_id": "problem_id",
    "correct": "correct",
    "attempt_no": "attempt_no",
    "elapsed_bin": "duration_bin",
    "lag_bin": "gap_bin",
}
ITEM_COLUMNS: tuple[str, ...] = ("question_id", "question_text", "choices_json", "kc_names")
RELEASE = (
    "DBE-KT22 on the Australian Data Archive, doi:10.26193/6DZWOH (Abdelrahman, Abdelfattah, Wang and "
    "Lin 2022, arXiv:2208.12651)"
)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def _id_text(values: pd.Series) -> pd.Series:
    """Question ids as text: ``12`` whether the file wrote 12 or 12.0; empty stays missing."""
    text = values.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    return text.mask(text == "")


def _read_csv(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    if not path.is_file():
        raise missing_files_error([path], RELEASE, "DBE-KT22")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        raise DataValidationError(f"{path}: cannot be read as a CSV table ({err}).") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{path} lacks the DBE-KT22 column(s) {', '.join(missing)}; it has {', '.join(frame.columns)}."
        )
    return frame


def read_items(folder: str | Path) -> pd.DataFrame:
    """``items.csv``: one row per question with ``problem_id``, ``text`` (stem and options) and ``skills``.

    ``text`` is the plain stem followed by the options, one per line, HTML tags removed and entities
    decoded (an image in the stem is lost with its tag: the text around it stays).
    """
    path = Path(folder).expanduser() / "items.csv"
    raw = _read_csv(path, ITEM_COLUMNS)
    problem_id = _id_text(raw["question_id"])
    skills = raw["kc_names"].str.split("|").map(lambda names: [n.strip() for n in names if n.strip()])
    bad = problem_id.isna() | (skills.map(len) == 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(
            f"{path}, row {row + 1} (line {row + 2}): question {raw['question_id'].iloc[row]!r} needs an id "
            f"and at least one skill in kc_names ({int(bad.sum())} such row(s) in all)."
        )
    pairs = zip(raw["question_text"], raw["choices_json"], strict=True)
    texts = [_question_text(stem, choices, path, i) for i, (stem, choices) in enumerate(pairs)]
    return pd.DataFrame({"problem_id": problem_id, "text": texts, "skills": skills})


def _plain(text: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()


def _question_text(stem: str, choices: str, path: Path, row: int) -> str:
    try:
        options = [_plain(str(c["text"])) for c in json.loads(choices)] if choices else []
    except (json.JSONDecodeError, TypeError, KeyError) as err:
        raise DataValidationError(
            f"{path}, row {row + 1} (line {row + 2}), column 'choices_json': not a JSON list of options with "
            f"a 'text' ({err})."
        ) from None
    return "\n".join([_plain(stem), *(f"- {option}" for option in options)])


def read_dbe_kt22(folder: str | Path, attempts: str = "first") -> pd.DataFrame:
    """The answers of ``folder`` in the interaction schema, one row per skill (see the module docstring).

    The frame's index is each row's data row in ``interactions.csv`` (0 for the line after the header).
    """
    folder = Path(folder).expanduser()
    items = read_items(folder)
    raw = _read_csv(folder / "interactions.csv", tuple(RENAMES))
    frame = pd.DataFrame({new: raw[old] for old, new in RENAMES.items()})
    frame["problem_id"] = _id_text(frame["problem_id"])
    known = frame["problem_id"].isin(set(items["problem_id"]))
    frame = frame[known.to_numpy()]
    n_total = len(raw)
    if attempts == "first":
        frame = frame[pd.to_numeric(frame["attempt_no"], errors="coerce").to_numpy() == 1]
    skills = items.set_index("problem_id")["skills"]
    n_answers = len(frame)
    frame = frame.assign(skill_id=frame["problem_id"].map(skills)).explode("skill_id")
    log.info(
        "DBE-KT22: %d answers (%s attempts) of %d rows, %d without a known question dropped; %d skill rows",
        n_answers,
        attempts,
        n_total,
        int((~known).sum()),
        len(frame),
    )
    return frame  # the index keeps each row's data row in interactions.csv, for messages


class DBEKT22Source:
    """DBE-KT22's answers (``data=dbe_kt22``); learners are split at random.

    Args:
        path: the folder holding ``items.csv`` and ``interactions.csv``.
        attempts: ``"first"`` (every learner's first attempt at each question) or ``"all"``.
    """

    def __init__(self, path: str | Path, attempts: str = "first") -> None:
        raise_problems("data.source", self.check_args({"attempts": attempts}))
        self.path = Path(path).expanduser()
        self.attempts = attempts
        self.name = f"DBE-KT22 ({self.path})"

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the source's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.one_of("attempts", ATTEMPTS)
        return checks.problems

    def load(self, required: Sequence[str] = INTERACTION_COLUMNS) -> pd.DataFrame:
        frame = read_dbe_kt22(self.path, self.attempts)
        lines = frame.index.to_numpy() + 2  # the header is line 1
        return validate_interactions(
            frame.reset_index(drop=True), str(self.path / "interactions.csv"), required, line_offset=lines
        )


class DBEKT22Texts:
    """DBE-KT22's question texts, for ``data.item_features=[..., question_text]``.

    Args:
        path: the folder holding ``items.csv``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.name = str(self.path / "items.csv")

    def texts(self) -> dict[str, str]:
        """Each question's text (stem and options) by its ``problem_id``."""
        items = read_items(self.path)
        return dict(zip(items["problem_id"], items["text"], strict=True))
