"""Platform answers as ktlab's interaction table, so the sequence models train on the same answers.

The platform's answers already carry the record's names (:mod:`ktlab.tabular.data`): ``student_id``
(as text), ``t``, ``skill_id`` (the five domains are the skills), ``correct``, ``time_spent`` (measured
while answering), ``timestamp`` and ``p_correct_true`` (oracle only) are kept, and the platform's
``difficulty_level`` 1-5 becomes ``difficulty`` spread linearly over the schema's range (level 1 = 0.2 ...
level 5 = 0.9; the generator's level effect is linear, so nothing is lost). The platform has no ``adjustment``, ``motivation``, ``anxiety_level``, ``phase_type`` or
``problem_id``: a run on this table leaves them out of ``data.context_features`` / ``data.query_features``
(:data:`CONTEXT_FEATURES`, :data:`QUERY_FEATURES`).

:func:`write_sample_answers` gives a sample platform export (``scripts/make_platform_json.py``) the
generator's answers in this layout, for ``scripts/ingest.py``.

A ``split`` column fixes who trains: the given held-out learners are ``test``, a seeded share of the others
``val``, the rest ``train`` (the DataModule follows the column instead of its random split).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ktlab.data.schema import DIFFICULTY_RANGE, SPLIT_COLUMN
from ktlab.db.platform_json import DATA_FILE
from ktlab.tabular.data import PlatformData
from ktlab.tabular.errors import TabularError

log = logging.getLogger(__name__)

#: Context signals the table has (every other one is absent).
CONTEXT_FEATURES: tuple[str, ...] = ("difficulty", "time_spent")
#: Signals of the predicted step known before its answer.
QUERY_FEATURES: tuple[str, ...] = ("difficulty",)
#: The answers a sample platform export gets beside its JSON files (``scripts/make_platform_json.py``).
SAMPLE_ANSWERS_FILE = "interactions.csv"


def level_difficulty(level: np.ndarray | pd.Series) -> np.ndarray:
    """Levels 1-5 as schema difficulties: 0.2, 0.375, 0.55, 0.725, 0.9."""
    low, high = DIFFICULTY_RANGE
    return low + (np.asarray(level, dtype=np.float64) - 1.0) * (high - low) / 4.0


#: The record's columns kept as they are, with their dtype (None: as stored).
_KEPT: dict[str, str | None] = {
    "t": "float64",
    "skill_id": None,
    "correct": "int8",
    "time_spent": "float64",
    "timestamp": None,
}


def _interaction_columns(answers: pd.DataFrame, student_ids: np.ndarray) -> pd.DataFrame:
    """The answers in the interaction schema's columns (module docstring), learners named ``student_ids``."""
    frame = pd.DataFrame({"student_id": student_ids})
    for name, dtype in _KEPT.items():
        column = answers[name]
        frame[name] = column.to_numpy(dtype) if dtype else column.to_numpy()
    frame.insert(4, "difficulty", level_difficulty(answers["difficulty_level"]))
    return frame


def sample_answers(usernames: Sequence[str], weeks: int = 4, seed: int = 0) -> pd.DataFrame:
    """Answers of the synthetic platform (:mod:`ktlab.tabular.synthetic`) for the learners ``usernames``.

    The answers of the generator's learner ``i`` (in order) become those of ``usernames[i]``: skills are the
    five domains, each answer has its level (as ``difficulty``), its time taken and its timestamp (UTC), so
    ``scripts/ingest.py`` stores what the tabular models read. The generator's true probabilities are left
    out (a platform does not have them).
    """
    from ktlab.tabular.synthetic import generate_platform

    if not usernames:
        raise TabularError("sample_answers needs at least one learner name.")
    data = generate_platform(n_learners=len(usernames), weeks=weeks, seed=seed)
    names = dict(zip(data.learners["student_id"], usernames, strict=True))
    frame = _interaction_columns(data.answers, data.answers["student_id"].map(names).to_numpy(str))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"]).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return frame


def write_sample_answers(export_dir: str | Path, weeks: int = 4, seed: int = 0) -> Path:
    """Write ``interactions.csv`` into a platform export: :func:`sample_answers` of its learners.

    The learners are the keys of the export's ``users_data.json`` (as :mod:`ktlab.db.platform_sample`
    writes it), so ingesting the file after importing the export gives those learners their answers.

    Returns:
        The path of the file.
    """
    folder = Path(export_dir)
    users = json.loads((folder / DATA_FILE).read_text(encoding="utf-8"))
    path = folder / SAMPLE_ANSWERS_FILE
    sample_answers(list(users), weeks, seed).to_csv(path, index=False)
    log.info("wrote the answers of %d learners to %s", len(users), path)
    return path


def platform_interactions(
    data: PlatformData, test_users: Iterable[object], val_fraction: float = 0.1, seed: int = 7
) -> pd.DataFrame:
    """One row per answer in the interaction schema, with a ``split`` column (see the module docstring).

    Args:
        data: the platform answers.
        test_users: the held-out learners (``split`` = ``test``).
        val_fraction: share of the other learners put in ``val`` (at least one).
        seed: seed of the validation draw.

    Returns:
        The table, in the order of ``data.answers`` (learner, time, ``t``).

    Raises:
        TabularError: no learner is left to train on, or none is held out.
    """
    answers = data.answers
    users = np.unique(answers["student_id"].to_numpy())
    test = np.intersect1d(users, np.asarray(list(test_users)))
    rest = np.setdiff1d(users, test)
    n_val = max(1, round(rest.size * val_fraction))
    if test.size == 0 or rest.size <= n_val:
        raise TabularError(
            f"{data.source}: {users.size} learner(s), {test.size} held out: need at least one held-out "
            f"learner and, beside the {n_val} validation learner(s), at least one to train on."
        )
    val = np.random.default_rng(seed).choice(rest, size=n_val, replace=False)
    who = answers["student_id"].to_numpy()
    split = np.where(np.isin(who, test), "test", np.where(np.isin(who, val), "val", "train"))
    frame = _interaction_columns(answers, who.astype(str))
    if "p_correct_true" in answers:
        frame["p_correct_true"] = answers["p_correct_true"].to_numpy(np.float64)
    frame[SPLIT_COLUMN] = split
    log.info(
        "interaction table: %d answers; %d train / %d val / %d test learners",
        len(frame),
        rest.size - n_val,
        n_val,
        test.size,
    )
    return frame
