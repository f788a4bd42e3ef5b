"""Epoch metrics against torchmetrics' reference implementations, and the optimizer kernel choice."""

from __future__ import annotations

import functools
import math

import pytest
import torch
from torchmetrics.functional.classification import binary_accuracy, binary_auroc

from ktlab.models.losses import masked_bce_with_logits
from ktlab.models.metrics import ExactAUC, LogitAccuracy, MeanLoss, binary_auc
from ktlab.models.optim import build_optimizer


def _scores(n: int, seed: int, tie_step: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, generator=generator) * 2
    labels = (torch.rand(n, generator=generator) < torch.sigmoid(logits)).float()
    if tie_step is not None:
        logits = (logits / tie_step).round() * tie_step
    return logits, labels


@pytest.mark.parametrize(("n", "tie_step"), [(7, None), (500, None), (500, 0.5), (20_000, 0.05)])
def test_auc_matches_torchmetrics_with_and_without_ties(n: int, tie_step: float | None) -> None:
    logits, labels = _scores(n, seed=n, tie_step=tie_step)
    assert float(binary_auc(logits, labels)) == pytest.approx(
        float(binary_auroc(torch.sigmoid(logits.double()), labels.long())), abs=1e-6
    )


def test_auc_extremes_and_single_class() -> None:
    labels = torch.tensor([0.0, 0.0, 1.0, 1.0])
    assert float(binary_auc(torch.tensor([0.1, 0.2, 0.3, 0.4]), labels)) == 1.0
    assert float(binary_auc(torch.tensor([0.4, 0.3, 0.2, 0.1]), labels)) == 0.0
    assert float(binary_auc(torch.zeros(4), labels)) == 0.5  # all tied: half of every pair
    assert math.isnan(float(binary_auc(torch.rand(5), torch.ones(5))))


def test_epoch_metrics_equal_the_whole_epoch_values() -> None:
    """Updated batch by batch, they give the values computed over the epoch's answers at once."""
    logits, labels = _scores(3000, seed=1)
    loss_metric, acc_metric, auc_metric = MeanLoss(), LogitAccuracy(), ExactAUC()
    for part_logits, part_labels in zip(logits.split(700), labels.split(700), strict=True):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(part_logits, part_labels)
        loss_metric.update(loss, part_labels.numel())
        acc_metric.update(part_logits, part_labels)
        auc_metric.update(part_logits, part_labels)
    whole_loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    assert float(loss_metric.compute()) == pytest.approx(float(whole_loss), rel=1e-6)
    assert float(acc_metric.compute()) == pytest.approx(
        float(binary_accuracy(torch.sigmoid(logits), labels.long())), abs=1e-7
    )
    assert float(auc_metric.compute()) == pytest.approx(float(binary_auc(logits, labels)), abs=1e-7)
    for metric in (loss_metric, acc_metric, auc_metric):
        metric.reset()
    with pytest.warns(UserWarning, match="before the ``update``"):
        assert math.isnan(float(auc_metric.compute()))


def _params() -> list[torch.nn.Parameter]:
    torch.manual_seed(0)
    return list(torch.nn.Linear(4, 3).parameters())


def test_fused_kernel_when_the_config_leaves_the_choice_open() -> None:
    factory = functools.partial(torch.optim.AdamW, lr=0.01)
    assert build_optimizer(factory, _params(), allow_fused=True).defaults["fused"] is True
    assert not build_optimizer(factory, _params(), allow_fused=False).defaults["fused"]
    chosen = functools.partial(torch.optim.AdamW, lr=0.01, foreach=True)
    optimizer = build_optimizer(chosen, _params(), allow_fused=True)
    assert optimizer.defaults["foreach"] is True and not optimizer.defaults["fused"]
    # An optimizer without a fused kernel is built as configured.
    rmsprop = build_optimizer(functools.partial(torch.optim.RMSprop, lr=0.01), _params(), allow_fused=True)
    assert isinstance(rmsprop, torch.optim.RMSprop) and "fused" not in rmsprop.defaults


