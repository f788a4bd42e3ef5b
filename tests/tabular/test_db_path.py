"""The documented path from a sample platform export to an at-risk list, run as written on a new SQLite file."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _documented_path() -> list[str]:
    """The commands of docs/tabular.md's database path (each also in the README's Learner database)."""
    docs = (ROOT / "docs" / "tabular.md").read_text()
    block = re.search(r"From a\s+sample export to an at-risk list.*?```bash\n(.*?)```", docs, re.DOTALL)
    assert block, "docs/tabular.md lost its database path"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    readme = (ROOT / "README.md").read_text()
    assert all(command in readme for command in commands), "README.md and docs/tabular.md differ"
    return commands


def _argv(command: str) -> list[str]:
    words = shlex.split(command)
    assert words[0] == "python"
    return [sys.executable, *(str(ROOT / w) if (ROOT / w).is_file() else w for w in words[1:])]


@pytest.mark.slow
def test_sample_export_to_at_risk_list_works_as_written(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "KTLAB_ROOT": str(tmp_path),
        "KTLAB_DATABASE_URL": f"sqlite:///{tmp_path / 'ktlab.db'}",
    }
    env.pop("KTLAB_CONF_DIR", None)
    commands = _documented_path()
    assert commands[-1].startswith("python -m ktlab.tabular at-risk")
    for command in commands:
        done = subprocess.run(
            _argv(command), capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600
        )
        assert done.returncode == 0, (command, done.stderr[-3000:])
    lines = done.stdout.splitlines()
    assert sum(re.search(r"\blearner\d{5}\b", line) is not None for line in lines) == 10, done.stdout
    assert max(len(line) for line in lines) <= 80
    assert "Learners at risk in multiplication over 7 days" in done.stdout


def test_sample_export_answers_ingest_with_domains_and_timestamps(tmp_path: Path) -> None:
    from ktlab.db import migrate
    from ktlab.db.engine import make_engine, make_session_factory
    from ktlab.db.ingest import ingest_file
    from ktlab.db.platform_sample import write_platform_export
    from ktlab.tabular.data import DOMAINS
    from ktlab.tabular.dbdata import load_db
    from ktlab.tabular.interactions import write_sample_answers

    export = write_platform_export(tmp_path / "export", 6, seed=2)
    path = write_sample_answers(export, weeks=2, seed=2)
    url = f"sqlite:///{tmp_path / 'ktlab.db'}"
    migrate.upgrade(url)
    engine = make_engine(url, use_env=False)
    with make_session_factory(engine).begin() as session:
        stored = ingest_file(session, path)
    engine.dispose()
    data = load_db(url, use_env=False)
    assert len(data.answers) == stored > 6 * 20
    assert set(data.answers["skill_id"]) <= set(DOMAINS) and data.answers["difficulty_level"].nunique() > 1
    assert not data.answers.duplicated(["student_id", "timestamp"]).any()
    assert data.answers["timestamp"].min().year == 2024
    assert sorted(data.learners["username"]) == [f"learner{i:05d}" for i in range(6)]
