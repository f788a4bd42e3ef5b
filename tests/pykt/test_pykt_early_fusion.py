"""pyKT's early fusion: a network's row features averaged over a question's concept rows, then its
output layer once. The networks checked are every option of ``conf/model/`` whose class exposes
``row_features`` and ``row_logits`` (SAKT, AKT, DKVMN, simpleKT and sparseKT; the skill rate does not)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
import torch
from hydra.utils import get_class

from ktlab.data.pykt.datamodule import PyktDataModule
from ktlab.evaluation.pykt import EARLY, collect_rows, fused_questions, pykt_test_metrics
from ktlab.models.components.sakt import SAKT
from ktlab.models.components.skill_rate import SkillRate
from ktlab.models.kt_module import build_network
from tests.pykt.conftest import FIXTURE
from tests.zoo.conftest import MODELS, SMALL, net_config

WINDOWS = "test_question_window_sequences"  # every scored row is fused (no leftover rows left out)


@pytest.fixture(scope="module")
def data() -> PyktDataModule:
    module = PyktDataModule(dir=str(FIXTURE), max_len=20, item_features=["skill_id", "problem_id"])
    module.setup()
    return module


def network(data: PyktDataModule) -> SAKT:
    torch.manual_seed(0)
    return SAKT(data.sizes["n_skills"], dim=16, n_heads=2, max_len=32).eval()


def _has_row_features(option: str) -> bool:
    cls = get_class(net_config(option, SMALL)["_target_"])
    return callable(getattr(cls, "row_features", None)) and callable(getattr(cls, "row_logits", None))


#: The options of conf/model/ with early fusion (found there: a new one needs no edit here).
NAMES = [option for option in MODELS if _has_row_features(option)]


def build(option: str, data: PyktDataModule) -> torch.nn.Module:
    """``conf/model/<option>.yaml``'s network at small sizes, with the fixture's skills and problems."""
    torch.manual_seed(0)
    return build_network(net_config(option, SMALL), data.sizes).eval()


def rows_by_question(rows: dict[str, np.ndarray]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = defaultdict(list)
    for i, qidx in enumerate(rows["qidx"]):
        groups[int(qidx)].append(i)
    return groups


def test_the_networks_with_early_fusion_are_found() -> None:
    assert {"sakt", "akt", "dkvmn", "simplekt", "sparsekt_topk", "sparsekt_soft"} <= set(NAMES)
    assert "skill_rate" not in NAMES and "dkt" not in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_row_features_through_the_output_layer_are_the_forward_logits(
    data: PyktDataModule, name: str
) -> None:
    net = build(name, data)
    batch = next(iter(data.sequence_loader(WINDOWS)))
    assert "problem" in batch and data.sizes["n_problems"] > 0
    with torch.no_grad():
        features = net.row_features(batch)
        assert features.shape[:2] == batch["skill"].shape and features.dim() == 3
        assert torch.equal(net.row_logits(features), net(batch))


def test_akt_training_forward_keeps_the_rasch_penalty(data: PyktDataModule) -> None:
    net = build("akt", data).train()
    with torch.no_grad():  # difficulties away from their zero start, so that the penalty is not 0
        net.rasch.difficulty.weight[1:].normal_(generator=torch.Generator().manual_seed(0))
    batch = next(iter(data.sequence_loader(WINDOWS)))
    torch.manual_seed(1)  # the same dropout draws on both paths
    out = net(batch)
    torch.manual_seed(1)
    composed = net.row_logits(net.row_features(batch))
    assert torch.equal(out.logits, composed)
    assert out.aux_loss.item() > 0
    assert torch.allclose(out.aux_loss, net.rasch_l2 * net.penalty(batch))


@pytest.mark.parametrize("name", NAMES)
def test_a_one_row_question_keeps_its_rows_prediction(data: PyktDataModule, name: str) -> None:
    net = build(name, data)
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


@pytest.mark.parametrize("name", NAMES)
def test_the_metric_keys_follow_the_network(data: PyktDataModule, name: str) -> None:
    early_keys = {f"test/{view}{metric}{EARLY}" for view in ("ori", "window") for metric in ("auc", "acc")}
    with_early = pykt_test_metrics(build(name, data), data)
    assert early_keys <= set(with_early) and all(0 < with_early[key] < 1 for key in early_keys)
    assert len(with_early) == 24


def test_a_network_without_row_features_gets_pyKTs_20_keys_only(data: PyktDataModule) -> None:
    without = pykt_test_metrics(SkillRate(), data)
    assert len(without) == 20 and not any(key.endswith(EARLY) for key in without)
