"""Reading interaction and answer tables from CSV, TSV and Parquet files, with user-facing errors.

A text table is read as text: every cell is kept exactly as written (``007`` stays ``007``, ``0.50``
stays ``0.50``, ``NA`` and ``null`` are values, only an empty cell is empty), except in the columns the
caller's layout declares as numbers (``numbers=``), which are parsed; the layout's validator checks the
rest. Files are UTF-8 (a UTF-8 byte-order mark is dropped);
a file starting with a UTF-16 byte-order mark is read as UTF-16; any other encoding is refused, naming the
line and byte where decoding failed.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections import Counter
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from ktlab.errors import DataValidationError
from ktlab.utils.text import shorten

log = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
_TEXT_DTYPES = {"student_id": str, "skill_id": str, "phase_type": str}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

#: Where each data row of a table sits in its file: the line of the first row when rows follow each other
#: line by line (2 for a CSV with a header), the line of every row otherwise, None for Parquet.
Lines = int | np.ndarray | None


def read_text(path: Path) -> str:
    """The text of a file: UTF-8, or UTF-16 when it starts with a UTF-16 byte-order mark.

    Raises:
        DataValidationError: the bytes are not UTF-8 (naming the line and byte), or the text holds NUL
            characters (UTF-16 without a byte-order mark).
    """
    data = path.read_bytes()
    encoding = "utf-16" if data.startswith(_UTF16_BOMS) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        raise _encoding_error(path, data, err, encoding) from None
    if encoding == "utf-16":
        log.info("%s: read as UTF-16 (the file starts with a UTF-16 byte-order mark)", path)
    nul = text.find("\x00")
    if nul >= 0:
        raise DataValidationError(
            f"{path}, line {text.count(chr(10), 0, nul) + 1}: the file holds NUL characters, the mark of "
            "UTF-16 text saved without a byte-order mark; save it as UTF-8."
        )
    return text


def _encoding_error(path: Path, data: bytes, err: UnicodeDecodeError, encoding: str) -> DataValidationError:
    save = (
        "Save it as UTF-8 (a spreadsheet's 'CSV UTF-8' format, or `iconv -f latin1 -t utf-8 OLD > NEW` for "
        "Latin-1 / Windows-1252 text); a file starting with a UTF-16 byte-order mark is read as UTF-16."
    )
    if encoding == "utf-16":
        return DataValidationError(
            f"{path}: starts with a UTF-16 byte-order mark but byte {err.start + 1} breaks UTF-16 "
            f"({err.reason}). {save}"
        )
    line = data.count(b"\n", 0, err.start) + 1
    column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
    return DataValidationError(
        f"{path}, line {line}, byte {column} of the line (byte {err.start + 1} of the file): byte "
        f"0x{data[err.start]:02x} is not UTF-8, so the file is in another encoding. {save}"
    )


def read_table(
    path: str | Path, text: bool = True, numbers: Collection[str] = ()
) -> tuple[pd.DataFrame, Lines]:
    """Read a CSV/TSV or Parquet table.

    Args:
        path: the file; its suffix picks the reader.
        text: read every cell of a CSV/TSV as the text it holds (the default, see the module docstring);
            False lets pandas guess numbers and empty values (``student_id``, ``skill_id`` and
            ``phase_type`` are text either way), for layouts whose validator expects that.
        numbers: with ``text``, the columns a layout declares as numbers, which pandas parses (faster than
            parsing their text later); a cell that is not a number (empty included) leaves the column
            as text for the validator to report.

    Returns:
        The raw frame and where its rows sit in the file (see :data:`Lines`), for error messages.

    Raises:
        DataValidationError: the path is missing, is not a file, has an unknown suffix, is empty, is not
            UTF-8, or cannot be parsed (a data line with more fields than the header is named).
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
    if suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise DataValidationError(
            f"{path}: unknown file type '{suffix}'; use one of {', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)}."
        )
    try:
        if suffix in PARQUET_SUFFIXES:
            return pd.read_parquet(path), None
        sep = "\t" if suffix == ".tsv" else ","
        content = read_text(path)
        if text:
            return _read_text_table(path, content, sep, frozenset(numbers))
        _refuse_repeated_columns(path, _header(content, sep))
        return pd.read_csv(io.StringIO(content), sep=sep, dtype=_TEXT_DTYPES, skipinitialspace=True), 2
    except pd.errors.EmptyDataError:
        raise _empty(path) from None
    except (pd.errors.ParserError, OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataValidationError(f"{path}: cannot be read as a {suffix[1:]} table ({first}).") from None


def _empty(path: Path) -> DataValidationError:
    return DataValidationError(f"{path}: the file is empty; it needs a header row and at least one row.")


def _header(content: str, sep: str) -> list[str]:
    end = content.find("\n")
    first = content if end < 0 or content.count('"', 0, end) % 2 else content[: end + 1]
    return next(csv.reader(io.StringIO(first), delimiter=sep, skipinitialspace=True), [])


def _read_text_table(
    path: Path, content: str, sep: str, numbers: frozenset[str]
) -> tuple[pd.DataFrame, Lines]:
    header = [name.strip() for name in _header(content, sep)]
    if not any(header):
        raise _empty(path)
    _refuse_repeated_columns(path, header)
    text_columns = {i: str for i, name in enumerate(header) if name not in numbers}
    if _first_record_width(content, sep) > len(header):  # pandas would make its first field an index
        _refuse_long_lines(path, content, sep, len(header))
    try:
        frame = pd.read_csv(
            io.StringIO(content),
            sep=sep,
            header=None,
            names=list(range(len(header))),
            skiprows=1,
            dtype=text_columns,
            na_filter=False,
            skipinitialspace=True,
        )
    except pd.errors.EmptyDataError:  # a header and no row: the layout's validator says what it needs
        return pd.DataFrame({name: pd.Series(dtype=str) for name in header}), 2
    except pd.errors.ParserError:
        _refuse_long_lines(path, content, sep, len(header))
        raise
    frame.columns = header
    frame = _drop_empty_trailing_column(path, frame)
    return frame, _row_lines(content, sep, len(frame))


def _first_record_width(content: str, sep: str, prefix: int = 1 << 16) -> int:
    """Fields of the first data record found in the file's first ``prefix`` characters (0 if none)."""
    reader = csv.reader(io.StringIO(content[:prefix]), delimiter=sep, skipinitialspace=True)
    next(reader, None)
    return next((len(fields) for fields in reader if fields), 0)


def _refuse_long_lines(path: Path, content: str, sep: str, width: int) -> None:
    """Name the first data line with more fields than the header (pandas says only "expected N fields")."""
    reader = csv.reader(io.StringIO(content), delimiter=sep, skipinitialspace=True)
    next(reader, None)
    start = reader.line_num + 1
    first: tuple[int, list[str]] | None = None
    count = 0
    for fields in reader:
        if len(fields) > width:
            first = first or (start, fields)
            count += 1
        start = reader.line_num + 1
    if first is None:
        return
    line, fields = first
    trailing = ", the last of them empty (a trailing separator?)" if fields[-1].strip() == "" else ""
    more = f" ({count - 1} more data line(s) are longer too)" if count > 1 else ""
    raise DataValidationError(
        f"{path}, line {line}: the data lines have more fields than the header: line {line} has "
        f"{len(fields)}{trailing}, the header (line 1) names {width} columns{more}. Every line needs one "
        "field per header column: remove the extra separators, or name the extra column in the header."
    )


def _drop_empty_trailing_column(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """Lines that all end with a separator make a last column without a name or values: it is dropped.

    Any other column without a name is refused (which values belong to what cannot be guessed).
    """
    names = list(frame.columns)
    if names and names[-1] == "" and not frame.iloc[:, -1].astype(str).str.strip().astype(bool).any():
        frame = frame.iloc[:, :-1]
        names = names[:-1]
    if "" in names:
        position = names.index("") + 1
        raise DataValidationError(
            f"{path}, line 1 (the header): column {position} has no name but holds values; name it in the "
            "header, or remove its values."
        )
    return frame


def _row_lines(content: str, sep: str, n_rows: int) -> Lines:
    """The file line of each data row: 2 onwards when rows are consecutive lines, else counted by ``csv``.

    Rows stop being one line each where a quoted cell spans lines or a blank line (skipped) sits between
    rows; only then is the file walked a second time.
    """
    body = content.rstrip("\r\n \t")
    if '"' not in body and not re.search(r"\n[ \t]*\r?\n", body):
        return 2
    reader = csv.reader(io.StringIO(content), delimiter=sep, skipinitialspace=True)
    next(reader, None)
    lines: list[int] = []
    start = reader.line_num + 1
    for fields in reader:
        if any(field.strip() for field in fields) or len(fields) > 1:
            lines.append(start)
        start = reader.line_num + 1
    if len(lines) != n_rows:  # the readers disagree on a blank-looking line: rows only, no lines
        log.debug("%s rows but %s records found by csv; messages give rows only", n_rows, len(lines))
        return None
    return np.asarray(lines, dtype=np.int64)


def _refuse_repeated_columns(path: Path, header: list[str]) -> None:
    """A header naming a column twice is refused: the CSV reader would rename the second and drop it."""
    counts = Counter(name.strip() for name in header if name.strip())
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
