"""The command-line entry points: user mistakes exit 2 with one paragraph and no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ktlab.cli import check_command_line
from ktlab.data.template import ROWS
from tests.conftest import ASSETS, CONF_DIR, ROOT, run_cli

TINY_CLI = [
    "data.source.n_students=60",
    "data.source.min_len=10",
    "data.source.max_len=20",
    "trainer.max_epochs=1",
    "model.net.hidden_dim=8",
]


def _assert_user_error(result, *parts: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    for part in parts:
        assert part in result.stderr.replace("\n", " ")


@pytest.mark.slow  # in-process twins in test_hardening.py / test_schema.py run in the fast suite
def test_bad_csv_value(tmp_path: Path) -> None:
    frame = pd.read_csv(ASSETS / "assist2009_sample.csv")
    frame.loc[10, "time_spent"] = -4
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    result = run_cli("train.py", "data=csv", f"data.path={path}", "data.context_features=[time_spent]",
                     "data.query_features=[]", f"paths.root_dir={tmp_path}")  # fmt: skip
    _assert_user_error(result, str(path), "row 11 (line 12)", "column 'time_spent'", "value -4")


@pytest.mark.slow  # in-process twins in test_hardening.py / test_schema.py run in the fast suite
def test_missing_file_and_bad_config(tmp_path: Path) -> None:
    result = run_cli(
        "train.py", "data=csv", f"data.path={tmp_path / 'missing.csv'}", f"paths.root_dir={tmp_path}"
    )
    _assert_user_error(result, "missing.csv: no such file")
    result = run_cli("train.py", "data.max_len=1", "model.net.dropout=2", f"paths.root_dir={tmp_path}")
    _assert_user_error(result, "data.max_len=1: must be >= 2", "model.net.dropout=2")
    # Found while building the network from config (Hydra wraps the error): reported the same way.
    result = run_cli("train.py", "model.net.cell=rnn", *TINY_CLI, f"paths.root_dir={tmp_path}")
    _assert_user_error(result, "model.net.cell='rnn': choose one of gru, lstm")
    result = run_cli("eval.py", f"ckpt_path={tmp_path / 'none.ckpt'}", f"paths.root_dir={tmp_path}")
    _assert_user_error(result, "none.ckpt: no such checkpoint file")


@pytest.mark.slow  # helper scripts; the template itself trains in test_hardening.py
def test_template_and_synthetic_scripts(tmp_path: Path) -> None:
    result = run_cli("scripts/make_template.py", "--out", str(tmp_path / "template.csv"))
    assert result.returncode == 0, result.stderr
    assert len(pd.read_csv(tmp_path / "template.csv")) == len(ROWS)
    result = run_cli("scripts/make_synthetic.py", "--students", "30", "--out", str(tmp_path / "s.parquet"))
    assert result.returncode == 0, result.stderr
    frame = pd.read_parquet(tmp_path / "s.parquet")
    assert frame["student_id"].nunique() == 30 and "p_correct_true" in frame
    result = run_cli("scripts/make_synthetic.py", "--students", "0", "--out", str(tmp_path / "x.csv"))
    _assert_user_error(result, "n_students=0")


@pytest.mark.slow  # a benchmark script
def test_train_benchmark_prints_its_figures(tmp_path: Path) -> None:
    """scripts/bench_train.py runs the three interleaved loops and prints one JSON object."""
    result = run_cli(
        "scripts/bench_train.py", "--epochs", "2", f"paths.root_dir={tmp_path}", *TINY_CLI[:3],
        "model.net.hidden_dim=8", "data.batch_size=16",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["epochs_measured"] == 1 and figures["steps_per_epoch"] >= 2
    for arm in ("plain", "plain_same_step"):
        low, high = figures[f"vs_{arm}"]["ratio_step_median_ci95"]
        assert 0 < low <= figures[f"vs_{arm}"]["ratio_step_median"] <= high
    assert set(figures["epoch_s_median"]) == {"lightning", "plain", "plain_same_step"}


@pytest.mark.slow  # a benchmark script
def test_bench_train_position_check(tmp_path: Path) -> None:
    """--position-check runs three identical plain loops and reports the last one's ratios."""
    result = run_cli(
        "scripts/bench_train.py", "--position-check", "--epochs", "2", f"paths.root_dir={tmp_path}",
        *TINY_CLI[:3], "model.net.hidden_dim=8", "data.batch_size=16",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["benchmark"] == "train_epoch_position_check" and figures["epochs_measured"] == 1
    for name in ("first", "second"):
        low, high = figures[f"last_vs_{name}"]["ratio_step_median_ci95"]
        assert 0 < low <= figures[f"last_vs_{name}"]["ratio_step_median"] <= high


def test_train_cli_end_to_end(tmp_path: Path) -> None:
    result = run_cli("train.py", *TINY_CLI, f"paths.root_dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    runs = list((tmp_path / "logs" / "train" / "runs").iterdir())
    assert len(runs) == 1
    run = runs[0]
    for name in ("metrics.json", "curves.png", ".hydra/config.yaml", "checkpoints/best.ckpt", "train.log"):
        assert (run / name).exists(), name
    result = run_cli(
        "eval.py", f"ckpt_path={run / 'checkpoints' / 'best.ckpt'}", f"paths.root_dir={tmp_path}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert list((tmp_path / "logs" / "eval" / "runs").glob("*/metrics.json"))


@pytest.mark.slow
def test_basic_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Launched from another folder, without KTLAB_ROOT: outputs go under the launch folder."""
    monkeypatch.delenv("KTLAB_ROOT", raising=False)
    result = run_cli(str(ROOT / "train.py"), "-m", "model.net.hidden_dim=8,16", *TINY_CLI[:-1], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(list((tmp_path / "logs" / "train" / "multiruns").glob("*/*/metrics.json"))) == 2


@pytest.mark.slow
def test_optuna_sweep(tmp_path: Path) -> None:
    result = run_cli(str(ROOT / "train.py"), "hparams_search=dkt_optuna", "hydra.sweeper.n_trials=2",
                     "hydra.sweeper.sampler.n_startup_trials=1", *TINY_CLI, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    best = list((tmp_path / "logs" / "train" / "multiruns").glob("*/optimization_results.yaml"))
    assert best and "best_value" in best[0].read_text()


@pytest.mark.slow
def test_ddp_two_cpu_processes(tmp_path: Path) -> None:
    result = run_cli("train.py", "trainer=ddp", *TINY_CLI, "trainer.max_epochs=2", "data.batch_size=8",
                     f"paths.root_dir={tmp_path}")  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    runs = list((tmp_path / "logs" / "train" / "runs").glob("*/metrics.json"))
    assert len(runs) == 1
    assert "test/auc" in runs[0].read_text()
    # Both processes run the set-up; its information lines come from rank zero only.
    output = result.stdout + result.stderr
    for line in ("Instantiating datamodule", "encoder fitted", "Starting training"):
        assert output.count(line) == 1, line


def _check_message(capsys, config_name: str, *argv: str) -> str:
    with pytest.raises(SystemExit) as info:
        check_command_line(CONF_DIR, config_name, list(argv))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Invalid command line: ") and "Traceback" not in err
    return err.replace("\n", " ")


def test_a_misspelt_key_is_answered_with_its_neighbours(capsys) -> None:
    """The key, its path and the keys spelled alike come from omegaconf's error, not from its text."""
    message = _check_message(capsys, "train", "model=dkt", "model.net.hiden_dim=3")
    assert "model.net.hiden_dim: the config has no such key (did you mean model.net.hidden_dim?)" in message
    assert "+model.net.hiden_dim=VALUE" in message
    message = _check_message(capsys, "train", "trainer.max_epoch=2")
    assert "(did you mean trainer.max_epochs or trainer.min_epochs?)" in message


def test_an_unknown_option_or_config_names_what_exists(capsys) -> None:
    message = _check_message(capsys, "train", "hparams_search=nope")
    assert (
        "hparams_search=nope: no such option of the 'hparams_search' config group; choose one of " in message
    )
    assert "dkt_optuna" in message
    assert "no config named 'trian'." in _check_message(capsys, "trian")


def test_every_ktlab_command_answers_a_misspelt_key(tmp_path: Path) -> None:
    """Each Hydra command checks its command line first (before loading a model or a training library)."""
    for command, key in (("train", "trainer.max_epoch"), ("eval", "ckpt_pth"), ("predict", "batch_sise"),
                         ("estimate-difficulty", "batch_sise")):  # fmt: skip
        result = run_cli(
            "-m", "ktlab", command, f"{key}=3", cwd=tmp_path, env={"PYTHONPATH": str(ROOT / "src")}
        )
        _assert_user_error(result, f"{key}: the config has no such key (did you mean")
        assert not (tmp_path / "logs").exists()
