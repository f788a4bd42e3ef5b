"""Accelerator runs: skipped without the hardware, run as-is where it exists."""

from __future__ import annotations

import pytest

from ktlab.train import train

#: A tiny run that learns beyond chance on any device (tests/test_train.py::test_learns_beyond_chance).
LEARNS = ("data.source.n_students=300", "trainer.max_epochs=4", "model.net.hidden_dim=32")


@pytest.mark.requires_cuda
@pytest.mark.parametrize("model", ["dkt_gru", "dkt"])  # a GRU and an LSTM (cuDNN's bf16 kernels)
def test_gpu_bf16_run(make_cfg, model: str) -> None:
    metrics = train(make_cfg("train", "trainer=gpu", f"model={model}", *LEARNS))
    assert metrics["test/auc"] > 0.62  # what the same run reaches on a CPU (tests/test_train.py)


@pytest.mark.requires_mps
def test_mps_run(make_cfg) -> None:
    metrics = train(make_cfg("train", "trainer=mps", *LEARNS))
    assert metrics["test/auc"] > 0.62
