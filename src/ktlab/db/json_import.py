"""Migrating a platform's JSON export into the database: plan, back up, import in one transaction, roll back.

* :func:`plan_import` reads what is already there and says what would be added (the dry run).
* :func:`full_import` hashes the new plain PINs first (the slow part, outside any write transaction), adds
  the new users, skill profiles and analytics events in one transaction (all or nothing) and leaves a
  private backup folder (:mod:`ktlab.db.backup`) whose ``manifest.json`` names the database and every row
  added, with its natural key.
* Reruns, also concurrent ones, add nothing twice: users are matched by username key, profiles by
  (user, domain) and events by (user, time, type), each under a unique constraint, and every row is
  inserted with ``ON CONFLICT DO NOTHING``, in key order so that concurrent imports lock rows in one order.
* :func:`ktlab.db.import_rollback.rollback` undoes an import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ktlab.db.backup import discard, finish_backup, start_backup, write_manifest, write_private
from ktlab.db.engine import database_identity, masked
from ktlab.db.errors import DatabaseError
from ktlab.db.messages import first_line
from ktlab.db.models import AnalyticsEvent, SkillProfile, User
from ktlab.db.platform_json import CREDENTIALS_FILE, DATA_FILE, PlatformExport, utc, utc_naive
from ktlab.db.security import hash_secrets
from ktlab.db.statements import insert_new

log = logging.getLogger(__name__)

CHUNK = 1000
MANIFEST_FORMAT = 2
TABLES = ("users", "skill_profiles", "analytics_events")


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
class Added:
    """The rows an import added, by table: their ids, and the natural key of each (same order)."""

    ids: dict[str, list[int]] = field(default_factory=lambda: {t: [] for t in TABLES})
    keys: dict[str, list[Any]] = field(default_factory=lambda: {t: [] for t in TABLES})

    def add(self, table: str, row_id: int, key: Any) -> None:
        self.ids[table].append(row_id)
        self.keys[table].append(key)


@dataclass
class ImportResult:
    """The rows an import added, by table, what it did, and where its backup lies."""

    backup_dir: Path
    added: dict[str, list[int]]
    plan: ImportPlan


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ids_by_key(session: Session, keys: Sequence[str]) -> dict[str, int]:
    """Ids of stored users, by username key."""
    ids: dict[str, int] = {}
    for part in chunks(list(keys)):
        rows = session.execute(select(User.username_key, User.id).where(User.username_key.in_(part)))
        ids.update({k: i for k, i in rows})
    return ids


def _event_key(user_id: int, event_type: str, occurred_at: datetime) -> tuple[int, str, datetime]:
    return user_id, event_type, utc_naive(occurred_at)


def _existing(
    session: Session | None, export: PlatformExport
) -> tuple[dict[str, int], set[tuple], set[tuple]]:
    """Ids of the export's stored users (by key), their (user, domain) profiles and (user, type, time) events."""
    if session is None:
        return {}, set(), set()
    ids = _ids_by_key(session, [u.key for u in export.users])
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
        events.update(_event_key(*row) for row in rows)
    return ids, profiles, events


