"""Recurrent cells under CPU autocast train on any x86-64 CPU, with or without oneDNN's low-precision kernels.

Each test finds out for itself whether the CPU it runs on has the kernel (a bare cell under autocast), so
it checks the path that CPU takes. ``ONEDNN_MAX_CPU_ISA=AVX2`` makes oneDNN behave as on a CPU without
AVX-512 (it is read once, when oneDNN starts, hence the subprocesses).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from ktlab.models.components.cell_autocast import autocast_runs, run_cell
from tests.conftest import recomputed_test_auc, run_cli

#: Prints whether a bare LSTM runs under CPU bfloat16 autocast in the process it runs in.
BARE_LSTM = """
import torch
cell = torch.nn.LSTM(4, 4, batch_first=True)
try:
    with torch.autocast("cpu", dtype=torch.bfloat16):
        cell(torch.zeros(1, 2, 4))
    print("runs")
except RuntimeError:
    print("fails")
"""
AVX2_ONLY = {"ONEDNN_MAX_CPU_ISA": "AVX2", "OMP_NUM_THREADS": "1"}
FALLBACK_LINE = "under autocast the recurrent cells run in float32"


def _bare_cell_runs(cell_type: type[nn.RNNBase], dtype: torch.dtype) -> bool:
    """This test's own look at the CPU: does a bare cell run under CPU autocast to ``dtype``?"""
    try:
        with torch.autocast("cpu", dtype=dtype):
            states, _ = cell_type(3, 3, batch_first=True)(torch.zeros(1, 2, 3))
        states.float().sum().backward()
    except RuntimeError:
        return False
    return True


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("cell_type", [nn.LSTM, nn.GRU])
def test_a_cell_runs_under_cpu_autocast_whether_or_not_the_cpu_has_its_kernel(cell_type, dtype) -> None:
    """Where the bare cell fails (float16 LSTMs on most CPUs, bfloat16 ones without AVX-512) the cell runs
    in float32 and gives exactly the float32 states; elsewhere it runs as autocast has it."""
    native = _bare_cell_runs(cell_type, dtype)
    assert autocast_runs(cell_type, dtype) is native
    torch.manual_seed(0)
    cell = cell_type(6, 5, batch_first=True)
    inputs = torch.randn(3, 7, 6)
    with torch.autocast("cpu", dtype=dtype):
        states = run_cell(cell, inputs)  # [3, 7, 5]
        states.float().sum().backward()
    assert states.shape == (3, 7, 5) and all(p.grad is not None for p in cell.parameters())
    if native:
        with torch.autocast("cpu", dtype=dtype):
            assert states.dtype == cell(inputs)[0].dtype
    else:
        assert states.dtype == torch.float32 and torch.equal(states, cell(inputs)[0])


def test_asking_the_cpu_leaves_the_seeded_random_stream_alone() -> None:
    autocast_runs.cache_clear()
    torch.manual_seed(3)
    autocast_runs(nn.LSTM, torch.bfloat16)
    drawn = torch.rand(4)
    torch.manual_seed(3)
    assert torch.equal(drawn, torch.rand(4))


def test_dkt_trains_under_bf16_autocast_where_onednn_has_no_bf16_lstm(tmp_path: Path) -> None:
    """With oneDNN capped to AVX2 a bare LSTM fails under bf16 autocast; DKT (an LSTM) still trains and
    tests under ``trainer.precision=bf16-mixed``, its cell in float32, and the log says so once."""
    bare = run_cli("-c", BARE_LSTM, env=AVX2_ONLY)
    assert bare.returncode == 0, bare.stderr[-2000:]
    run_dir = tmp_path / "run"
    result = run_cli(
        "train.py", "model=dkt", "trainer.precision=bf16-mixed", "trainer.max_epochs=1",
        "data.source.n_students=60", "data.source.min_len=10", "data.source.max_len=20",
        "model.net.hidden_dim=8", "model.net.embed_dim=8", "callbacks.progress_bar=null",
        f"paths.root_dir={tmp_path}", f"hydra.run.dir={run_dir}", env=AVX2_ONLY,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert math.isfinite(metrics["test/loss"])
    # the run tested the checkpoint it kept (recomputed here in float32: bfloat16 moves the last digits)
    assert metrics["test/auc"] == pytest.approx(recomputed_test_auc(run_dir), abs=0.02)
    log = (run_dir / "train.log").read_text()
    assert log.count(FALLBACK_LINE) == (1 if bare.stdout.strip() == "fails" else 0)


@pytest.mark.slow  # a text run in a subprocess, about 15 s
def test_the_text_family_trains_under_bf16_autocast_where_onednn_has_no_bf16_kernels(tmp_path: Path) -> None:
    """ModernBERT has no recurrent cell: capped to AVX2, oneDNN's generic kernels run it in bfloat16."""
    from tests.text.conftest import TINY_TEXT

    run_dir = tmp_path / "run"
    result = run_cli(
        "train.py", *TINY_TEXT, "trainer.precision=bf16-mixed", "model.export_dir=null",
        f"paths.root_dir={tmp_path}", f"hydra.run.dir={run_dir}", env=AVX2_ONLY,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert math.isfinite(metrics["test/loss"]) and 0.0 <= metrics["test/auc"] <= 1.0
