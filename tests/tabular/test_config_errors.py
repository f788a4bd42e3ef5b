"""Mistakes on train_tabular.py's command line: one paragraph naming key, value and choices, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _train_tabular(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "KTLAB_ROOT": str(tmp_path)}
    env.pop("KTLAB_CONF_DIR", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "train_tabular.py"), *overrides, f"hydra.run.dir={tmp_path / 'run'}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("model=nope", ["model=nope", "no conf/tabular/model/nope.yaml", "difficulty_xgb, performance_rf"]),
        ("model=dkt", ["model=dkt", "train.py", "difficulty_xgb, performance_rf"]),
        ("data=nope", ["data=nope", "db, file, synthetic_platform"]),
        (
            "model.estimator.max_dept=3",
            ["model.estimator.max_dept=3", "did you mean max_depth?", "n_estimators, max_depth"],
        ),
        ("model.estimator.max_depth=abc", ["model.estimator.max_depth='abc'", "must be an integer >= 1"]),
    ],
)
def test_config_mistake_is_one_paragraph_with_exit_2(
    tmp_path: Path, override: str, expected: list[str]
) -> None:
    done = _train_tabular(tmp_path, override)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.strip().count("error:") == 1
    message = " ".join(done.stderr.split())
    for part in expected:
        assert part in message, (part, message)
    assert not (tmp_path / "run" / "metrics.json").exists()
