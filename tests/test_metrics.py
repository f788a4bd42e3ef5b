"""Epoch metrics (torchmetrics collections) against direct computations, the masked loss, the optimizer kernel."""

from __future__ import annotations

import functools
import math

import pytest
import torch
from torchmetrics.functional.classification import binary_accuracy, binary_auroc

from ktlab.errors import ConfigError
from ktlab.evaluation import binary_scores
from ktlab.evaluation.epoch_metrics import DefinedAUROC, stage_metrics
from ktlab.models.kt_module import KTLitModule
from ktlab.models.losses import masked_bce_with_logits
from ktlab.models.optim import build_optimizer


def _scores(n: int, seed: int, tie_step: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, generator=generator) * 2
    labels = (torch.rand(n, generator=generator) < torch.sigmoid(logits)).float()
    if tie_step is not None:
        logits = (logits / tie_step).round() * tie_step
    return logits, labels


def _pairwise_auc(scores: torch.Tensor, labels: torch.Tensor) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    wins = (pos[:, None] > neg[None, :]).double().sum() + 0.5 * (pos[:, None] == neg[None, :]).double().sum()
    return float(wins) / (len(pos) * len(neg))


def test_auc_equals_counting_every_pair() -> None:
    """Exact AUC with heavy ties and extreme values: the same value as comparing every pair."""
    generator = torch.Generator().manual_seed(8)
    pool = torch.tensor([0.0, 1e-30, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0 - 1e-7, 1.0])
    for _ in range(20):
        scores = pool[torch.randint(len(pool), (60,), generator=generator)]
        scores = torch.where(
            torch.rand(60, generator=generator) < 0.5, scores, torch.rand(60, generator=generator)
        )
        labels = (torch.rand(60, generator=generator) < 0.5).long()
        metric = DefinedAUROC()
        metric.update(scores, labels)
        assert float(metric.compute()) == pytest.approx(_pairwise_auc(scores, labels), abs=1e-6)


def test_auc_extremes_and_single_class() -> None:
    labels = torch.tensor([0, 0, 1, 1])
    for scores, expected in (([0.1, 0.2, 0.3, 0.4], 1.0), ([0.4, 0.3, 0.2, 0.1], 0.0), ([0.5] * 4, 0.5)):
        metric = DefinedAUROC()
        metric.update(torch.tensor(scores), labels)
        assert float(metric.compute()) == expected
    one_class = DefinedAUROC()
    one_class.update(torch.rand(5), torch.ones(5, dtype=torch.long))
    assert math.isnan(float(one_class.compute()))  # undefined, not the 0 torchmetrics answers
    with pytest.warns(UserWarning, match="before the ``update``"):
        assert math.isnan(float(DefinedAUROC().compute()))  # no answer at all


def test_epoch_metrics_equal_the_whole_epoch_values() -> None:
    """Updated batch by batch, they give the values computed over the epoch's answers at once."""
    logits, labels = _scores(3000, seed=1, tie_step=0.05)
    metrics = stage_metrics("val")
    for part_logits, part_labels in zip(logits.split(700), labels.split(700), strict=True):
        metrics.update(torch.sigmoid(part_logits), part_labels.long())
    values = metrics.compute()
    probs = torch.sigmoid(logits)
    assert bool((probs == 0.5).any())  # ties at 0.5 count as right answers (the next test)
    right = (probs >= 0.5).long()
    assert float(values["val/acc"]) == pytest.approx(float(binary_accuracy(right, labels.long())), abs=1e-7)
    # float32 sums of ~3000 areas: equal to the references within 1e-5
    assert float(values["val/auc"]) == pytest.approx(float(binary_auroc(probs, labels.long())), abs=1e-5)
    assert float(values["val/auc"]) == pytest.approx(_pairwise_auc(probs, labels), abs=1e-5)


def test_accuracy_counts_one_half_as_right_as_the_evaluator_does() -> None:
    """A probability of exactly 0.5 predicts a right answer, in the epoch metric as in binary_scores."""
    probs = torch.tensor([0.5, 0.5, 0.5, 0.2, 0.8, 0.4999])
    labels = torch.tensor([1, 1, 0, 0, 1, 1])
    metrics = stage_metrics("test")
    metrics.update(probs, labels)
    expected = binary_scores(probs.numpy(), labels.numpy())["acc"]
    assert expected == pytest.approx(4 / 6)
    assert float(metrics.compute()["test/acc"]) == pytest.approx(expected)


