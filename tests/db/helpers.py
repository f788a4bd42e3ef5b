"""Small helpers shared by the database tests."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, func, select

from ktlab.db.models import AnalyticsEvent, ExerciseResponse, SkillProfile, User

REPO_ROOT = Path(__file__).resolve().parents[2]


def counts(engine: Engine) -> dict[str, int]:
    """Row counts of the tables an import or an ingestion writes."""
    with engine.connect() as conn:
        return {
            model.__tablename__: conn.scalar(select(func.count()).select_from(model))
            for model in (User, SkillProfile, AnalyticsEvent, ExerciseResponse)
        }


def digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of a folder, to show it was left untouched."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


def run_script(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``scripts/<name>`` in a subprocess with this tree's sources first on the path."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src"), "KTLAB_ROOT": str(REPO_ROOT)}
    env.pop("KTLAB_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / name), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def private_pins(export_dir: Path, start: int = 73_150_000) -> list[str]:
    """Give every learner of an export an 8-digit PIN that cannot occur in the files by chance."""
    creds_path = export_dir / "users_credentials.json"
    creds = json.loads(creds_path.read_text())
    pins = [f"{start + 7919 * i:08d}" for i in range(len(creds))]
    creds = {name: {"pin": pin} for name, pin in zip(creds, pins, strict=True)}
    creds_path.write_text(json.dumps(creds))
    return pins


def files_holding(root: Path, needles: list[str], skip: Path | None = None) -> list[str]:
    """Every file under ``root`` (but ``skip``) that contains one of ``needles``, as 'path: needle'."""
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or (skip is not None and skip in path.parents):
            continue
        data = path.read_bytes()
        found += [f"{path}: {n}" for n in needles if n.encode() in data]
    return found
