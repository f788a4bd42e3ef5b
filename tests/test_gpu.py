"""Accelerator runs: skipped without the hardware, run as-is where it exists."""

from __future__ import annotations

import pytest

from ktlab.train import train


@pytest.mark.requires_cuda
@pytest.mark.parametrize("model", ["dkt_gru", "dkt"])  # a GRU and an LSTM (cuDNN's bf16 kernels)
def test_gpu_bf16_run(make_cfg, model: str) -> None:
    metrics = train(make_cfg("train", "trainer=gpu", f"model={model}"))
    assert 0.0 <= metrics["test/auc"] <= 1.0


@pytest.mark.requires_mps
def test_mps_run(make_cfg) -> None:
    metrics = train(make_cfg("train", "trainer=mps"))
    assert 0.0 <= metrics["test/auc"] <= 1.0
