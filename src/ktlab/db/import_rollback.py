"""Undoing a JSON import: delete exactly the rows its manifest lists, in one transaction, and restore its file.

A rollback refuses, changing nothing, when:

* the manifest is unreadable, damaged, or was written before manifests named their rows' keys;
* the target database is not the one the import went into (compared by :func:`database_identity`, so
  however its URL is spelled);
* a row the manifest lists is gone or is now another row (another learner under the same id);
* the imported learners have since got answers, parent links, profiles or events the import did not add;
* the backed-up copy of ``users_data.json`` no longer matches its checksum;
* the export folder (to restore ``users_data.json`` in) or the backup folder cannot be written.

The backed-up ``users_data.json`` goes back only where nothing is in its way: into the export folder when
the file is gone there, beside it (``users_data.json.restored-<backup folder>``) when the file there changed
since the import or is a link (never followed); a file still as imported is left as it is. It is written to
a new file in the export folder before any row is deleted and given its name once they are.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from ktlab.db.backup import MANIFEST, write_manifest, write_private
from ktlab.db.engine import database_identity, masked
from ktlab.db.errors import RollbackError
from ktlab.db.json_import import MANIFEST_FORMAT, TABLES, chunks
from ktlab.db.messages import cut
from ktlab.db.models import AnalyticsEvent, ExerciseResponse, ParentChildLink, SkillProfile, User
from ktlab.db.platform_json import DATA_FILE, utc_naive

log = logging.getLogger(__name__)

_KEY_SHAPES = {"users": (str,), "skill_profiles": (int, str), "analytics_events": (int, str, str)}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _manifest_problem(manifest: Any) -> str | None:
    """What is wrong with a manifest's structure, or None."""
    if not isinstance(manifest, dict):
        return f"it holds {type(manifest).__name__}, not an object"
    if manifest.get("format") != MANIFEST_FORMAT:
        return (
            f"its format is {cut(manifest.get('format'))}, not {MANIFEST_FORMAT}; a manifest written before "
            "format 2 does not say which rows it added, so it cannot be checked and is never rolled back"
        )
    for name in ("database", "database_id", "data_dir"):
        if not isinstance(manifest.get(name), str):
            return f"field '{name}' is missing or not text"
    files, backed_up = manifest.get("files"), manifest.get("backed_up")
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        return "field 'files' is not an object of checksums"
    if backed_up != [DATA_FILE] or DATA_FILE not in files:
        return f"field 'backed_up' is not [{DATA_FILE!r}] with its checksum in 'files'"
    if manifest.get("rolled_back_at") is not None and not isinstance(manifest["rolled_back_at"], str):
        return "field 'rolled_back_at' is neither null nor a time"
    added, keys = manifest.get("added"), manifest.get("keys")
    if not isinstance(added, dict) or not isinstance(keys, dict):
        return "field 'added' or 'keys' is not an object"
    for table in TABLES:
        ids, table_keys = added.get(table), keys.get(table)
        if not isinstance(ids, list) or not all(_is_int(i) for i in ids):
            return f"field 'added.{table}' is not a list of row ids"
        if not isinstance(table_keys, list) or len(table_keys) != len(ids):
            return f"field 'keys.{table}' is not a list as long as 'added.{table}'"
        shape = _KEY_SHAPES[table]
        for key in table_keys:
            parts = [key] if table == "users" else key
            ok = isinstance(parts, list) and len(parts) == len(shape)
            if not ok or not all(
                _is_int(p) if t is int else isinstance(p, t) for p, t in zip(parts, shape, strict=True)
            ):
                return f"field 'keys.{table}' holds {cut(key)}, not a key of that table"
    return None


