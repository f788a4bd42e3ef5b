"""pyKT's early fusion: a network's row features averaged over a question's concept rows, then its
output layer once (SAKT exposes them; the skill rate does not)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
import torch

from ktlab.data.pykt.datamodule import PyktDataModule
from ktlab.evaluation.pykt import EARLY, collect_rows, fused_questions, pykt_test_metrics
from ktlab.models.components.sakt import SAKT
from ktlab.models.components.skill_rate import SkillRate
from tests.pykt.conftest import FIXTURE

WINDOWS = "test_question_window_sequences"  # every scored row is fused (no leftover rows left out)


@pytest.fixture(scope="module")
def data() -> PyktDataModule:
    module = PyktDataModule(dir=str(FIXTURE), max_len=20)
    module.setup()
    return module


def network(data: PyktDataModule) -> SAKT:
    torch.manual_seed(0)
    return SAKT(data.sizes["n_skills"], dim=16, n_heads=2, max_len=32).eval()


def rows_by_question(rows: dict[str, np.ndarray]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = defaultdict(list)
    for i, qidx in enumerate(rows["qidx"]):
        groups[int(qidx)].append(i)
    return groups


def test_row_features_through_the_output_layer_are_the_forward_logits(data: PyktDataModule) -> None:
    net = network(data)
    batch = next(iter(data.sequence_loader(WINDOWS)))
    with torch.no_grad():
        assert torch.equal(net.row_logits(net.row_features(batch)), net(batch))


def test_a_one_row_question_keeps_its_rows_prediction(data: PyktDataModule) -> None:
    net = network(data)
    rows = collect_rows(net, data.sequence_loader(WINDOWS), with_questions=True, features=True)
    fused = fused_questions(rows, net)
    groups = rows_by_question(rows)
    single = [i for i, q in enumerate(fused["qidx"]) if len(groups[int(q)]) == 1]
    assert len(single) > 10
    np.testing.assert_allclose(fused[EARLY][single], fused["late_vote"][single], atol=1e-6)


def test_with_a_linear_output_layer_early_fusion_averages_the_logits(data: PyktDataModule) -> None:
    net = network(data)  # SAKT's output layer is linear: mean of features -> mean of logits
    rows = collect_rows(net, data.sequence_loader(WINDOWS), with_questions=True, features=True)
    fused = fused_questions(rows, net)
    groups = rows_by_question(rows)
    p = rows["p"].astype(np.float64)
    logits = np.log(p) - np.log1p(-p)
    want = [1 / (1 + np.exp(-logits[groups[int(q)]].mean())) for q in fused["qidx"]]
    assert sum(len(groups[int(q)]) > 1 for q in fused["qidx"]) > 10
    np.testing.assert_allclose(fused[EARLY], want, atol=2e-6)
    assert not np.allclose(fused[EARLY], fused["late_mean"], atol=1e-3)  # not the late mean


def test_the_metric_keys_follow_the_network(data: PyktDataModule) -> None:
    with_early = pykt_test_metrics(network(data), data)
    early_keys = {f"test/{view}{metric}{EARLY}" for view in ("ori", "window") for metric in ("auc", "acc")}
    assert early_keys <= set(with_early) and all(0 < with_early[key] < 1 for key in early_keys)
    assert len(with_early) == 24
    without = pykt_test_metrics(SkillRate(), data)  # no row features: pyKT's 20 only
    assert len(without) == 20 and not early_keys & set(without)
