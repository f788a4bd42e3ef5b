"""EdNet KT1 (one ``KT1/u<n>.csv`` per learner, with ``contents/questions.csv``), read as pyKT's
``ednet_preprocess.py`` reads it.

pyKT uses a sample of the learners, drawn with Python's ``random``: ``random.seed(2)``, then
``random.shuffle`` of the numbers 0 to 840,472, then the files ``KT1/u<n>.csv`` that exist, in that
order; ``ednet`` keeps the first 5,000 found, ``ednet5w`` the 50,000 after them. The learner's id is
``n``; learners come in that order. A learner's rows (``timestamp, question_id, user_answer,
elapsed_time``) take ``correct_answer`` and ``tags`` from ``contents/questions.csv`` (tags ``a;b``
written ``a_b``; a question tagged ``-1`` has no skill); key fields ``question_id, elapsed_time,
timestamp, tags, user_answer``, a row missing one being dropped; the answer is 1 when ``user_answer``
equals ``correct_answer``. Each learner's answers are sorted by ``timestamp`` (milliseconds, written on
line 5) then by their row in the sample; ``elapsed_time`` is the use time on line 6.

Difference: the times are written as the files spell them (pyKT writes ``25000.0`` for every elapsed
time when one file of the sample misses one, since pandas then reads the column as floats).
"""

from __future__ import annotations

import functools
import logging
import random
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ktlab.data.pykt.raw.table import Progress, drop_incomplete, numbers, read_columns
from ktlab.errors import DataValidationError

log = logging.getLogger(__name__)

#: Raw column of each field of a learner's file.
COLUMNS: dict[str, str] = {
    "question": "question_id",
    "answer": "user_answer",
    "order": "timestamp",
    "usetime": "elapsed_time",
}
#: Columns read from ``contents/questions.csv``.
QUESTION_COLUMNS: tuple[str, ...] = ("question_id", "correct_answer", "tags")
#: The skill list of a question without skills.
NO_TAGS = "-1"
#: pyKT's sample: the seed, the range of learner numbers shuffled.
SEED = 2
LEARNER_NUMBERS = 840_473
LEARNER_FILE = re.compile(r"u(\d+)\.csv")


@functools.cache
def shuffled_numbers() -> tuple[int, ...]:
    """The learner numbers in the order pyKT's ``random.seed(2); random.shuffle(...)`` puts them."""
    order = list(range(LEARNER_NUMBERS))
    random.Random(SEED).shuffle(order)  # the same generator and draws as random.seed + random.shuffle
    return tuple(order)


def sampled_learners(folder: Path, take: int, skip: int = 0) -> list[int]:
    """The learner numbers pyKT samples: ``skip`` then ``take`` of those with a file, in shuffled order."""
    present = {int(m.group(1)) for p in folder.iterdir() if (m := LEARNER_FILE.fullmatch(p.name))}
    chosen: list[int] = []
    for number in shuffled_numbers():
        if number in present:
            chosen.append(number)
            if len(chosen) == skip + take:
                break
    return chosen[skip:]


def _tags(root: Path) -> pd.DataFrame:
    path = root / "contents" / "questions.csv"
    questions = read_columns(path, QUESTION_COLUMNS, what="EdNet contents/questions.csv")
    questions = questions.assign(tags=questions["tags"].str.replace(";", "_", regex=False))
    questions = questions[(questions["tags"] != NO_TAGS).to_numpy()]
    return questions.drop_duplicates("question_id").set_index("question_id")


def read_sample(
    paths: Sequence[Path], progress: Progress | None = None, *, take: int = 5000, skip: int = 0
) -> pd.DataFrame:
    """The kept answers of pyKT's EdNet sample (see the module docstring)."""
    root = Path(paths[0]).expanduser()
    folder = root / "KT1"
    if not folder.is_dir():
        raise DataValidationError(
            f"{root}: has no KT1/ folder; pass the EdNet folder holding KT1/ (one u<n>.csv per learner) "
            "and contents/questions.csv."
        )
    questions = _tags(root)
    learners = sampled_learners(folder, take, skip)
    if len(learners) < take:
        log.warning("%s: %d learner file(s) found, fewer than the %d sampled", folder, len(learners), take)
    frames = []
    for done, number in enumerate(learners, start=1):
        path = folder / f"u{number}.csv"
        frame = read_columns(path, list(COLUMNS.values()), what="EdNet KT1 learner file")
        times = frame[COLUMNS["order"]]
        given = times.notna().to_numpy()
        order = pd.Series(np.nan, index=frame.index)
        order[given] = numbers(times[given], path, COLUMNS["order"], "milliseconds since 1970")
        frames.append(frame.assign(learner=str(number), _order=order))
        if progress is not None:
            progress(done, len(learners))
    if not frames:
        raise DataValidationError(f"{folder}: holds no learner file u<n>.csv of pyKT's sample.")
    raw = pd.concat(frames, ignore_index=True)
    c = COLUMNS
    raw = raw.join(questions, on=c["question"])
    raw = drop_incomplete(raw, [*c.values(), "tags"], folder)
    return pd.DataFrame(
        {
            "learner": raw["learner"],
            "question": raw[c["question"]],
            "skills": raw["tags"],
            "correct": (raw["correct_answer"] == raw[c["answer"]]).astype(np.int8),
            "order": raw["_order"],
            "row": raw.index,
            "timestamp": raw[c["order"]],
            "usetime": raw[c["usetime"]],
        }
    )
