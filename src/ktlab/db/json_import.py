"""Migrating a platform's JSON export into the database: plan, back up, import in one transaction, roll back.

* :func:`plan_import` reads what is already there and says what would be added (the dry run).
* :func:`full_import` hashes the new plain PINs first (the slow part, outside any write transaction), backs
  the JSON files up to ``backups/backup_YYYYmmdd_HHMMSS/``, adds the new users,
  skill profiles and analytics events in one transaction (all or nothing) and writes ``manifest.json``
  beside the backup with the id of every row it added. A rerun adds nothing twice: users are matched by
  username, profiles by (user, domain) and events by (user, type, timestamp).
* :func:`ktlab.db.import_rollback.rollback` undoes it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ktlab.db.engine import masked
from ktlab.db.errors import DatabaseError
from ktlab.db.models import AnalyticsEvent, SkillProfile, User
from ktlab.db.platform_json import PlatformExport, utc_naive
from ktlab.db.security import hash_secrets

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
CHUNK = 1000


@dataclass
class ImportPlan:
    """What an import adds (``new_*``) and skips because it is already stored (``existing_*``)."""

    new_users: list[str] = field(default_factory=list)
    existing_users: int = 0
    new_profiles: int = 0
    existing_profiles: int = 0
    new_events: int = 0
    existing_events: int = 0
    pins_to_hash: int = 0
    users_without_pin: int = 0


@dataclass
class ImportResult:
    """The rows an import added, by table, and where its backup lies."""

    backup_dir: Path
    added: dict[str, list[int]]
    plan: ImportPlan


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _stored_user_ids(session: Session, export: PlatformExport) -> dict[str, int]:
    """Ids of the export's users already stored, by username."""
    ids: dict[str, int] = {}
    for part in chunks([u.username for u in export.users]):
        ids.update(
            {n: i for i, n in session.execute(select(User.id, User.username).where(User.username.in_(part)))}
        )
    return ids


def _existing(
    session: Session | None, export: PlatformExport
) -> tuple[dict[str, int], set[tuple], set[tuple]]:
    """Ids of the export's users already stored, their (user, domain) profiles and (user, type, time) events."""
    if session is None:
        return {}, set(), set()
    ids = _stored_user_ids(session, export)
    profiles: set[tuple] = set()
    events: set[tuple] = set()
    for part in chunks(list(ids.values())):
        profiles.update(
            session.execute(
                select(SkillProfile.user_id, SkillProfile.domain).where(SkillProfile.user_id.in_(part))
            )
        )
        rows = session.execute(
            select(AnalyticsEvent.user_id, AnalyticsEvent.event_type, AnalyticsEvent.occurred_at).where(
                AnalyticsEvent.user_id.in_(part)
            )
        )
        events.update((u, k, utc_naive(t)) for u, k, t in rows)
    return ids, profiles, events


def plan_import(session: Session | None, export: PlatformExport) -> ImportPlan:
    """Count what :func:`full_import` would add and skip; reads only (None: a database with no tables yet)."""
    ids, profiles, events = _existing(session, export)
    plan = ImportPlan()
    for user in export.users:
        uid = ids.get(user.username)
        if uid is None:
            plan.new_users.append(user.username)
            plan.pins_to_hash += user.pin is not None
            plan.users_without_pin += user.pin is None and user.pin_hash is None
            plan.new_profiles += len(user.profiles)
            plan.new_events += len({(e.event_type, utc_naive(e.occurred_at)) for e in user.events})
            continue
        plan.existing_users += 1
        for p in user.profiles:
            if (uid, p.domain) in profiles:
                plan.existing_profiles += 1
            else:
                plan.new_profiles += 1
        keys = {(uid, e.event_type, utc_naive(e.occurred_at)) for e in user.events}
        plan.existing_events += len(keys & events)
        plan.new_events += len(keys - events)
    return plan


def hash_new_pins(
    sessions: sessionmaker[Session],
    export: PlatformExport,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, str]:
    """Hash the plain PINs of the export's users that are not stored yet, outside any write transaction.

    Hashing is the slow part of an import (scrypt, ~60 ms per PIN and core); doing it before the write
    transaction keeps that transaction as short as the database work. Returns the hashes by username.
    """
    with sessions() as session:
        stored = _stored_user_ids(session, export)
        session.rollback()
    plain = [u for u in export.users if u.pin is not None and u.username not in stored]
    if plain:
        log.info("hashing %d plain PIN(s)", len(plain))
    hashes = hash_secrets([u.pin for u in plain], workers=workers, progress=progress)
    return dict(zip([u.username for u in plain], hashes, strict=True))


