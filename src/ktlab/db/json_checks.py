"""Reading and checking the JSON files of a platform export: repeated keys, one learner per record, values.

:class:`JsonObject` keeps every key of a JSON object in file order, repeats included (``json.loads`` keeps
only the last one silently). :class:`Checker` collects problems as "file, record 'x', field 'y': what is
wrong", values cut (:func:`ktlab.db.messages.cut`) and text lengths read from the ORM columns.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from ktlab.db.errors import ImportValidationError
from ktlab.db.identifiers import too_long
from ktlab.db.messages import cut
from ktlab.db.usernames import username_key

#: The deepest nesting of objects and lists read from a JSON file (an export itself needs about 6).
MAX_DEPTH = 64


def nesting_depth(value: Any) -> int:
    """How many objects and lists deep ``value`` goes (a scalar: 0), counted without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, JsonObject):
            children = [child for _, child in item.pairs]
        elif isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


class JsonObject(dict):
    """A JSON object that remembers its keys in file order, repeats included."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        self.pairs = pairs

    @property
    def repeated(self) -> list[str]:
        seen: set[str] = set()
        out = []
        for key, _ in self.pairs:
            if key in seen and key not in out:
                out.append(key)
            seen.add(key)
        return out


def repeated_keys(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(where, key) of every key repeated in an object nested in ``value``."""
    if isinstance(value, JsonObject):
        for key in value.repeated:
            yield path, key
        for key, item in value.items():
            yield from repeated_keys(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from repeated_keys(item, f"{path}[{i}]")


class Checker:
    """Collects problems as "file, record 'x', field 'y': what is wrong"."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, file: str, record: str, name: str, what: str) -> None:
        self.problems.append(f"{file}, record {cut(record)}, field {cut(name)}: {what}")

    def text(
        self, file: str, record: str, name: str, value: Any, column: InstrumentedAttribute
    ) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(file, record, name, f"value {cut(value)} is not a non-empty text")
            return None
        problem = too_long(value.strip(), column)
        if problem:
            self.fail(file, record, name, problem)
            return None
        return value.strip()

    def integer(
        self, file: str, record: str, name: str, value: Any, low: int, high: int | None = None
    ) -> int | None:
        ok = (
            isinstance(value, int)
            and not isinstance(value, bool)
            and value >= low
            and (high is None or value <= high)
        )
        if not ok:
            bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
            self.fail(file, record, name, f"value {cut(value)} is not an integer {bound}")
            return None
        return value

    def number(self, file: str, record: str, name: str, value: Any, low: float, high: float) -> float | None:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or not low <= value <= high:
            self.fail(file, record, name, f"value {cut(value)} is not a number in [{low:g}, {high:g}]")
            return None
        return float(value)

    def timestamp(
        self, file: str, record: str, name: str, value: Any, required: bool = False
    ) -> datetime | None:
        if value is None and not required:
            return None
        try:
            parsed = (
                datetime.fromisoformat(str(value).replace("Z", "+00:00")) if isinstance(value, str) else None
            )
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail(
                file,
                record,
                name,
                f"value {cut(value)} is not an ISO 8601 timestamp such as 2024-10-02T17:30:00Z",
            )
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def read_json(path: Path) -> tuple[JsonObject, bytes]:
    """The top-level object of a JSON file (objects keep repeated keys) and the file's bytes."""
    if not path.is_file():
        raise ImportValidationError(
            f"{path}: no such file. The export folder must hold users_data.json and users_credentials.json "
            "(see docs/database.md; `python scripts/make_platform_json.py` writes a sample)."
        )
    try:
        raw = path.read_bytes()
        content = json.loads(raw.decode("utf-8"), object_pairs_hook=JsonObject)
    except OSError as err:
        raise ImportValidationError(
            f"{path}: cannot read it ({err.strerror}); nothing was imported."
        ) from None
    except RecursionError:
        raise ImportValidationError(
            f"{path.name}: objects or lists nested too deeply to read (more than {MAX_DEPTH} levels; an "
            "export needs about 6); nothing was imported."
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        # The decoder's message gives the position, never a value of the file (it may hold PINs).
        reason = (
            f"{err.msg} at line {err.lineno}, column {err.colno}"
            if isinstance(err, json.JSONDecodeError)
            else "not UTF-8"
        )
        raise ImportValidationError(
            f"{path.name}: not valid JSON ({reason}); nothing was imported."
        ) from None
    depth = nesting_depth(content)
    if depth > MAX_DEPTH:
        raise ImportValidationError(
            f"{path.name}: objects or lists nested {depth} levels deep, more than the {MAX_DEPTH} an import "
            "reads (an export needs about 6); nothing was imported."
        )
    if not isinstance(content, JsonObject):
        raise ImportValidationError(
            f"{path.name}: expected an object mapping usernames to records, got {type(content).__name__}."
        )
    return content, raw


def same_learner(check: Checker, file: str, content: JsonObject) -> None:
    """Two records of one file naming the same learner (same key), however spelled."""
    first: dict[str, tuple[int, str]] = {}
    reported: set[str] = set()
    for index, (name, _) in enumerate(content.pairs, start=1):
        key = username_key(str(name))
        if key not in first:
            first[key] = (index, str(name))
        elif key not in reported:
            reported.add(key)
            index0, name0 = first[key]
            check.problems.append(
                f"{file}: record #{index0} {cut(name0)} and record #{index} {cut(str(name))} are the same "
                "learner (usernames are compared without surrounding spaces and case); keep one of them"
            )
