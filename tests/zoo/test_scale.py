"""Runs past one machine: a two-job sweep through Hydra's submitit launcher, and the SLURM preset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import recomputed_test_auc, run_cli
from tests.zoo.conftest import KT

TINY_BENCH = [
    "data=statics2011",
    f"paths.data_dir={KT}",
    "data.max_len=64",
    "model=dkt",
    "model.net.embed_dim=8",
    "model.net.hidden_dim=8",
    "trainer.max_epochs=1",
    "callbacks.progress_bar=null",
]


@pytest.mark.slow
def test_two_job_sweep_through_submitit_local(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    done = run_cli(
        "train.py", "-m", "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10", "seed=1,2",
        f"hydra.sweep.dir={sweep}", f"paths.log_dir={tmp_path / 'logs'}", *TINY_BENCH,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    aucs = [json.loads((sweep / job / "metrics.json").read_text())["test/auc"] for job in ("0", "1")]
    assert aucs[0] != aucs[1]  # each job ran its own seed
    assert aucs[0] == pytest.approx(recomputed_test_auc(sweep / "0"), abs=1e-4)
    assert list((sweep / ".submitit").iterdir())  # the launcher's own job folders


def test_slurm_preset_takes_partition_gpus_time_and_memory(make_cfg) -> None:
    cfg = make_cfg(
        "train", "hydra/launcher=slurm", "trainer=ddp", "trainer.devices=4", "trainer.num_nodes=2",
        "hydra.launcher.partition=gpu", "hydra.launcher.timeout_min=90", "hydra.launcher.mem_gb=64",
    )  # fmt: skip
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert (launcher.partition, launcher.timeout_min, launcher.mem_gb) == ("gpu", 90, 64)
    assert (launcher.gpus_per_node, launcher.tasks_per_node, launcher.nodes) == (4, 4, 2)