def test_module_step_scores_only_the_scored_answers() -> None:
    """The module's step gives the metrics of the scored answers alone (padding and window starts out)."""
    torch.manual_seed(3)
    module = KTLitModule(
        net={"_target_": "ktlab.models.components.recurrent.RecurrentTracer", "hidden_dim": 8, "embed_dim": 4,
             "head_dim": 8},
        optimizer={"_target_": "torch.optim.AdamW", "_partial_": True},
        inputs={"dims": {"n_skills": 4}, "state": {}},
    )  # fmt: skip
    module.eval()
    b, t = 16, 12
    lengths = torch.randint(2, t + 1, (b,))
    mask = torch.arange(t)[None, :] < lengths[:, None]
    batch = {
        "skill": torch.randint(1, 5, (b, t)) * mask,
        "correct": (torch.rand(b, t) < 0.6).float() * mask,
        "context": torch.zeros(b, t, 0),
        "query": torch.zeros(b, t, 0),
        "phase": torch.zeros(b, t, dtype=torch.long),
        "p_true": torch.rand(b, t),
        "mask": mask,
    }
    with torch.no_grad():
        module._step(batch, module.val_metrics, module.val_loss, module.val_oracle_auc)
        logits = module(batch)
    scored = mask.clone()
    scored[:, 0] = False
    values = module.val_metrics.compute()
    probs, labels = torch.sigmoid(logits[scored]), batch["correct"][scored].long()
    assert float(values["val/auc"]) == pytest.approx(float(binary_auroc(probs, labels)), abs=1e-6)
    assert float(values["val/acc"]) == pytest.approx(float(binary_accuracy(probs, labels)), abs=1e-6)
    expected_loss = torch.nn.functional.binary_cross_entropy_with_logits(logits[scored], labels.float())
    assert float(module.val_loss.compute()) == pytest.approx(float(expected_loss), rel=1e-5)
    oracle = float(module.val_oracle_auc.compute())
    assert oracle == pytest.approx(float(binary_auroc(batch["p_true"][scored], labels)), abs=1e-6)


@pytest.mark.parametrize("loss_scale", ["answers", "batch"])
def test_training_loss_scale(loss_scale: str) -> None:
    """``answers``: the batch's summed loss over the mean answers per batch; ``batch``: the batch mean."""
    torch.manual_seed(4)
    module = KTLitModule(
        net={"_target_": "ktlab.models.components.dkt.DKT", "hidden_dim": 8, "embed_dim": 4},
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True},
        inputs={"dims": {"n_skills": 4}, "state": {}, "answers_per_batch": 40.0},
        loss_scale=loss_scale,
    ).train()
    b, t = 4, 6  # 4 windows of 6 steps: 20 scored answers, half the mean of 40
    batch = {"skill": torch.randint(1, 5, (b, t)), "correct": (torch.rand(b, t) < 0.5).float(),
             "mask": torch.ones(b, t, dtype=torch.bool)}  # fmt: skip
    torch.manual_seed(5)
    loss = module.training_step(batch, 0)
    torch.manual_seed(5)  # the same dropout draw
    logits = module(batch)[:, 1:]
    mean = torch.nn.functional.binary_cross_entropy_with_logits(logits, batch["correct"][:, 1:])
    expected = mean * 20 / 40 if loss_scale == "answers" else mean
    assert float(loss.detach()) == pytest.approx(float(expected.detach()), rel=1e-5)
    assert float(module.train_loss.compute()) == pytest.approx(float(mean), rel=1e-5)  # logged as the mean


def test_loss_scale_is_checked_and_needs_its_figure() -> None:
    assert "loss_scale" in str(KTLitModule.check_args({"loss_scale": "tokens"})[0])
    module = KTLitModule(
        net={"_target_": "ktlab.models.components.dkt.DKT", "hidden_dim": 8, "embed_dim": 4},
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True},
        inputs={"dims": {"n_skills": 4}, "state": {}},
    )
    with pytest.raises(ConfigError, match=r"model\.loss_scale=batch"):
        module.on_fit_start()


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