def test_fused_and_default_kernels_take_the_same_steps() -> None:
    results = []
    for allow_fused in (True, False):
        params = _params()
        optimizer = build_optimizer(
            functools.partial(torch.optim.AdamW, lr=0.01, weight_decay=0.01), params, allow_fused
        )
        for step in range(5):
            for p in params:
                p.grad = torch.full_like(p, 0.1 * (step + 1))
            optimizer.step()
        results.append(torch.cat([p.detach().flatten() for p in params]))
    torch.testing.assert_close(results[0], results[1], rtol=1e-5, atol=1e-6)


def test_auc_treats_signed_zeros_as_a_tie_and_nan_scores_as_undefined() -> None:
    labels = torch.tensor([0.0, 1.0, 0.0, 1.0])
    scores = torch.tensor([-0.0, 0.0, -1.0, 1.0])
    # pairs: (0.0 vs -0.0) tie, (0.0 vs -1.0) win, (1.0 vs both) wins -> 3.5 of 4
    assert float(binary_auc(scores, labels)) == 0.875
    assert math.isnan(float(binary_auc(torch.tensor([0.1, float("nan"), 0.3, 0.2]), labels)))


def test_masked_updates_equal_updates_on_the_selected_answers() -> None:
    """Passing a ``scored`` mask gives the values of updating with the scored answers alone."""
    logits, labels = _scores(64 * 50, seed=3, tie_step=0.1)
    logits, labels = logits.view(64, 50), labels.view(64, 50)
    generator = torch.Generator().manual_seed(4)
    scored = torch.rand(64, 50, generator=generator) < 0.8
    masked = (LogitAccuracy(), ExactAUC())
    selected = (LogitAccuracy(), ExactAUC())
    for rows in torch.arange(64).split(16):
        for metric in masked:
            metric.update(logits[rows], labels[rows], scored[rows])
        for metric in selected:
            metric.update(logits[rows][scored[rows]], labels[rows][scored[rows]])
    for with_mask, without in zip(masked, selected, strict=True):
        assert float(with_mask.compute()) == float(without.compute())
    assert float(selected[1].compute()) == pytest.approx(
        float(binary_auroc(torch.sigmoid(logits[scored].double()), labels[scored].long())), abs=1e-6
    )


def test_masked_loss_is_the_mean_over_scored_positions() -> None:
    logits, labels = _scores(8 * 30, seed=5)
    logits, labels = logits.view(8, 30).requires_grad_(), labels.view(8, 30)
    scored = torch.rand(8, 30, generator=torch.Generator().manual_seed(6)) < 0.7
    loss, count = masked_bce_with_logits(logits, labels, scored)
    reference = torch.nn.functional.binary_cross_entropy_with_logits(logits[scored], labels[scored])
    assert int(count) == int(scored.sum())
    assert loss.item() == pytest.approx(reference.item(), rel=1e-6)
    (grad,) = torch.autograd.grad(loss, logits)
    (reference_grad,) = torch.autograd.grad(reference, logits)
    torch.testing.assert_close(grad, reference_grad)
    assert not grad[~scored].any()
    empty, none = masked_bce_with_logits(logits, labels, torch.zeros_like(scored))
    assert empty.item() == 0.0 and none.item() == 0


def test_auc_equals_counting_every_pair() -> None:
    """Signs, infinities, zeros of both signs and ties: the same value as comparing every pair."""
    generator = torch.Generator().manual_seed(8)
    pool = torch.tensor([float("-inf"), -1e30, -2.5, -1e-30, -0.0, 0.0, 1e-30, 0.75, 3.0, 1e30, float("inf")])
    for _ in range(20):
        scores = pool[torch.randint(len(pool), (60,), generator=generator)]
        scores = torch.where(
            torch.rand(60, generator=generator) < 0.5, scores, torch.randn(60, generator=generator)
        )
        labels = (torch.rand(60, generator=generator) < 0.5).float()
        pos, neg = scores[labels == 1], scores[labels == 0]
        wins = (pos[:, None] > neg[None, :]).double().sum() + 0.5 * (
            pos[:, None] == neg[None, :]
        ).double().sum()
        assert float(binary_auc(scores, labels)) == pytest.approx(
            float(wins) / (len(pos) * len(neg)), abs=1e-12
        )
