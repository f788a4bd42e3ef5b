"""The attention of simpleKT and sparseKT: dense equals its weights, top-K and soft-thresholding keep the
weights they should, and simpleKT's problem difficulties."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torchmetrics.functional.classification import binary_auroc

from ktlab.errors import ConfigError
from ktlab.models.components.past_attention import PastAttention, SparseSelection, sinusoid_positions
from ktlab.models.components.simplekt import SimpleKT
from ktlab.models.components.sparsekt import SparseKT

T = 12


def _pair(selection: SparseSelection) -> tuple[PastAttention, PastAttention, torch.Tensor]:
    """A sparse attention, its dense twin (same weights) and an input ``[2, T, 8]``."""
    torch.manual_seed(0)
    sparse = PastAttention(8, 2, 0.0, selection).eval()
    dense = PastAttention(8, 2, 0.0).eval()
    dense.load_state_dict(sparse.state_dict())
    return sparse, dense, torch.randn(2, T, 8) * 3


def test_dense_attention_is_its_weights_times_the_values_and_the_first_step_reads_zeros() -> None:
    _, dense, x = _pair(SparseSelection())
    values = torch.randn(2, T, 8)
    weights = dense.weights(x, x)  # [B, H, T, T]
    assert torch.all(weights[..., 0, :] == 0)
    torch.testing.assert_close(weights[..., 1:, :].sum(-1), torch.ones(2, 2, T - 1))
    assert torch.all(weights.triu() == 0)  # no step reads itself or a later step
    v = dense._heads(dense.v(values))
    expected = dense.out((weights @ v).transpose(1, 2).reshape(2, T, 8))
    torch.testing.assert_close(dense(x, x, values), expected)


def test_top_k_keeps_the_k_largest_earlier_weights() -> None:
    sparse, dense, x = _pair(SparseSelection(mode="topk", k=3, rescale="sum"))
    full, kept = dense.weights(x, x), sparse.weights(x, x)
    torch.testing.assert_close(kept[..., :4, :], full[..., :4, :])  # at most 3 earlier steps: untouched
    rows = kept[..., 4:, :]
    assert torch.all((rows > 0).sum(-1) == 3)
    largest = full[..., 4:, :].topk(3, dim=-1).indices
    assert torch.all(rows.gather(-1, largest) > 0)
    torch.testing.assert_close(rows.sum(-1), torch.ones_like(rows.sum(-1)))
    # "sum" re-normalisation: the kept weights keep their ratios
    top = full[..., 4:, :].gather(-1, largest)
    torch.testing.assert_close(rows.gather(-1, largest), top / top.sum(-1, keepdim=True))


@pytest.mark.parametrize("ratio", [0.3, 0.8])
def test_soft_thresholding_keeps_the_fewest_largest_weights_that_reach_the_ratio(ratio: float) -> None:
    sparse, dense, x = _pair(SparseSelection(mode="soft", ratio=ratio))
    full, kept = dense.weights(x, x), sparse.weights(x, x)
    chosen = kept[..., 1:, :] > 0
    mass = (full[..., 1:, :] * chosen).sum(-1)
    smallest = full[..., 1:, :].masked_fill(~chosen, math.inf).amin(-1)
    assert torch.all(mass >= ratio - 1e-6)  # they reach the ratio ...
    assert torch.all(mass - smallest < ratio)  # ... and one fewer would not
    left_out = full[..., 1:, :].masked_fill(chosen, -math.inf).amax(-1)
    assert torch.all(left_out <= smallest)  # every weight left out is at most the smallest kept
    assert torch.all(kept.triu() == 0)


def test_softmax_rescale_is_the_softmax_of_the_kept_weights() -> None:
    sparse, dense, x = _pair(SparseSelection(mode="topk", k=2, rescale="softmax"))
    full, kept = dense.weights(x, x)[0, 0, T - 1], sparse.weights(x, x)[0, 0, T - 1]
    top = full.topk(2)
    torch.testing.assert_close(kept[top.indices], torch.softmax(top.values, dim=0))
    assert int((kept > 0).sum()) == 2


def test_sparse_attention_passes_gradients_through_the_kept_weights() -> None:
    """(A row that keeps a single weight gives it 1 whatever the scores: no gradient there.)"""
    sparse, _, _ = _pair(SparseSelection(mode="soft", ratio=0.8))
    x = torch.randn(2, T, 8, requires_grad=True)
    sparse.train()(x, x, torch.randn(2, T, 8)).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_sine_cosine_positions() -> None:
    codes = sinusoid_positions(5, 7, torch.device("cpu"))
    assert codes.shape == (5, 7)
    torch.testing.assert_close(codes[0], torch.tensor([0.0, 1, 0, 1, 0, 1, 0]))
    torch.testing.assert_close(codes[:, 0], torch.sin(torch.arange(5.0)))
    torch.testing.assert_close(codes[:, 1], torch.cos(torch.arange(5.0)))


def _batch() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return {
        "skill": torch.randint(1, 10, (2, T), generator=g),
        "problem": torch.randint(1, 31, (2, T), generator=g),
        "correct": torch.randint(0, 2, (2, T), generator=g).float(),
        "mask": torch.ones(2, T, dtype=torch.bool),
    }


@pytest.mark.parametrize("vector", [True, False])
def test_simplekt_difficulty_moves_its_own_step_and_its_penalty_is_the_aux_loss(vector: bool) -> None:
    torch.manual_seed(0)
    net = SimpleKT(9, n_problems=30, dim=16, n_heads=2, ff_dim=16, head_dim=16, vector_difficulty=vector)
    net.rasch_l2 = 0.5
    batch = _batch()
    before = net.eval()(batch)
    problem = int(batch["problem"][1, 6])
    with torch.no_grad():
        net.difficulty.weight[problem] = 1.0
    after = net(batch)
    first = (batch["problem"][1] == problem).nonzero()[0].item()
    assert torch.equal(before[1, :first], after[1, :first])  # no earlier step sees the problem
    assert not torch.allclose(before[1, first], after[1, first])  # its own question moved
    out = net.train()(batch)
    assert float(out.aux_loss.detach()) == pytest.approx(0.5 * (16 if vector else 1))
    assert isinstance(SimpleKT(9, n_problems=30, dim=16, n_heads=2).train()(batch), torch.Tensor)  # l2 = 0


def test_simplekt_without_problem_ids_ignores_them() -> None:
    torch.manual_seed(0)
    net = SimpleKT(9, dim=16, n_heads=2, ff_dim=16, head_dim=16).eval()
    batch = _batch()
    without = {k: v for k, v in batch.items() if k != "problem"}
    torch.testing.assert_close(net(batch), net(without))


def test_sparsekt_names_its_bad_arguments() -> None:
    with pytest.raises(ConfigError, match=r"mode.*choose one of topk, soft.*ratio.*\(0, 1\]"):
        SparseKT(9, mode="top", ratio=0.0)


def _ability_data(n: int, seed: int, t: int = 30, k: int = 5) -> dict[str, torch.Tensor]:
    """Learners who answer each skill always right or always wrong, with 10% of answers flipped."""
    g = torch.Generator().manual_seed(seed)
    skill = torch.randint(1, k + 1, (n, t), generator=g)
    right = (torch.rand(n, k + 1, generator=g) < 0.5).gather(1, skill).float()
    flipped = torch.rand(n, t, generator=g) < 0.1
    return {
        "skill": skill,
        "correct": torch.where(flipped, 1 - right, right),
        "mask": torch.ones(n, t).bool(),
    }


@pytest.mark.slow
@pytest.mark.parametrize("mode", [None, "topk", "soft"])
def test_simplekt_and_sparsekt_learn_each_learners_skill_from_the_earlier_answers(mode: str | None) -> None:
    """Only the earlier answers on the same skill tell the answer: attention must find them."""
    torch.manual_seed(0)
    sizes = {"dim": 32, "n_heads": 2, "ff_dim": 32, "head_dim": 32}
    net = SimpleKT(5, **sizes) if mode is None else SparseKT(5, mode=mode, **sizes)
    train, test = _ability_data(512, seed=0), _ability_data(256, seed=1)
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)
    for _ in range(300):
        rows = torch.randint(0, 512, (64,))
        logits = net.train()({key: value[rows] for key, value in train.items()})
        loss = F.binary_cross_entropy_with_logits(logits[:, 1:], train["correct"][rows, 1:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        scores = net.eval()(test)[:, 10:].flatten()
    assert binary_auroc(scores, test["correct"][:, 10:].flatten().long()) > 0.85  # 0.5: no memory of skills
