"""Reading interaction tables from CSV and Parquet files, with user-facing errors."""

from __future__ import annotations

import csv
import logging
from collections import Counter
from pathlib import Path

import pandas as pd

from ktlab.errors import DataValidationError
from ktlab.utils.text import shorten

log = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
_TEXT_DTYPES = {"student_id": str, "skill_id": str, "phase_type": str}


def read_table(path: str | Path) -> tuple[pd.DataFrame, int | None]:
    """Read a CSV/TSV or Parquet interaction file.

    Args:
        path: the file; its suffix picks the reader.

    Returns:
        The raw frame and the file line of its first data row (2 for text files with a header, None
        for Parquet), for error messages.

    Raises:
        DataValidationError: the path is missing, is not a file, has an unknown suffix, is empty or
            cannot be parsed.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataValidationError(
            f"{path}: no such file. Check data.path (relative paths are read from the directory you "
            "launched from) or create one with `python scripts/make_template.py`."
        )
    if not path.is_file():
        raise DataValidationError(
            f"{path}: is a directory, not an interaction file; point data.path at a file."
        )
    suffix = path.suffix.lower()
    try:
        if suffix in CSV_SUFFIXES:
            sep = "\t" if suffix == ".tsv" else ","
            _refuse_repeated_columns(path, sep)
            frame = pd.read_csv(path, sep=sep, dtype=_TEXT_DTYPES, skipinitialspace=True)
            return frame, 2
        if suffix in PARQUET_SUFFIXES:
            return pd.read_parquet(path), None
    except pd.errors.EmptyDataError:
        raise DataValidationError(
            f"{path}: the file is empty; it needs a header row and at least one interaction."
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataValidationError(f"{path}: cannot be read as a {suffix[1:]} table ({first}).") from None
    raise DataValidationError(
        f"{path}: unknown file type '{suffix}'; use one of {', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)}."
    )


def _refuse_repeated_columns(path: Path, sep: str) -> None:
    """A header naming a column twice is refused: the CSV reader would rename the second and drop it."""
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle, delimiter=sep, skipinitialspace=True), [])
    counts = Counter(name.strip() for name in header)
    repeated = [name for name, count in counts.items() if count > 1]
    if repeated:
        names = ", ".join(f"'{shorten(name)}' ({counts[name]} times)" for name in repeated)
        raise DataValidationError(
            f"{path}, line 1 (the header): the column(s) {names} appear more than once; keep one column per "
            "name (which one holds the right values cannot be guessed)."
        )


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a frame as CSV or Parquet according to the suffix, creating parent folders."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if path.suffix.lower() == ".tsv" else ",")
    log.info("wrote %d rows to %s", len(frame), path)
    return path
