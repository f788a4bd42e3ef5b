"""Reading and writing pyKT's processed files (``train_valid.csv``, ``test.csv``, ``*_sequences.csv``,
``keyid2idx.json``), byte for byte as pyKT writes them (pandas' CSV writer, comma-joined lists quoted).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ktlab.data.pykt.split import ONE_KEYS, Table
from ktlab.errors import DataValidationError

#: Per-row fields a processed learner table may hold.
ROW_FIELDS: tuple[str, ...] = ("questions", "concepts", "responses", "timestamps", "usetimes", "is_repeat")


def write_table(table: Table, columns: Sequence[str], path: Path) -> Path:
    """Write ``table`` with ``columns`` as pyKT does (``DataFrame.to_csv(index=None)``)."""
    frame = pd.DataFrame(
        {key: [row[key] if key in ONE_KEYS else ",".join(row[key]) for row in table] for key in columns},
        columns=list(columns),
    )
    frame.to_csv(path, index=False)
    return path


def write_keyid2idx(mapping: dict, path: Path) -> Path:
    """Write ``keyid2idx.json`` as pyKT does (``json.dumps`` on one line, no newline)."""
    path.write_text(json.dumps(mapping))
    return path


def read_table(path: Path) -> tuple[Table, list[str]]:
    """A pyKT learner table (``train_valid.csv``, ``test.csv``) as learner dicts.

    Returns:
        The learners and the per-row fields the file holds (in :data:`ROW_FIELDS` order).

    Raises:
        DataValidationError: a missing ``fold``, ``uid`` or ``responses`` column, or a row whose fields
            differ in length.
    """
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in ("fold", "uid", "responses") if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{path}: no column {', '.join(repr(c) for c in missing)}; a pyKT learner table has fold, uid, "
            f"responses and some of {', '.join(ROW_FIELDS)} (found {', '.join(frame.columns)})."
        )
    fields = [key for key in ROW_FIELDS if key in frame.columns]
    extra = ["cidxs"] if "cidxs" in frame.columns else []
    table: Table = []
    for index, record in enumerate(frame.to_dict("records")):
        learner: dict = {"fold": int(record["fold"]), "uid": record["uid"]}
        lengths = set()
        for key in fields + extra:
            learner[key] = record[key].split(",")
            lengths.add(len(learner[key]))
        if len(lengths) > 1:
            raise DataValidationError(
                f"{path}, row {index + 2} (uid {record['uid']!r}): its fields hold different numbers of "
                f"values ({', '.join(f'{k} {len(learner[k])}' for k in fields)}); each holds one per row."
            )
        table.append(learner)
    return table, fields


def read_keyid2idx(path: Path) -> dict:
    """``keyid2idx.json`` (empty when absent)."""
    return json.loads(path.read_text()) if path.is_file() else {}
