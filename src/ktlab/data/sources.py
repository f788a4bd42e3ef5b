"""Interaction sources: anything with a ``name`` and a ``load(required)`` returning a validated frame.

A source is chosen in the ``data`` config group through ``data.source._target_``; a new backend (a
database, a benchmark format) is a new class with the same two members, never a branch elsewhere.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.data.io import read_table
from ktlab.data.schema import COLUMNS, INTERACTION_COLUMNS, SCHEMA, validate_interactions
from ktlab.data.synthetic import ClassroomConfig, generate_classroom
from ktlab.errors import DataValidationError
from ktlab.utils.logging import get_logger
from ktlab.utils.text import shorten

log = get_logger(__name__)

#: Columns the schema declares as numbers: the CSV reader parses them, every other column stays text.
NUMBER_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "number")


class InteractionSource(Protocol):
    """What the DataModule needs from a source."""

    name: str

    def load(self, required: Sequence[str] = INTERACTION_COLUMNS) -> pd.DataFrame:
        """Return the interactions, validated, with at least the ``required`` columns."""
        ...


class FileSource:
    """Interactions from a CSV, TSV or Parquet file (``data=csv data.path=...``).

    Every cell is read as the text it holds and the schema parses the columns it declares, so ids are
    compared as written (``007`` and ``7`` are two learners, ``NA`` is an id). Columns the schema does not
    declare are left out with one warning naming them (exports often carry extra columns; a misspelled
    one gets a suggestion).
    """

    def __init__(self, path: str | Path, columns: Mapping[str, str] | None = None) -> None:
        self.columns = {str(k): str(v) for k, v in (columns or {}).items()}
        raise_problems("data.source", self.check_args({"columns": self.columns}))
        self.path = Path(path).expanduser()
        self.name = str(self.path)

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The column map (``columns``: record column -> the file's column) names schema columns, once each."""
        checks = Checks(args)
        checks.require(
            "columns",
            lambda m: set(m) <= set(SCHEMA),
            f"maps the schema's columns (the keys: {', '.join(SCHEMA)}) to the file's columns (the values)",
        )
        checks.require(
            "columns", lambda m: len(set(m.values())) == len(m), "maps two columns to one file column"
        )
        return checks.problems

    def load(self, required: Sequence[str] = INTERACTION_COLUMNS) -> pd.DataFrame:
        numbers = tuple(self.columns.get(name, name) for name in NUMBER_COLUMNS)
        frame, line_offset = read_table(self.path, numbers=numbers)
        frame = self._renamed(frame)
        warn_unknown_columns(frame.columns, self.name)
        return validate_interactions(frame, self.name, required=required, line_offset=line_offset)

    def _renamed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The file's columns under the schema's names (``data.source.columns``), at the edge of the reader."""
        if not self.columns:
            return frame
        absent = [f"{record}: {file}" for record, file in self.columns.items() if file not in frame.columns]
        twice = [
            record for record, file in self.columns.items() if record != file and record in frame.columns
        ]
        if absent or twice:
            what = (
                f"it maps {', '.join(absent)}, and the file has no such column" if absent
                else f"the file has {', '.join(twice)} already, beside the column mapped to it"
            )  # fmt: skip
            raise DataValidationError(
                f"{self.name}: data.source.columns does not fit the file: {what}. Its columns are "
                f"{shorten(', '.join(map(str, frame.columns)))}."
            )
        return frame.rename(columns={file: record for record, file in self.columns.items()})


def warn_unknown_columns(columns: Sequence[object], source: str) -> list[str]:
    """Log once the columns of a table that the interaction schema does not declare; returns them."""
    unknown = [str(c) for c in columns if c not in SCHEMA]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name.lower(), list(SCHEMA), n=1, cutoff=0.75)
            hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
        log.warning(
            "%s: column(s) %s are not part of the interaction schema and are left out; the schema's "
            "columns are %s.",
            source,
            shorten(", ".join(hints), 400),
            ", ".join(SCHEMA),
        )
    return unknown


class SyntheticSource:
    """A generated classroom (``data=synthetic``), cached as Parquet under ``cache_dir`` when given."""

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The generator's problems (see :meth:`ClassroomConfig.check_args`), checked before anything runs."""
        return ClassroomConfig.check_args({k: v for k, v in args.items() if k != "cache_dir"})

    def __init__(self, cache_dir: str | Path | None = None, **params: Any) -> None:
        if "block_len" in params:
            params["block_len"] = tuple(params["block_len"])
        if "phase_effects" in params:
            params["phase_effects"] = dict(params["phase_effects"])
        self.config = ClassroomConfig(**params)
        self.config.check()
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else None
        self.name = f"synthetic classroom (seed {self.config.seed})"

    def cache_path(self) -> Path | None:
        """Where this configuration's data is cached, keyed by a hash of every parameter."""
        if self.cache_dir is None:
            return None
        key = hashlib.sha1(json.dumps(asdict(self.config), sort_keys=True).encode()).hexdigest()[:12]
        return self.cache_dir / f"classroom_{key}.parquet"

    def prepare(self) -> None:
        """Generate and cache the data once (called from ``prepare_data`` on one process)."""
        path = self.cache_path()
        if path is not None and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")  # processes may race to write it
            generate_classroom(self.config).to_parquet(tmp, index=False)
            tmp.replace(path)

    def load(self, required: Sequence[str] = INTERACTION_COLUMNS) -> pd.DataFrame:
        path = self.cache_path()
        if path is not None and path.exists():
            frame = pd.read_parquet(path)
        else:
            frame = generate_classroom(self.config)
        return validate_interactions(frame, self.name, required=required)
