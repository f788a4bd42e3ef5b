"""Undoing a JSON import: delete exactly the rows its manifest lists, in one transaction, and restore its files."""

from __future__ import annotations

import json
import logging
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from ktlab.db.errors import RollbackError
from ktlab.db.json_import import MANIFEST, chunks
from ktlab.db.models import AnalyticsEvent, ExerciseResponse, ParentChildLink, SkillProfile, User

log = logging.getLogger(__name__)


def read_manifest(backup_dir: str | Path) -> dict[str, Any]:
    """The manifest of a backup folder.

    Raises:
        RollbackError: the folder or its manifest is missing or unreadable.
    """
    path = Path(backup_dir).expanduser() / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise RollbackError(
            f"{path}: cannot read the migration manifest ({err}). Pass the backup_YYYYmmdd_HHMMSS folder "
            "that a full import printed."
        ) from None


def _dependants(session: Session, user_ids: list[int], added: dict[str, list[int]]) -> list[str]:
    problems = []
    for part in chunks(user_ids):
        answers = session.scalar(select(func.count()).where(ExerciseResponse.user_id.in_(part)))
        links = session.scalar(select(func.count()).where(ParentChildLink.child_id.in_(part)))
        profiles = session.scalars(select(SkillProfile.id).where(SkillProfile.user_id.in_(part))).all()
        events = session.scalars(select(AnalyticsEvent.id).where(AnalyticsEvent.user_id.in_(part))).all()
        extra_profiles = len(set(profiles) - set(added["skill_profiles"]))
        extra_events = len(set(events) - set(added["analytics_events"]))
        for count, what in (
            (answers, "answers"),
            (links, "parent links"),
            (extra_profiles, "skill profiles"),
            (extra_events, "events"),
        ):
            if count:
                problems.append(f"{count} {what}")
    return problems


def rollback(
    sessions: sessionmaker[Session],
    backup_dir: str | Path,
) -> dict[str, int]:
    """Undo the import recorded in ``backup_dir``: delete its rows (one transaction), restore its files.

    Raises:
        RollbackError: no manifest, already rolled back, or rows were added since for the imported users.
    """
    backup_dir = Path(backup_dir).expanduser()
    manifest = read_manifest(backup_dir)
    if manifest.get("rolled_back_at"):
        raise RollbackError(
            f"{backup_dir} was already rolled back on {manifest['rolled_back_at']}; nothing to do."
        )
    added: dict[str, list[int]] = manifest["added"]
    removed: dict[str, int] = {}
    with sessions.begin() as session:
        problems = _dependants(session, added["users"], added)
        if problems:
            raise RollbackError(
                f"Cannot roll back {backup_dir}: since the import, the imported learners got "
                f"{', '.join(problems)} that the migration did not add; deleting the learners would delete them too. "
                "Remove those rows first, or keep the import."
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
    for name in manifest["files"]:
        shutil.copy2(backup_dir / name, data_dir / name)
    manifest["rolled_back_at"] = datetime.now(timezone.utc).isoformat()
    (backup_dir / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    log.info("rolled back %s: removed %s; restored files in %s", backup_dir, removed, data_dir)
    return removed
