"""Reading a raw export for the pyKT readers: named columns as text, key fields, answers and times.

Every reader reads its file's own column names (declared beside it) as text, so an id is written to
``data.txt`` as the file spells it. A cell is missing where pandas reads it as missing by default (empty,
``NA``, ``NaN``, ``null``, ...), which is what pyKT's ``dropna`` drops. Rows are numbered from 0 for the
first line after the header; messages give that row and its line in the file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ktlab.errors import DataValidationError

log = logging.getLogger(__name__)

#: Called with (bytes read so far, file size) while a file is read; the command line draws a bar with it.
Progress = Callable[[int, int], None]

#: Rows read at a time, so a progress bar moves on files of millions of rows.
CHUNK_ROWS = 200_000


def where(path: Path, row: int) -> str:
    """``FILE, row R (line L)`` for data row ``row`` of a file with one header line."""
    return f"{path}, row {row} (line {row + 2})"


def _header(path: Path, sep: str) -> list[str]:
    try:
        return list(pd.read_csv(path, sep=sep, nrows=0, encoding_errors="replace").columns)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError, ValueError) as err:
        raise DataValidationError(f"{path}: cannot be read as a table ({err}).") from None


def read_columns(
    path: str | Path,
    columns: Sequence[str],
    *,
    sep: str = ",",
    what: str = "file",
    progress: Progress | None = None,
) -> pd.DataFrame:
    """The named columns of a raw export, as text (missing cells are NaN); the index is the data row.

    Args:
        path: the file.
        columns: the raw column names to read; each must be in the header.
        sep: the field separator (``"\\t"`` for the KDD Cup exports).
        what: what the file is, for messages (e.g. ``"ASSISTments 2009 skill-builder file"``).
        progress: told the bytes read after each chunk.

    Raises:
        DataValidationError: no such file, an unreadable file, or a named column missing from its header.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataValidationError(f"{path}: no such file; pass the {what}.")
    header = _header(path, sep)
    missing = [name for name in columns if name not in header]
    if missing:
        shown = ", ".join(header[:40]) + (", ..." if len(header) > 40 else "")
        raise DataValidationError(
            f"{path} lacks the column(s) {', '.join(missing)} (read as the {what}; it has: {shown}). "
            "Pass the raw file as released, with its original header."
        )
    size = path.stat().st_size
    chunks = []
    with open(path, "rb") as handle:
        try:
            reader = pd.read_csv(
                handle,
                sep=sep,
                usecols=list(dict.fromkeys(columns)),
                dtype=str,
                encoding_errors="replace",
                chunksize=CHUNK_ROWS,
            )
            for chunk in reader:
                chunks.append(chunk)
                if progress is not None:
                    progress(handle.tell(), size)
        except (pd.errors.ParserError, UnicodeError, ValueError) as err:
            raise DataValidationError(f"{path}: cannot be read as a table ({err}).") from None
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=list(columns))
    log.debug("%s: %d rows", path, len(frame))
    return frame


def drop_incomplete(frame: pd.DataFrame, fields: Sequence[str], path: Path) -> pd.DataFrame:
    """``frame`` without the rows missing any of ``fields`` (pyKT's ``dropna(subset=...)``), counted."""
    incomplete = frame[list(fields)].isna().any(axis=1).to_numpy()
    if incomplete.any():
        log.info("%s: %d row(s) missing one of %s dropped", path, int(incomplete.sum()), ", ".join(fields))
    return frame[~incomplete]


