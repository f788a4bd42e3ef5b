"""The answers a raw reader keeps, ordered per learner and written as pyKT's 6-line ``data.txt``.

A reader hands over one frame, one row per kept answer in the file's order, with the columns

    learner    the learner's id (text)
    question   the question's id (text); absent where the data set has none (``NA`` is written)
    skills     the question's skill ids joined by ``_`` (text)
    correct    0 or 1
    order      what the learner's answers are sorted by: a time in milliseconds or an order id
    row        the answer's place in the raw data, ties in ``order`` keep it
    timestamp  the time written on line 5 (text); absent where pyKT writes ``NA``
    usetime    the time spent, written on line 6 (text); absent where pyKT writes ``NA``

Each learner becomes six lines: ``uid,seqlen`` / question ids / skill ids / answers / timestamps / use
times, comma-separated, a line of a missing field being ``NA``. Learners come in order of their first
kept answer in the file (pyKT groups with ``sort=False``), or sorted by id where the reader says so.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

REQUIRED = ("learner", "skills", "correct", "order", "row")
OPTIONAL = ("question", "timestamp", "usetime")

LearnerOrder = Literal["first", "sorted"]


@dataclass(frozen=True)
class Written:
    """What a ``data.txt`` holds."""

    path: Path
    learners: int
    answers: int
    questions: int | None
    skills: int


def ordered(frame: pd.DataFrame, learner_order: LearnerOrder = "first") -> pd.DataFrame:
    """The answers grouped by learner (first appearance, or sorted ids), each by ``order`` then ``row``."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(f"answers frame lacks {missing}")  # a reader's bug, not the user's
    codes, _ = pd.factorize(frame["learner"], sort=learner_order == "sorted")
    return (
        frame.assign(_learner=codes)
        .sort_values(["_learner", "order", "row"], kind="stable")
        .drop(columns="_learner")
        .reset_index(drop=True)
    )


def lines(frame: pd.DataFrame, learner_order: LearnerOrder = "first") -> list[str]:
    """The 6-line records of ``frame`` (see the module docstring), six strings per learner."""
    frame = ordered(frame, learner_order)
    learners = frame["learner"].astype(str).to_numpy()
    starts = np.flatnonzero(np.r_[True, learners[1:] != learners[:-1]])
    ends = np.r_[starts[1:], len(frame)]
    columns = {
        name: frame[name].astype(str).to_numpy()
        for name in ("question", "skills", "correct", "timestamp", "usetime")
        if name in frame.columns
    }
    out: list[str] = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        out.append(f"{learners[start]},{end - start}")
        for name in ("question", "skills", "correct", "timestamp", "usetime"):
            values = columns.get(name)
            out.append("NA" if values is None else ",".join(values[start:end].tolist()))
    return out


def write_data_txt(frame: pd.DataFrame, path: str | Path, learner_order: LearnerOrder = "first") -> Written:
    """Write ``frame`` as a 6-line ``data.txt`` (through a temporary file, renamed when complete)."""
    path = Path(path)
    records = lines(frame, learner_order)
    temporary = path.with_name(path.name + ".partial")
    temporary.write_text("\n".join(records) + ("\n" if records else ""), encoding="utf-8")
    os.replace(temporary, path)
    skills = {skill for joined in pd.unique(frame["skills"].astype(str)) for skill in joined.split("_")}
    written = Written(
        path=path,
        learners=len(records) // 6,
        answers=len(frame),
        questions=int(frame["question"].nunique()) if "question" in frame.columns else None,
        skills=len(skills),
    )
    log.info(
        "wrote %s: %d learners, %d answers, %s questions, %d skills",
        path,
        written.learners,
        written.answers,
        "no" if written.questions is None else written.questions,
        written.skills,
    )
    return written
