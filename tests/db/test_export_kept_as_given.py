"""A platform export is taken exactly as given: unknown or secret fields are refused, a rollback restores
nothing over a changed file nor through a link, and the sample's plain PINs are private."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ktlab.db.errors import ImportValidationError, RollbackError
from ktlab.db.import_rollback import rollback
from ktlab.db.json_import import full_import
from ktlab.db.models import SkillProfile, User
from ktlab.db.platform_json import CREDENTIALS_FILE, DATA_FILE, load_export
from ktlab.db.platform_sample import write_platform_export

from .helpers import counts, run_script

N_USERS = 6


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    return write_platform_export(tmp_path / "export", N_USERS, seed=2, domains_per_user=2, events_per_user=2)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _data(export_dir: Path) -> dict:
    return json.loads((export_dir / DATA_FILE).read_text())


def _write_data(export_dir: Path, data: dict) -> None:
    (export_dir / DATA_FILE).write_text(json.dumps(data))


def test_rollback_leaves_a_data_file_edited_since_the_import(
    engine: Engine, sessions: sessionmaker[Session], export_dir: Path, tmp_path: Path
) -> None:
    result = full_import(sessions, load_export(export_dir), tmp_path / "backups")
    imported = (result.backup_dir / DATA_FILE).read_bytes()
    data = _data(export_dir)
    data["newcomer"] = {"grade_level": 3}  # a learner added to the export after the import
    _write_data(export_dir, data)
    edited = _sha(export_dir / DATA_FILE)
    removed = rollback(sessions, result.backup_dir)
    assert removed["users"] == N_USERS and counts(engine)["users"] == 0
    assert _sha(export_dir / DATA_FILE) == edited and "newcomer" in _data(export_dir)
    (beside,) = export_dir.glob(f"{DATA_FILE}.restored-*")
    assert beside.read_bytes() == imported
    assert sorted(p.name for p in export_dir.iterdir()) == sorted([DATA_FILE, CREDENTIALS_FILE, beside.name])


def test_rollback_never_follows_a_link(
    sessions: sessionmaker[Session], export_dir: Path, tmp_path: Path
) -> None:
    result = full_import(sessions, load_export(export_dir), tmp_path / "backups")
    other = tmp_path / "notes.txt"
    other.write_text("not an export")
    (export_dir / DATA_FILE).unlink()
    (export_dir / DATA_FILE).symlink_to(other)
    rollback(sessions, result.backup_dir)
    assert other.read_text() == "not an export"
    assert (export_dir / DATA_FILE).is_symlink()
    (beside,) = export_dir.glob(f"{DATA_FILE}.restored-*")
    assert not beside.is_symlink() and beside.read_bytes() == (result.backup_dir / DATA_FILE).read_bytes()


def test_rollback_restores_a_removed_data_file_and_keeps_an_unchanged_one(
    sessions: sessionmaker[Session], export_dir: Path, tmp_path: Path
) -> None:
    first = full_import(sessions, load_export(export_dir), tmp_path / "backups")
    (export_dir / DATA_FILE).unlink()
    rollback(sessions, first.backup_dir)
    assert (export_dir / DATA_FILE).read_bytes() == (first.backup_dir / DATA_FILE).read_bytes()
    second = full_import(sessions, load_export(export_dir), tmp_path / "backups")
    before = (export_dir / DATA_FILE).stat()
    rollback(sessions, second.backup_dir)
    after = (export_dir / DATA_FILE).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert sorted(p.name for p in export_dir.iterdir()) == sorted([DATA_FILE, CREDENTIALS_FILE])


def test_rollback_that_cannot_write_the_export_folder_removes_nothing(
    engine: Engine, sessions: sessionmaker[Session], export_dir: Path, tmp_path: Path
) -> None:
    result = full_import(sessions, load_export(export_dir), tmp_path / "backups")
    before = counts(engine)
    # The export folder is gone and a file stands in its place: no folder to restore users_data.json in
    # (a read-only folder does the same, but root writes into those).
    for path in export_dir.iterdir():
        path.unlink()
    export_dir.rmdir()
    export_dir.write_text("in the way")
    with pytest.raises(RollbackError, match=rf"{DATA_FILE} cannot be restored in .*nothing was removed"):
        rollback(sessions, result.backup_dir)
    assert counts(engine) == before
    assert json.loads((result.backup_dir / "manifest.json").read_text())["rolled_back_at"] is None
    export_dir.unlink()  # once the folder can be written, the rollback goes through
    assert rollback(sessions, result.backup_dir)["users"] == N_USERS
    assert (export_dir / DATA_FILE).is_file()


def test_misspelled_fields_are_refused_then_the_corrected_file_imports(
    sessions: sessionmaker[Session], export_dir: Path, tmp_path: Path
) -> None:
    data = _data(export_dir)
    name, record = next(iter(data.items()))
    domain = next(iter(record["skills"]))
    record["skills"][domain]["proficency"] = record["skills"][domain].pop("proficiency")
    record["skills"][domain]["proficency"] = 0.625
    record["grade"] = record.pop("grade_level")
    record["events"][0]["when"] = "2024-10-02T17:30:00Z"
    _write_data(export_dir, data)
    with pytest.raises(ImportValidationError) as info:
        load_export(export_dir)
    message = str(info.value)
    assert (
        f"{DATA_FILE}, record '{name}', field 'skills.{domain}.proficency': unknown field (did you mean "
        "'proficiency'? the known fields here are proficiency, attempts, current_streak, best_streak, "
        "updated_at)" in message
    )
    assert f"record '{name}', field 'grade': unknown field (did you mean 'grade_level'?" in message
    assert f"record '{name}', field 'events[0].when': unknown field" in message
    creds = json.loads((export_dir / CREDENTIALS_FILE).read_text())
    creds[name]["pn"] = "0000"
    (export_dir / CREDENTIALS_FILE).write_text(json.dumps(creds))
    with pytest.raises(
        ImportValidationError, match=rf"{CREDENTIALS_FILE}, record '{name}', field 'pn': unknown"
    ):
        load_export(export_dir)
    # Corrected, the file imports with the value it gives.
    del creds[name]["pn"]
    (export_dir / CREDENTIALS_FILE).write_text(json.dumps(creds))
    record["skills"][domain]["proficiency"] = record["skills"][domain].pop("proficency")
    record["grade_level"] = record.pop("grade")
    del record["events"][0]["when"]
    _write_data(export_dir, data)
    full_import(sessions, load_export(export_dir), tmp_path / "backups")
    with sessions() as session:
        user = session.scalars(select(User).where(User.username == name)).one()
        profile = session.scalars(
            select(SkillProfile).where(SkillProfile.user_id == user.id, SkillProfile.domain == domain)
        ).one()
    assert profile.proficiency == pytest.approx(0.625)


def test_secrets_in_the_data_file_are_refused_and_never_backed_up(
    sqlite_url: str, export_dir: Path, tmp_path: Path
) -> None:
    data = _data(export_dir)
    first, second = list(data)[:2]
    data[first]["pin"] = "73159281"
    data[second]["events"][1]["data"]["password"] = "hunter2-xyzzy"
    _write_data(export_dir, data)
    done = run_script(
        "json_to_db.py", "--mode", "full", "--init-db", "--data-dir", str(export_dir), "--url", sqlite_url,
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    message = done.stderr.replace("\n", " ")
    assert f"record '{first}', field 'pin': holds a secret (value hidden)" in message
    assert f"record '{second}', field 'events[1].data.password': holds a secret" in message
    assert "73159281" not in done.stderr + done.stdout and "hunter2" not in done.stderr + done.stdout
    assert not (tmp_path / "backups").exists()


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_json_is_one_paragraph(depth: int, export_dir: Path, tmp_path: Path) -> None:
    nested = '{"a": ' * depth + "1" + "}" * depth
    (export_dir / DATA_FILE).write_text(
        '{"alice": {"events": [{"type": "login", "timestamp": "2024-01-01T00:00:00Z", "data": '
        + nested
        + "}]}}"
    )
    done = run_script("json_to_db.py", "--mode", "dry-run", "--data-dir", str(export_dir), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and f"{DATA_FILE}: objects or lists nested" in done.stderr


def test_sample_credentials_file_is_private(tmp_path: Path) -> None:
    out = tmp_path / "sample"
    out.mkdir()
    (out / CREDENTIALS_FILE).write_text("{}")
    os.chmod(out / CREDENTIALS_FILE, 0o644)  # an older sample, readable by everyone
    done = run_script("make_platform_json.py", "--users", "3", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((out / CREDENTIALS_FILE).stat().st_mode) == 0o600
    assert len(json.loads((out / CREDENTIALS_FILE).read_text())) == 3