def numbers(values: pd.Series, path: Path, field: str, meaning: str) -> pd.Series:
    """``values`` (text, no missing cell) as float numbers.

    Raises:
        DataValidationError: naming the first row whose value is not a number.
    """
    parsed = pd.to_numeric(values.str.strip(), errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(values.index[bad][0])
        raise DataValidationError(
            f"{where(path, row)}, field {field}: {values.iloc[int(np.flatnonzero(bad)[0])]!r} is not a "
            f"number ({meaning}). Fix or remove that row ({int(bad.sum())} such row(s) in the file)."
        )
    return parsed.astype(float)


def answers_01(values: pd.Series, *, truncate: bool = False) -> pd.Series:
    """``values`` as 0/1 answers (Int8), missing where the value is not 0 or 1 (pyKT's ``isin([0, 1])``).

    Args:
        truncate: first cut each number toward zero, as ``int(x)`` does (ASSISTments 2012's reader
            applies ``int`` before its filter, so a partial credit of 0.5 is kept as 0).
    """
    parsed = pd.to_numeric(values.str.strip(), errors="coerce")
    if truncate:
        parsed = np.trunc(parsed)
    return parsed.where(parsed.isin([0, 1])).astype("Int8")


def keep_01(frame: pd.DataFrame, answers: pd.Series, path: Path, field: str) -> pd.DataFrame:
    """``frame`` with a ``correct`` column from ``answers``; rows whose answer is not 0/1 dropped, counted."""
    keep = answers.notna().to_numpy()
    if not keep.all():
        log.info("%s: %d row(s) whose %s is not 0 or 1 dropped", path, int((~keep).sum()), field)
    return frame[keep].assign(correct=answers[keep].astype(np.int8).to_numpy())


def read_answers(
    path: Path,
    columns: Mapping[str, str],
    *,
    what: str,
    sep: str = ",",
    truncate: bool = False,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """A raw export's declared ``columns`` (role -> file column), rows missing any of them dropped and only
    0/1 answers (``columns["correct"]``, read by :func:`answers_01`) kept: the first steps of most readers."""
    fields = list(columns.values())
    raw = drop_incomplete(read_columns(path, fields, sep=sep, what=what, progress=progress), fields, path)
    correct = columns["correct"]
    return keep_01(raw, answers_01(raw[correct], truncate=truncate), path, correct)


def millis(values: pd.Series, path: Path, field: str, fmt: str) -> pd.Series:
    """Times written as text (``fmt``: a strptime format, or ``"ISO8601"``) as milliseconds since 1970.

    A time without a zone is read as UTC (pyKT reads it in the local zone of the machine that runs it,
    so its timestamps move by that zone's offset; the order within a learner is the same). The fraction
    of a second is counted as pyKT's ``int(datetime.timestamp() * 1000)`` counts it: the whole seconds
    plus the microseconds / 10^6, times 1000, cut toward zero.

    Raises:
        DataValidationError: naming the first row whose time does not parse.
    """
    parsed = pd.to_datetime(values.str.strip(), format=fmt, errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        shown = "YYYY-MM-DD HH:MM:SS[.fff]" if fmt == "ISO8601" else fmt
        raise DataValidationError(
            f"{where(path, int(values.index[first]))}, field {field}: {values.iloc[first]!r} is not a time "
            f"written as {shown}. Fix or remove that row ({int(bad.sum())} such row(s) in the file)."
        )
    micros = parsed.to_numpy(dtype="datetime64[us]").astype(np.int64)
    seconds, fraction = np.divmod(micros, 1_000_000)
    exact = np.trunc((seconds + fraction / 1e6) * 1000).astype(np.int64)
    return pd.Series(exact, index=values.index)


def integer_text(values: pd.Series) -> pd.Series:
    """Whole numbers as text without a decimal part (``12.0`` -> ``"12"``)."""
    return pd.Series(np.asarray(values, dtype=np.int64).astype(str), index=values.index)


def replace_separators(values: pd.Series) -> pd.Series:
    """Names made safe for ``data.txt`` as pyKT makes them: ``_`` -> ``####``, ``,`` -> ``@@@@``.

    ``_`` joins the skills of a question and ``,`` the answers of a learner in ``data.txt``, so a name
    holding either is rewritten before it is written.
    """
    return values.str.replace("_", "####", regex=False).str.replace(",", "@@@@", regex=False)
