"""Reader of raw ASSISTments rows (the ``skill_builder_data`` CSV, one row per answer, original columns).

The columns are mapped onto the interaction schema::

    user_id -> student_id      order_id -> t          skill_id -> skill_id    problem_id -> problem_id
    correct -> correct         ms_first_response / 1000 -> time_spent (seconds)

``attempt_count`` and ``hint_count`` are kept as they are (context signals of the schema, measured while
answering; a run reads them when ``data.context_features`` names them). Rows without a skill are dropped, and an answer
tagged with several skills (the same ``user_id, order_id`` on several rows) keeps its first row, as in
the released preprocessings; both are counted in the log. A response time that is missing or not
positive (ASSISTments logs some as 0 or negative) is replaced by the median of the valid ones, counted
in the log too.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ktlab.errors import DataValidationError

log = logging.getLogger(__name__)

RENAMES: dict[str, str] = {
    "user_id": "student_id",
    "order_id": "t",
    "skill_id": "skill_id",
    "problem_id": "problem_id",
    "correct": "correct",
}
EXTRA: tuple[str, ...] = ("attempt_count", "hint_count")
#: Read as the text they hold: ``007`` and ``7`` are two problems, ``NA`` is an id.
ID_COLUMNS: tuple[str, ...] = ("user_id", "skill_id", "problem_id")
_READ = frozenset((*RENAMES, *EXTRA, "ms_first_response"))


def _id_text(values: pd.Series) -> pd.Series:
    """Ids as text without surrounding spaces; the ``.0`` of an id some exports wrote as a float goes."""
    text = values.astype("string").str.strip()
    return text.str.replace(r"\.0$", "", regex=True)


def read_assistments_csv(path: str | Path) -> pd.DataFrame:
    """Read raw ASSISTments rows into the interaction schema (see the module docstring).

    The frame's index is each answer's data row in the file (0 for the line after the header).

    Raises:
        DataValidationError: the file is missing, unreadable or lacks one of the mapped columns.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataValidationError(f"{path}: no such file.")
    try:
        raw = pd.read_csv(
            path,
            usecols=lambda name: name in _READ,
            dtype={name: str for name in ID_COLUMNS},
            keep_default_na=False,
            low_memory=False,
            encoding_errors="replace",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        raise DataValidationError(f"{path}: cannot be read as a CSV table ({err}).") from None
    missing = [c for c in RENAMES if c not in raw.columns]
    if missing:
        raise DataValidationError(
            f"{path} lacks the ASSISTments column(s) {', '.join(missing)}; a raw skill-builder file has "
            f"{', '.join(RENAMES)} (and ms_first_response, attempt_count, hint_count)."
        )
    frame = pd.DataFrame({new: raw[old] for old, new in RENAMES.items()})
    for name in ("student_id", "skill_id", "problem_id"):
        frame[name] = _id_text(frame[name])
    no_skill = frame["skill_id"].isna() | (frame["skill_id"] == "")
    if "ms_first_response" in raw:
        seconds = pd.to_numeric(raw["ms_first_response"], errors="coerce") / 1000.0
        bad = ~(seconds > 0)
        if bad.all():
            log.warning("%s: no positive ms_first_response; time_spent left out", path)
        else:
            frame["time_spent"] = seconds.where(~bad, float(seconds[~bad].median()))
            if bad.any():
                log.warning(
                    "%s: %d response time(s) <= 0 or missing, set to the median", path, int(bad.sum())
                )
    for name in EXTRA:
        if name in raw:
            frame[name] = pd.to_numeric(raw[name], errors="coerce")
    frame = frame[~no_skill.to_numpy()]
    repeated = frame.duplicated(["student_id", "t"], keep="first").to_numpy()
    frame = frame[~repeated]  # the index keeps each answer's data row in the file, for messages
    log.info(
        "read %d answers from %s (%d row(s) without a skill and %d extra skill tag(s) dropped)",
        len(frame),
        path,
        int(no_skill.sum()),
        int(repeated.sum()),
    )
    return frame