def import_records(
    session: Session, export: PlatformExport, pin_hashes: dict[str, str] | None = None
) -> dict[str, list[int]]:
    """Add the users, profiles and events of ``export`` that are not stored yet; the caller commits.

    Args:
        session: the session of the caller's transaction.
        export: the validated export.
        pin_hashes: hashes of plain PINs made beforehand (:func:`hash_new_pins`), by username; the plain
            PINs of new users missing from it are hashed here.

    Returns:
        The ids added, by table name.
    """
    ids, profiles, events = _existing(session, export)
    new = [u for u in export.users if u.username not in ids]
    hashes = dict(pin_hashes or {})
    missing = [u for u in new if u.pin is not None and u.username not in hashes]
    hashes.update(zip([u.username for u in missing], hash_secrets([u.pin for u in missing]), strict=True))
    added: dict[str, list[int]] = {"users": [], "skill_profiles": [], "analytics_events": []}
    for part in chunks(new):
        rows = [
            {
                "username": u.username,
                "pin_hash": hashes.get(u.username, u.pin_hash),
                "learning_style": u.learning_style,
                "grade_level": u.grade_level,
                "created_at": u.created_at or datetime.now(timezone.utc),
                "last_seen": u.last_seen,
            }
            for u in part
        ]
        for uid, name in session.execute(insert(User).returning(User.id, User.username), rows):
            ids[name] = uid
            added["users"].append(uid)
    now = datetime.now(timezone.utc)
    profile_rows = [
        {
            "user_id": ids[u.username],
            "domain": p.domain,
            "proficiency": p.proficiency,
            "attempts": p.attempts,
            "current_streak": p.current_streak,
            "best_streak": p.best_streak,
            "updated_at": p.updated_at or now,
        }
        for u in export.users
        for p in u.profiles
        if (ids[u.username], p.domain) not in profiles
    ]
    event_rows: list[dict[str, Any]] = []
    for u in export.users:
        for e in u.events:
            key = (ids[u.username], e.event_type, utc_naive(e.occurred_at))
            if key not in events:
                events.add(key)
                event_rows.append(
                    {
                        "user_id": key[0],
                        "event_type": e.event_type,
                        "payload": e.payload,
                        "occurred_at": e.occurred_at,
                    }
                )
    for table, model, rows in (
        ("skill_profiles", SkillProfile, profile_rows),
        ("analytics_events", AnalyticsEvent, event_rows),
    ):
        for part in chunks(rows, 5000):
            added[table].extend(session.scalars(insert(model).returning(model.id), list(part)))
    log.info("added %s", ", ".join(f"{len(v)} {k}" for k, v in added.items()))
    return added


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_backup(export: PlatformExport, backup_root: Path) -> Path:
    """Copy the export's files to a new ``backup_YYYYmmdd_HHMMSS`` folder under ``backup_root``."""
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    target = backup_root / f"backup_{stamp}"
    suffix = 1
    while target.exists():
        suffix += 1
        target = backup_root / f"backup_{stamp}_{suffix}"
    target.mkdir(parents=True)
    for path in export.files:
        shutil.copy2(path, target / path.name)
    log.info("backed up %s to %s", ", ".join(p.name for p in export.files), target)
    return target


def full_import(
    sessions: sessionmaker[Session],
    export: PlatformExport,
    backup_root: str | Path,
    hash_workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Hash the new plain PINs, back the files up, then import everything new in one transaction and
    record it in a manifest.

    On any failure the transaction is rolled back, the new backup folder is removed and the JSON files are
    left as they were.

    Args:
        sessions: the session factory of the target database.
        export: the validated export.
        backup_root: where the ``backup_YYYYmmdd_HHMMSS`` folder goes.
        hash_workers: threads hashing plain PINs (default: one per CPU core).
        progress: called as ``progress(done, total)`` while PINs are hashed.
    """
    backup: Path | None = None
    try:
        pin_hashes = hash_new_pins(sessions, export, hash_workers, progress)
        backup = make_backup(export, Path(backup_root).expanduser().resolve())
        with sessions.begin() as session:
            plan = plan_import(session, export)
            added = import_records(session, export, pin_hashes)
            engine = session.get_bind()
            manifest = {
                "created_at": datetime.now(timezone.utc).isoformat(),
                "database": masked(engine.url),
                "data_dir": str(export.data_dir.resolve()),
                "files": {p.name: _sha256(p) for p in export.files},
                "added": added,
                "plan": asdict(plan) | {"new_users": len(plan.new_users)},
                "rolled_back_at": None,
            }
            (backup / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    except SQLAlchemyError as err:
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
        first = str(getattr(err, "orig", err)).strip().splitlines()[0]
        raise DatabaseError(
            f"The import of {export.data_dir} failed and was rolled back; the database and the JSON files are "
            f"unchanged ({type(getattr(err, 'orig', err)).__name__}: {first})."
        ) from None
    except BaseException:
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
        raise
    return ImportResult(backup_dir=backup, added=added, plan=plan)