def plan_import(session: Session | None, export: PlatformExport) -> ImportPlan:
    """Count what :func:`full_import` would add and skip; reads only (None: a database with no tables yet)."""
    ids, profiles, events = _existing(session, export)
    plan = ImportPlan()
    for user in export.users:
        uid = ids.get(user.key)
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
        keys = {_event_key(uid, e.event_type, e.occurred_at) for e in user.events}
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

    Hashing is the slow part of an import (scrypt, ~50 ms per PIN and core); doing it before the write
    transaction keeps that transaction as short as the database work. Returns the hashes by username key.
    """
    with sessions() as session:
        stored = _ids_by_key(session, [u.key for u in export.users])
        session.rollback()
    plain = [u for u in export.users if u.pin is not None and u.key not in stored]
    if plain:
        log.info("hashing %d plain PIN(s)", len(plain))
    hashes = hash_secrets([u.pin for u in plain], workers=workers, progress=progress)
    return dict(zip([u.key for u in plain], hashes, strict=True))


def _insert_users(
    session: Session, export: PlatformExport, ids: dict[str, int], hashes: dict[str, str], added: Added
) -> None:
    new = sorted((u for u in export.users if u.key not in ids), key=lambda u: u.key)
    stmt = insert_new(session, User, ["username_key"]).returning(User.id, User.username_key)
    for part in chunks(new):
        rows = [
            {
                "username": u.username,
                "username_key": u.key,
                "pin_hash": hashes.get(u.key, u.pin_hash),
                "learning_style": u.learning_style,
                "grade_level": u.grade_level,
                "created_at": utc(u.created_at) or datetime.now(timezone.utc),
                "last_seen": utc(u.last_seen),
            }
            for u in part
        ]
        for uid, key in session.execute(stmt, rows):
            ids[key] = uid
            added.add("users", uid, key)
    late = [u.key for u in new if u.key not in ids]  # stored meanwhile by a concurrent import
    if late:
        log.info("%d learner(s) were stored by another import meanwhile", len(late))
        ids.update(_ids_by_key(session, late))


def import_records(
    session: Session, export: PlatformExport, pin_hashes: dict[str, str] | None = None
) -> Added:
    """Add the users, profiles and events of ``export`` that are not stored yet; the caller commits.

    Args:
        session: the session of the caller's transaction.
        export: the validated export.
        pin_hashes: hashes of plain PINs made beforehand (:func:`hash_new_pins`), by username key; the
            plain PINs of new users missing from it are hashed here.

    Returns:
        The ids added, by table name, with their natural keys.
    """
    ids, profiles, events = _existing(session, export)
    hashes = dict(pin_hashes or {})
    missing = [u for u in export.users if u.key not in ids and u.pin is not None and u.key not in hashes]
    hashes.update(zip([u.key for u in missing], hash_secrets([u.pin for u in missing]), strict=True))
    added = Added()
    _insert_users(session, export, ids, hashes, added)
    now = datetime.now(timezone.utc)
    profile_rows = sorted(
        (
            {
                "user_id": ids[u.key],
                "domain": p.domain,
                "proficiency": p.proficiency,
                "attempts": p.attempts,
                "current_streak": p.current_streak,
                "best_streak": p.best_streak,
                "updated_at": utc(p.updated_at) or now,
            }
            for u in export.users
            for p in u.profiles
            if (ids[u.key], p.domain) not in profiles
        ),
        key=lambda r: (r["user_id"], r["domain"]),
    )
    event_rows: dict[tuple, dict[str, Any]] = {}
    for u in export.users:
        for e in u.events:
            key = _event_key(ids[u.key], e.event_type, e.occurred_at)
            if key not in events and key not in event_rows:
                event_rows[key] = {
                    "user_id": key[0],
                    "event_type": e.event_type,
                    "payload": e.payload,
                    "occurred_at": utc(e.occurred_at),
                }
    ordered_events = [event_rows[k] for k in sorted(event_rows, key=lambda k: (k[0], k[2], k[1]))]
    profile_stmt = insert_new(session, SkillProfile, ["user_id", "domain"]).returning(
        SkillProfile.id, SkillProfile.user_id, SkillProfile.domain
    )
    for part in chunks(profile_rows, 5000):
        for row_id, uid, domain in session.execute(profile_stmt, list(part)):
            added.add("skill_profiles", row_id, [uid, domain])
    event_stmt = insert_new(session, AnalyticsEvent, ["user_id", "occurred_at", "event_type"]).returning(
        AnalyticsEvent.id, AnalyticsEvent.user_id, AnalyticsEvent.event_type, AnalyticsEvent.occurred_at
    )
    for part in chunks(ordered_events, 5000):
        for row_id, uid, kind, when in session.execute(event_stmt, list(part)):
            added.add("analytics_events", row_id, [uid, kind, utc_naive(when).isoformat()])
    log.info("added %s", ", ".join(f"{len(v)} {k}" for k, v in added.ids.items()))
    return added


def _result_plan(export: PlatformExport, added: Added) -> ImportPlan:
    """What the import did, counted from the rows it actually inserted (right under concurrency too)."""
    new_keys = set(added.keys["users"])
    new_users = [u for u in export.users if u.key in new_keys]
    profiles = sum(len(u.profiles) for u in export.users)
    events = sum(len({(e.event_type, utc_naive(e.occurred_at)) for e in u.events}) for u in export.users)
    return ImportPlan(
        new_users=[u.username for u in new_users],
        existing_users=len(export.users) - len(new_users),
        new_profiles=len(added.ids["skill_profiles"]),
        existing_profiles=profiles - len(added.ids["skill_profiles"]),
        new_events=len(added.ids["analytics_events"]),
        existing_events=events - len(added.ids["analytics_events"]),
        pins_to_hash=sum(u.pin is not None for u in new_users),
        users_without_pin=sum(u.pin is None and u.pin_hash is None for u in new_users),
    )


def _manifest(session: Session, export: PlatformExport, added: Added, plan: ImportPlan) -> dict[str, Any]:
    connection = session.connection()
    return {
        "format": MANIFEST_FORMAT,
        "created_at": datetime.now(timezone.utc).isoformat(),
        "database": masked(connection.engine.url),
        "database_id": database_identity(connection),
        "data_dir": str(export.data_dir.resolve()),
        "files": dict(export.digests),
        "backed_up": [DATA_FILE],
        "not_backed_up": {CREDENTIALS_FILE: "may hold PINs in clear; a rollback does not need it"},
        "added": added.ids,
        "keys": added.keys,
        "plan": asdict(plan) | {"new_users": len(plan.new_users)},
        "rolled_back_at": None,
    }


def full_import(
    sessions: sessionmaker[Session],
    export: PlatformExport,
    backup_root: str | Path,
    hash_workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Hash the new plain PINs, then import everything new in one transaction with a private backup.

    The backup is built in a hidden folder and renamed to ``backup_YYYYmmdd_HHMMSS`` with its manifest
    just before the transaction commits. On any failure the transaction is rolled back and the folder
    removed; the JSON files are never changed.

    Args:
        sessions: the session factory of the target database.
        export: the validated export.
        backup_root: where the ``backup_YYYYmmdd_HHMMSS`` folder goes.
        hash_workers: threads hashing plain PINs (default: one per CPU core).
        progress: called as ``progress(done, total)`` while PINs are hashed.
    """
    root = Path(backup_root).expanduser().resolve()
    folder: Path | None = None
    try:
        pin_hashes = hash_new_pins(sessions, export, hash_workers, progress)
        folder = start_backup(root)
        write_private(folder / DATA_FILE, export.data_bytes)
        with sessions.begin() as session:
            added = import_records(session, export, pin_hashes)
            plan = _result_plan(export, added)
            write_manifest(folder, _manifest(session, export, added, plan))
            folder = finish_backup(folder, root)
    except SQLAlchemyError as err:
        discard(folder)
        orig = getattr(err, "orig", None) or err
        raise DatabaseError(
            f"The import of {export.data_dir} failed and was rolled back; the database and the JSON files are "
            f"unchanged ({type(orig).__name__}: {first_line(orig)})."
        ) from None
    except BaseException:
        discard(folder)
        raise
    log.info("backed up %s to %s", DATA_FILE, folder)
    return ImportResult(backup_dir=folder, added=added.ids, plan=plan)
