"""Undoing a JSON import: delete exactly the rows its manifest lists, in one transaction, and restore its file.

A rollback refuses, changing nothing, when:

* the manifest is unreadable, damaged, or was written before manifests named their rows' keys;
* the target database is not the one the import went into (compared by :func:`database_identity`, so
  however its URL is spelled);
* a row the manifest lists is gone or is now another row (another learner under the same id);
* the imported learners have since got answers, parent links, profiles or events the import did not add;
* the backed-up copy of ``users_data.json`` no longer matches its checksum.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from ktlab.db.backup import MANIFEST, write_manifest
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
    data_dir = Path(manifest["data_dir"])
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(backup_dir / DATA_FILE, data_dir / DATA_FILE)
    manifest["rolled_back_at"] = datetime.now(timezone.utc).isoformat()
    write_manifest(backup_dir, manifest)
    log.info("rolled back %s: removed %s; restored %s in %s", backup_dir, removed, DATA_FILE, data_dir)
    return removed
