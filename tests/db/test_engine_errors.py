"""A database URL that cannot work is one paragraph and exit status 2; reading never creates a database."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ktlab.db.engine import make_engine, require_schema
from ktlab.db.errors import DatabaseError
from ktlab.tabular.__main__ import main as tabular_main

from .helpers import REPO_ROOT

PLAIN_PG = "postgresql://ktlab:pw-hidden@127.0.0.1:5432/test"


def test_reading_a_missing_sqlite_file_does_not_create_it(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    missing = tmp_path / "none.db"
    engine = make_engine(f"sqlite:///{missing}", use_env=False, create_dirs=False)
    with pytest.raises(DatabaseError, match=rf"no database file {missing} .*python -m ktlab.db init"):
        require_schema(engine)
    assert not missing.exists()
    with pytest.raises(SystemExit) as info:
        tabular_main(["--url", f"sqlite:///{missing}", "at-risk", "--domain", "addition"])
    assert info.value.code == 2
    message = capsys.readouterr().err.replace("\n", " ")
    assert f"no database file {missing}" in message and "alembic upgrade head" in message
    assert not missing.exists() and list(tmp_path.iterdir()) == []


def test_plain_postgresql_url_names_the_driver_and_where_the_url_came_from(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    if importlib.util.find_spec("psycopg") is not None:  # SQLAlchemy's default driver is there: it works
        assert make_engine(PLAIN_PG, use_env=False).url.get_backend_name() == "postgresql"
        return
    with pytest.raises(SystemExit) as info:
        tabular_main(["--url", PLAIN_PG, "at-risk", "--domain", "addition"])
    assert info.value.code == 2
    message = capsys.readouterr().err.replace("\n", " ")
    assert (
        "(from --url)" in message and "--url postgresql+psycopg2://ktlab:***@127.0.0.1:5432/test" in message
    )
    assert "pw-hidden" not in message
    monkeypatch.setenv("KTLAB_DATABASE_URL", PLAIN_PG)
    with pytest.raises(
        DatabaseError, match=r"from KTLAB_DATABASE_URL.*KTLAB_DATABASE_URL=postgresql\+psycopg2://"
    ):
        make_engine({"url": "sqlite:///unused.db"})
    with pytest.raises(DatabaseError, match=r"from db\.url.*db\.url=postgresql\+psycopg2://"):
        make_engine({"url": PLAIN_PG}, use_env=False)
    # The alembic command the docs give, with the URL of -x url.
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(REPO_ROOT / "alembic.ini"), "-x", f"url={PLAIN_PG}",
         "upgrade", "head"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")},
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "(from -x url)" in done.stderr and "-x url=postgresql+psycopg2://" in done.stderr