def read_manifest(backup_dir: str | Path) -> dict[str, Any]:
    """The manifest of a backup folder, checked for the structure a rollback relies on.

    Raises:
        RollbackError: the folder or its manifest is missing, unreadable or damaged.
    """
    path = Path(backup_dir).expanduser() / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise RollbackError(
            f"{path}: cannot read the import manifest ({err.strerror}); nothing was changed. Pass the "
            "backup_YYYYmmdd_HHMMSS folder that a full import printed."
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        where = f"line {err.lineno}, column {err.colno}" if isinstance(err, json.JSONDecodeError) else "bytes"
        raise RollbackError(
            f"{path}: the import manifest is damaged (not valid JSON at {where}); nothing was changed. Roll "
            "back only with the manifest the import wrote, unedited."
        ) from None
    problem = _manifest_problem(manifest)
    if problem:
        raise RollbackError(
            f"{path}: not a usable import manifest ({problem}); nothing was changed. Roll back only with the "
            "manifest the import wrote, unedited."
        )
    return manifest


def _stored_keys(session: Session, table: str, ids: list[int]) -> dict[int, Any]:
    """The natural key of each stored row of ``table`` among ``ids``, locked until the transaction ends."""
    columns = {
        "users": (User.id, User.username_key),
        "skill_profiles": (SkillProfile.id, SkillProfile.user_id, SkillProfile.domain),
        "analytics_events": (
            AnalyticsEvent.id,
            AnalyticsEvent.user_id,
            AnalyticsEvent.event_type,
            AnalyticsEvent.occurred_at,
        ),
    }[table]
    stored: dict[int, Any] = {}
    for part in chunks(ids):
        for row in session.execute(select(*columns).where(columns[0].in_(part)).with_for_update()):
            if table == "users":
                stored[row[0]] = row[1]
            elif table == "skill_profiles":
                stored[row[0]] = [row[1], row[2]]
            else:
                stored[row[0]] = [row[1], row[2], utc_naive(row[3]).isoformat()]
    return stored


def _changed_rows(session: Session, manifest: dict[str, Any]) -> list[str]:
    """Rows of the manifest that are gone or are other rows now, described per table."""
    problems = []
    for table in TABLES:
        ids, keys = manifest["added"][table], manifest["keys"][table]
        stored = _stored_keys(session, table, ids)
        gone = [i for i in ids if i not in stored]
        other = [(i, k) for i, k in zip(ids, keys, strict=True) if i in stored and stored[i] != k]
        if gone:
            problems.append(f"{len(gone)} of its {len(ids)} {table} are gone (first id {gone[0]})")
        if other:
            row_id, key = other[0]
            problems.append(
                f"{len(other)} of its {len(ids)} {table} ids now hold other rows (id {row_id}: the import added "
                f"{cut(key)}, the database holds {cut(stored[row_id])})"
            )
    return problems


def _dependants(session: Session, user_ids: list[int], added: dict[str, list[int]]) -> list[str]:
    problems = []
    own_profiles, own_events = set(added["skill_profiles"]), set(added["analytics_events"])
    totals = {"answers": 0, "parent links": 0, "skill profiles": 0, "events": 0}
    for part in chunks(user_ids):
        totals["answers"] += session.scalar(select(func.count()).where(ExerciseResponse.user_id.in_(part)))
        totals["parent links"] += session.scalar(
            select(func.count()).where(ParentChildLink.child_id.in_(part))
        )
        profiles = session.scalars(select(SkillProfile.id).where(SkillProfile.user_id.in_(part))).all()
        events = session.scalars(select(AnalyticsEvent.id).where(AnalyticsEvent.user_id.in_(part))).all()
        totals["skill profiles"] += len(set(profiles) - own_profiles)
        totals["events"] += len(set(events) - own_events)
    for what, count in totals.items():
        if count:
            problems.append(f"{count} {what}")
    return problems


def _check_backup_copy(backup_dir: Path, manifest: dict[str, Any]) -> None:
    path = backup_dir / DATA_FILE
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as err:
        raise RollbackError(
            f"Cannot roll back {backup_dir}: its copy of {DATA_FILE} cannot be read ({err.strerror}); nothing "
            "was changed."
        ) from None
    if digest != manifest["files"][DATA_FILE]:
        raise RollbackError(
            f"Cannot roll back {backup_dir}: its copy of {DATA_FILE} does not match the checksum of its "
            "manifest (the backup was changed); nothing was changed."
        )


def _file_digest(path: Path) -> str | None:
    """SHA-256 of a regular file (never through a link), or None."""
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _restore_target(backup_dir: Path, manifest: dict[str, Any]) -> Path | None:
    """Where the backed-up data file goes back, or None when the export folder still holds it as imported."""
    data_dir = Path(manifest["data_dir"])
    digest = manifest["files"][DATA_FILE]
    target = data_dir / DATA_FILE
    if not os.path.lexists(target):
        return target
    if _file_digest(target) == digest:
        return None
    for n in range(1, 1000):
        beside = data_dir / f"{DATA_FILE}.restored-{backup_dir.name}{'' if n == 1 else f'-{n}'}"
        if not os.path.lexists(beside):
            return beside
        if _file_digest(beside) == digest:
            return None
    raise RollbackError(
        f"Cannot roll back {backup_dir}: {data_dir} is full of restored copies; nothing was removed."
    )


def _stage_restore(backup_dir: Path, manifest: dict[str, Any]) -> tuple[Path, Path] | None:
    """Write the backed-up data file to a new hidden file of the export folder: (that file, its final name).

    Raises:
        RollbackError: the export folder or the backup folder cannot be written; nothing was removed.
    """
    if not os.access(backup_dir, os.W_OK):
        raise RollbackError(
            f"Cannot roll back {backup_dir}: the backup folder cannot be written (its manifest records the "
            "rollback); nothing was removed. Make it writable and run the rollback again."
        )
    target = _restore_target(backup_dir, manifest)
    if target is None:
        return None
    staged = target.parent / f".{DATA_FILE}.{os.getpid()}.rollback"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if os.path.lexists(staged):
            staged.unlink()
        write_private(staged, (backup_dir / DATA_FILE).read_bytes())
    except OSError as err:
        raise RollbackError(
            f"Cannot roll back {backup_dir}: {DATA_FILE} cannot be restored in {target.parent} "
            f"({err.strerror}); nothing was removed. Make that folder writable and run the rollback again."
        ) from None
    return staged, target


def _place(staged: Path, target: Path) -> Path:
    """Give the staged file its name without replacing anything that appeared there since (a link neither)."""
    try:
        os.link(staged, target, follow_symlinks=False)
    except FileExistsError:
        target = target.with_name(f"{target.name}.{os.getpid()}")
        os.link(staged, target, follow_symlinks=False)
    except OSError:  # a file system without hard links: a rename, after checking the name is free
        if os.path.lexists(target):
            target = target.with_name(f"{target.name}.{os.getpid()}")
        os.rename(staged, target)
        return target
    staged.unlink()
    return target


def rollback(
    sessions: sessionmaker[Session],
    backup_dir: str | Path,
) -> dict[str, int]:
    """Undo the import recorded in ``backup_dir``: delete its rows (one transaction), restore its file.

    Raises:
        RollbackError: see the module docstring; nothing is removed and the manifest is left as it was.
    """
    backup_dir = Path(backup_dir).expanduser()
    manifest = read_manifest(backup_dir)
    if manifest["rolled_back_at"]:
        raise RollbackError(
            f"{backup_dir} was already rolled back on {manifest['rolled_back_at']}; nothing to do."
        )
    _check_backup_copy(backup_dir, manifest)
    restore = _stage_restore(backup_dir, manifest)
    try:
        removed = _delete_rows(sessions, backup_dir, manifest)
    except BaseException:
        if restore is not None:
            restore[0].unlink(missing_ok=True)
        raise
    manifest["rolled_back_at"] = datetime.now(timezone.utc).isoformat()
    write_manifest(backup_dir, manifest)
    if restore is None:
        log.info("rolled back %s: removed %s; %s is as the import read it", backup_dir, removed, DATA_FILE)
        return removed
    target = _place(*restore)
    if target.name == DATA_FILE:
        log.info("rolled back %s: removed %s; restored %s", backup_dir, removed, target)
    else:
        log.warning(
            "rolled back %s: removed %s; %s changed since the import (or is a link) and was left as it is: "
            "the imported version is in %s",
            backup_dir,
            removed,
            Path(manifest["data_dir"]) / DATA_FILE,
            target,
        )
    return removed


def _delete_rows(
    sessions: sessionmaker[Session], backup_dir: Path, manifest: dict[str, Any]
) -> dict[str, int]:
    """Delete the rows of the manifest in one transaction, after checking they are still the import's."""
    added: dict[str, list[int]] = manifest["added"]
    removed: dict[str, int] = {}
    with sessions.begin() as session:
        connection = session.connection()
        target = database_identity(connection)
        if target != manifest["database_id"]:
            raise RollbackError(
                f"Cannot roll back {backup_dir}: its import went into {manifest['database']} "
                f"({manifest['database_id']}), not into {masked(connection.engine.url)} ({target}); nothing "
                "was removed. Pass --url of the database the import went into."
            )
        changed = _changed_rows(session, manifest)
        if changed:
            raise RollbackError(
                f"Cannot roll back {backup_dir}: the database no longer holds the rows its import added "
                f"({'; '.join(changed)}); deleting by id would remove other rows, so nothing was removed."
            )
        problems = _dependants(session, added["users"], added)
        if problems:
            raise RollbackError(
                f"Cannot roll back {backup_dir}: since the import, the imported learners got "
                f"{', '.join(problems)} that the migration did not add; deleting the learners would delete "
                "them too. Remove those rows first, or keep the import."
            )
        for table, model in (
            ("analytics_events", AnalyticsEvent),
            ("skill_profiles", SkillProfile),
            ("users", User),
        ):
            removed[table] = 0
            for part in chunks(added[table]):
                removed[table] += session.execute(delete(model).where(model.id.in_(part))).rowcount
    return removed
