"""The operator CLI: bad --at / --top in one paragraph (exit 2), tables within 80 columns with usernames."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ktlab.db import migrate
from ktlab.db.engine import make_engine, make_session_factory
from ktlab.tabular.__main__ import main
from ktlab.tabular.dbdata import store_platform
from ktlab.tabular.io import save_model
from ktlab.tabular.performance import PerformancePredictor
from ktlab.tabular.synthetic import generate_platform
from tests.db.conftest import _isolated_env  # noqa: F401  (fixture)


@pytest.fixture
def setup(tmp_path: Path, performance_model: PerformancePredictor) -> list[str]:
    """A learner database of 12 synthetic learners and a saved model: the CLI's common arguments."""
    url = f"sqlite:///{tmp_path / 'ktlab.db'}"
    migrate.upgrade(url)
    engine = make_engine(url, use_env=False)
    with make_session_factory(engine).begin() as session:
        store_platform(session, generate_platform(n_learners=12, weeks=2, seed=5), prefix="pupil_")
    engine.dispose()
    return ["--url", url, "--model", str(save_model(performance_model, tmp_path / "model.skops"))]


def _run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as leaving:
        code = int(leaving.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (["--at", "garbage"], [], "argument --at: 'garbage' is not a point in time; write ISO 8601"),
        (["--at", "1990-01-01"], [], "--at 1990-01-01 00:00:00: the first answer in database"),
        ([], ["--top", "-1"], "argument --top: '-1' is not a number of learners >= 1"),
    ],
)
def test_bad_argument_is_one_paragraph_with_exit_2(
    setup: list[str], capsys: pytest.CaptureFixture, before: list[str], after: list[str], expected: str
) -> None:
    code, out, err = _run(capsys, *setup, *before, "at-risk", "--domain", "fractions", *after)
    assert code == 2 and out == ""
    assert "Traceback" not in err and expected in " ".join(err.split()), err


def test_at_risk_table_fits_80_columns_and_names_learners(
    setup: list[str], capsys: pytest.CaptureFixture
) -> None:
    code, out, err = _run(capsys, *setup, "at-risk", "--domain", "fractions", "--top", "5")
    assert code == 0, err
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, out
    assert sum("pupil_" in line for line in lines) == 5, out
    assert any(line.startswith(("low:", "medium:", "high:", "critical:")) for line in lines), out
    code, out, _ = _run(capsys, *setup, "--json", "at-risk", "--domain", "fractions", "--top", "2")
    listed = json.loads(out)
    assert code == 0 and len(listed) == 2 and all(r["username"].startswith("pupil_") for r in listed)
    name = listed[0]["username"]
    code, out, err = _run(capsys, *setup, "timeline", "--user", name, "--domain", "fractions")
    assert code == 0 and name in out and max(len(line) for line in out.splitlines()) <= 80, err


@pytest.mark.parametrize("with_model", [True, False], ids=["model_file", "registry"])
def test_missing_sqlite_file_is_refused_not_created(
    setup: list[str], tmp_path: Path, capsys: pytest.CaptureFixture, with_model: bool
) -> None:
    missing = tmp_path / "elsewhere" / "none.db"
    args = ["--url", f"sqlite:///{missing}", *(setup[2:] if with_model else [])]
    code, _, err = _run(capsys, *args, "at-risk", "--domain", "fractions")
    message = " ".join(err.split())
    assert code == 2 and f"no database file {missing}" in message and "nothing was created" in message
    assert not missing.exists() and not missing.parent.exists()
