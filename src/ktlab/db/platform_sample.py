"""Sample platform exports (``users_data.json`` + ``users_credentials.json``) for tests, demos and benchmarks."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ktlab.db.platform_json import CREDENTIALS_FILE, DATA_FILE

DOMAINS: tuple[str, ...] = ("addition", "subtraction", "multiplication", "division", "fractions", "geometry")
STYLES: tuple[str, ...] = ("visual", "auditory", "kinesthetic", "reading")
EVENT_TYPES: tuple[str, ...] = ("login", "exercise_completed", "badge_earned", "hint_requested", "logout")


def make_platform_export(
    n_users: int, seed: int = 0, domains_per_user: int = 4, events_per_user: int = 6
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Random but plausible learners with profiles, events and plain 4-digit PINs.

    Returns:
        The content of ``users_data.json`` and of ``users_credentials.json``.
    """
    rng = np.random.default_rng(seed)
    start = datetime(2024, 9, 2, 8, 0, tzinfo=timezone.utc)
    data: dict[str, Any] = {}
    creds: dict[str, Any] = {}
    for i in range(n_users):
        name = f"learner{i:05d}"
        created = start + timedelta(days=int(rng.integers(0, 30)), minutes=int(rng.integers(0, 600)))
        skills = {}
        for domain in rng.choice(DOMAINS, size=min(domains_per_user, len(DOMAINS)), replace=False):
            attempts = int(rng.integers(0, 200))
            best = int(rng.integers(0, 15))
            skills[str(domain)] = {
                "proficiency": round(float(rng.beta(2, 2)), 3),
                "attempts": attempts,
                "current_streak": int(rng.integers(0, best + 1)),
                "best_streak": best,
                "updated_at": (created + timedelta(days=int(rng.integers(1, 60)))).isoformat(),
            }
        events = [
            {
                "type": str(rng.choice(EVENT_TYPES)),
                "timestamp": (created + timedelta(minutes=37 * k + int(rng.integers(0, 30)))).isoformat(),
                "data": {"session": int(k), "device": str(rng.choice(["tablet", "laptop", "phone"]))},
            }
            for k in range(events_per_user)
        ]
        data[name] = {
            "learning_style": str(rng.choice(STYLES)),
            "grade_level": int(rng.integers(1, 9)),
            "created_at": created.isoformat(),
            "last_seen": (created + timedelta(days=int(rng.integers(1, 60)))).isoformat(),
            "skills": skills,
            "events": events,
        }
        creds[name] = {"pin": f"{int(rng.integers(0, 10_000)):04d}"}
    return data, creds


def write_platform_export(out_dir: str | Path, n_users: int, seed: int = 0, **kwargs: int) -> Path:
    """Write a sample export folder (the credentials file, which holds plain PINs, 0600); returns it."""
    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    data, creds = make_platform_export(n_users, seed, **kwargs)
    (out / DATA_FILE).write_text(json.dumps(data, indent=1), encoding="utf-8")
    # Plain PINs: readable by the owner only (0600), also when an older, more open file is overwritten.
    fd = os.open(out / CREDENTIALS_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(json.dumps(creds, indent=1))
    return out
