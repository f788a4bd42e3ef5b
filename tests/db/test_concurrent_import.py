"""Two imports of the same files at once add every learner, profile and event once."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

import ktlab.db.json_import as json_import
from ktlab.db.json_import import ImportResult, full_import
from ktlab.db.models import AnalyticsEvent
from ktlab.db.platform_json import DATA_FILE, load_export
from ktlab.db.platform_sample import write_platform_export

from .helpers import counts

N_USERS, N_DOMAINS, N_EVENTS = 20, 3, 5


def _run_together(
    sessions: sessionmaker[Session], export_dir: Path, backups: Path, monkeypatch: pytest.MonkeyPatch
) -> list[ImportResult]:
    """Two full imports in threads, both past their read of what is stored before either writes."""
    barrier = threading.Barrier(2, timeout=30)
    read_existing = json_import._existing

    def existing_then_wait(session, export):
        found = read_existing(session, export)
        barrier.wait()  # both imports now believe the same rows are missing
        return found

    monkeypatch.setattr(json_import, "_existing", existing_then_wait)
    results: list[ImportResult] = []
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            results.append(full_import(sessions, load_export(export_dir), backups / str(k), hash_workers=1))
        except BaseException as err:  # re-raised in the test thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return results


def _distinct_events(engine: Engine) -> int:
    keys = select(AnalyticsEvent.user_id, AnalyticsEvent.occurred_at, AnalyticsEvent.event_type).distinct()
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(keys.subquery()))


def test_concurrent_imports_add_everything_once(
    engine: Engine,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    export_dir = write_platform_export(
        tmp_path / "export", N_USERS, seed=9, domains_per_user=N_DOMAINS, events_per_user=N_EVENTS
    )
    # The learners are stored already, without events: the case where reruns used to add events twice.
    data = json.loads((export_dir / DATA_FILE).read_text())
    (tmp_path / "first").mkdir()
    (tmp_path / "first" / DATA_FILE).write_text(json.dumps({n: {**r, "events": []} for n, r in data.items()}))
    (tmp_path / "first" / "users_credentials.json").write_text(
        (export_dir / "users_credentials.json").read_text()
    )
    full_import(sessions, load_export(tmp_path / "first"), tmp_path / "backups", hash_workers=2)
    assert counts(engine)["analytics_events"] == 0

    results = _run_together(sessions, export_dir, tmp_path / "backups", monkeypatch)
    expected = {
        "users": N_USERS,
        "skill_profiles": N_USERS * N_DOMAINS,
        "analytics_events": N_USERS * N_EVENTS,
    }
    stored = counts(engine)
    assert {k: stored[k] for k in expected} == expected
    assert _distinct_events(engine) == expected["analytics_events"]
    added = [set(r.added["analytics_events"]) for r in results]
    assert added[0].isdisjoint(added[1]) and len(added[0] | added[1]) == expected["analytics_events"]
    # Each import reports what it added itself, so the two reports add up to the events stored.
    assert sum(r.plan.new_events for r in results) == expected["analytics_events"]


@pytest.mark.postgres
def test_concurrent_first_imports_on_postgres(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing stored yet: both imports try to create the same learners; neither fails, none is doubled."""
    from ktlab.db import migrate
    from ktlab.db.engine import make_engine, make_session_factory

    migrate.upgrade(pg_url)
    engine = make_engine(pg_url, use_env=False)
    export_dir = write_platform_export(
        tmp_path / "export", N_USERS, seed=4, domains_per_user=N_DOMAINS, events_per_user=N_EVENTS
    )
    results = _run_together(make_session_factory(engine), export_dir, tmp_path / "backups", monkeypatch)
    stored = counts(engine)
    assert (stored["users"], stored["skill_profiles"], stored["analytics_events"]) == (
        N_USERS,
        N_USERS * N_DOMAINS,
        N_USERS * N_EVENTS,
    )
    assert sorted(len(r.added["users"]) for r in results) == [0, N_USERS]
    engine.dispose()
