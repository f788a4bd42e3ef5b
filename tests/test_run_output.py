"""What a run tells its user: one line per epoch, one summary line, the curves, and no alarming noise."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from ktlab.callbacks.curves import LearningCurves
from ktlab.train import train
from tests.conftest import ROOT, TINY_DATA, TINY_MODEL, compose_config, run_cli

TINY_CLI = [
    "data.source.n_students=60",
    "data.source.min_len=10",
    "data.source.max_len=20",
    "model.net.hidden_dim=8",
]
EPOCH_LINE = re.compile(
    r"epoch (\d+)/(\d+): train loss \d\.\d{4} auc \d\.\d{4} \| val loss \d\.\d{4} auc \d\.\d{4}"
)


def test_train_log_has_a_line_per_epoch_and_one_summary_and_no_progress_bar(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = run_cli("train.py", *TINY_CLI, "trainer.max_epochs=3", f"paths.root_dir={tmp_path}",
                     f"hydra.run.dir={run}")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    log = (run / "train.log").read_text()
    epochs = [m.groups() for m in EPOCH_LINE.finditer(log)]
    assert epochs == [("1", "3"), ("2", "3"), ("3", "3")]
    summaries = [line for line in log.splitlines() if "Run finished:" in line]
    assert len(summaries) == 1
    summary = summaries[0]
    assert re.search(r"best epoch [123] of 3, val/auc \d\.\d{4}", summary)
    assert "stopped: max_epochs=3 reached" in summary
    for name in ("test acc", "auc", "loss", "oracle_auc"):
        assert re.search(rf"[ ;,]{name} \d\.\d{{4}}", summary), name
    assert f"files in {run}" in summary
    # the output is not a terminal: no progress bar redraws in it
    output = result.stdout + result.stderr
    assert "it/s" not in output and not re.search(r"(Epoch \d+/\d+|Testing) +━", output)
    result = run_cli(
        "eval.py", f"ckpt_path={run / 'checkpoints' / 'best.ckpt'}", f"paths.root_dir={tmp_path}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "it/s" not in result.stdout + result.stderr  # nor Lightning's own (tqdm) bar in eval.py


def test_summary_names_early_stopping(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = compose_config(
        "train",
        [*TINY_DATA, *TINY_MODEL, "model.optimizer.lr=0.2", "trainer.max_epochs=8",
         "callbacks.early_stopping.patience=1", "callbacks.progress_bar=null"],
        tmp_path,
    )  # fmt: skip
    with caplog.at_level(logging.INFO, logger="ktlab"):
        train(cfg)
    summary = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Run finished:")]
    assert len(summary) == 1
    found = re.search(
        r"stopped: early stopping at epoch (\d) \(val/auc did not improve for 1 validations\)", summary[0]
    )
    assert found and int(found.group(1)) < 8, summary[0]
    epoch_lines = [r.getMessage() for r in caplog.records if EPOCH_LINE.match(r.getMessage())]
    assert len(epoch_lines) == int(found.group(1))


def test_curves_mark_the_best_epoch_and_the_oracle_with_integer_epochs(tmp_path: Path) -> None:
    curves = LearningCurves(str(tmp_path))
    for epoch, (train_auc, val_auc) in enumerate([(0.6, 0.62), (0.7, 0.71), (0.75, 0.69)]):
        curves.history["train/auc"].append((epoch, train_auc))
        curves.history["val/auc"].append((epoch, val_auc))
        curves.history["train/loss"].append((epoch, 0.7 - 0.01 * epoch))
        curves.history["val/loss"].append((epoch, 0.69 - 0.01 * epoch))
        curves.history["val/oracle_auc"].append((epoch, 0.8))
    curves.history["test/oracle_auc"] = [(2, 0.79)]
    assert curves.best_epoch() == 1
    fig = curves.figure()
    loss_ax, auc_ax = fig.axes
    _, labels = auc_ax.get_legend_handles_labels()
    assert "best epoch (2)" in labels
    assert "oracle AUC, val (0.800)" in labels and "oracle AUC, test (0.790)" in labels
    assert "best epoch (2)" in loss_ax.get_legend_handles_labels()[1]
    fig.canvas.draw()
    ticks = [t for t in auc_ax.get_xticks() if auc_ax.get_xlim()[0] <= t <= auc_ax.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)
    assert curves.draw().stat().st_size > 5_000
    # a monitor to minimize (val/loss) is read the other way
    curves.monitor, curves.mode = "val/loss", "min"
    assert curves.best_epoch() == 2


@pytest.mark.slow
def test_an_optuna_sweep_prints_no_alembic_plugin_lines(tmp_path: Path) -> None:
    result = run_cli(str(ROOT / "train.py"), "hparams_search=dkt_optuna", "hydra.sweeper.n_trials=1",
                     "hydra.sweeper.sampler.n_startup_trials=1", *TINY_CLI, "trainer.max_epochs=1",
                     cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "Best value" in output
    assert "alembic" not in output
    for log in (tmp_path / "logs").rglob("*.log"):
        assert "alembic" not in log.read_text(), log


@pytest.mark.slow
def test_ddp_runs_print_no_sync_dist_warnings(tmp_path: Path) -> None:
    result = run_cli("train.py", "trainer=ddp", *TINY_CLI, "trainer.max_epochs=2", "data.batch_size=8",
                     "+callbacks.epoch_time._target_=ktlab.callbacks.epoch_time.EpochTime",
                     f"paths.root_dir={tmp_path}")  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    output = result.stdout + result.stderr
    assert "sync_dist" not in output
    assert len(re.findall(r"Run finished:", output)) == 1
