"""Crafted model files given to every loader run nothing and are refused in one paragraph (exit 2)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from pathlib import Path

import joblib
import pytest
import skops.io as sio

from ktlab.db import migrate
from ktlab.db.engine import make_engine, make_session_factory
from ktlab.db.registry import add_model
from ktlab.tabular.__main__ import main
from ktlab.tabular.difficulty import DifficultyOptimizer
from ktlab.tabular.errors import ModelFileError
from ktlab.tabular.io import SHA256_KEY, TRUSTED_TYPES, load_model, save_model, sha256_of
from ktlab.utils.run_record import RunRecord
from tests.db.conftest import _isolated_env, sqlite_url  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]


class PickledPayload:
    """Unpickling this calls ``Path.touch`` on the marker: what a crafted joblib file can do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


class BuiltPayload:
    """Building this from its state touches the marker: what an untrusted type in a skops file can do."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __setstate__(self, state: dict) -> None:
        pathlib.Path(state["marker"]).touch()
        self.__dict__.update(state)


def _crafted(kind: str, folder: Path, marker: Path) -> Path:
    if kind == "joblib":
        path = folder / "model.joblib"
        joblib.dump({"format": "ktlab-tabular/1", "model": PickledPayload(marker)}, path)
    else:
        path = folder / "model.skops"
        sio.dump({"format": "ktlab-tabular/2", "model": BuiltPayload(marker), "metadata": {}}, path)
    return path


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    env.pop("KTLAB_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "ktlab.tabular", *args, "at-risk", "--domain", "fractions"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )


def _main(capsys: pytest.CaptureFixture, *args: str) -> subprocess.CompletedProcess:
    """The CLI's entry point in this process (faster than a subprocess; the same code and exit)."""
    with pytest.raises(SystemExit) as leaving:
        main([*args, "at-risk", "--domain", "fractions"])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess([], int(leaving.value.code), out, err)


def _register(url: str, path: Path, sha256: str | None) -> None:
    migrate.upgrade(url)
    engine = make_engine(url, use_env=False)
    config = {} if sha256 is None else {SHA256_KEY: sha256}
    run = RunRecord("performance_rf", {}, str(path), config, str(path.parent), kind="PerformancePredictor")
    with make_session_factory(engine).begin() as session:
        add_model(session, run)
    engine.dispose()


def _refused(done: subprocess.CompletedProcess, *parts: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.startswith("error: ")
    message = " ".join(done.stderr.split())
    for part in parts:
        assert part in message, (part, message)


@pytest.mark.parametrize("kind", ["joblib", "skops"])
def test_crafted_file_runs_nothing_in_load_model(tmp_path: Path, kind: str) -> None:
    marker = tmp_path / "payload_ran"
    path = _crafted(kind, tmp_path, marker)
    expected = "not a skops model archive" if kind == "joblib" else "BuiltPayload"
    with pytest.raises(ModelFileError, match=expected):
        load_model(path)
    with pytest.raises(ModelFileError, match=expected):
        load_model(path, sha256=sha256_of(path))
    assert not marker.exists()
    # The payload is live: the loaders that trust the file run it.
    if kind == "joblib":
        joblib.load(path)
    else:
        sio.load(path, trusted=[f"{__name__}.BuiltPayload", *TRUSTED_TYPES])
    assert marker.exists()


def test_crafted_joblib_given_with_model_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "payload_ran"
    path = _crafted("joblib", tmp_path, marker)
    done = _cli(tmp_path, "--url", f"sqlite:///{tmp_path / 'none.db'}", "--model", str(path))
    _refused(done, str(path), "not a skops model archive")
    assert not marker.exists()


def test_crafted_skops_given_with_model_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    marker = tmp_path / "payload_ran"
    path = _crafted("skops", tmp_path, marker)
    done = _main(capsys, "--url", f"sqlite:///{tmp_path / 'none.db'}", "--model", str(path))
    _refused(done, str(path), "never holds", "BuiltPayload")
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["joblib", "skops"])
def test_crafted_file_named_by_a_registry_row_runs_nothing(
    tmp_path: Path,
    sqlite_url: str,  # noqa: F811
    kind: str,
    capsys: pytest.CaptureFixture,
) -> None:
    marker = tmp_path / "payload_ran"
    path = _crafted(kind, tmp_path, marker)
    _register(sqlite_url, path, sha256_of(path))  # even a row with the file's true hash
    done = _main(capsys, "--url", sqlite_url)
    _refused(done, str(path), "not a skops model archive" if kind == "joblib" else "never holds")
    assert not marker.exists()


def test_registry_row_checks_the_hash_before_loading(
    tmp_path: Path,
    sqlite_url: str,  # noqa: F811
    difficulty_model: DifficultyOptimizer,
    capsys: pytest.CaptureFixture,
) -> None:
    path = save_model(difficulty_model, tmp_path / "model.skops")
    _register(sqlite_url, path, "0" * 64)
    done = _main(capsys, "--url", sqlite_url)
    _refused(done, f"its sha256 is {sha256_of(path)}", "0" * 64, "changed")
    unhashed = f"sqlite:///{tmp_path / 'old.db'}"
    _register(unhashed, path, None)
    _refused(_main(capsys, "--url", unhashed), "records no sha256", "was not loaded")
    loaded, metadata = load_model(path, sha256=sha256_of(path))
    assert metadata["kind"] == "DifficultyOptimizer" and hasattr(loaded, "model_")
