"""Length groups (ktlab.models.length_groups): the cheapest cut of a batch, and the same logits, gradients
and penalties from every sequence network of conf/model/ as the batch run whole."""

from __future__ import annotations

import itertools

import pytest
import torch

from ktlab.models.components.recurrent import RecurrentTracer
from ktlab.models.length_groups import MIN_SAVING, plan_groups, run_grouped
from ktlab.models.output import split_output
from tests.zoo.test_models import LEAK_DIMS, NETS


def _cost(lengths: torch.Tensor, runs: list[torch.Tensor]) -> int:
    return sum(len(rows) * int(lengths[rows].max()) for rows in runs)


def _brute_force(lengths: list[int], groups: int) -> int:
    """The fewest positions over every cut of the sorted lengths into at most ``groups`` runs."""
    ordered = sorted(lengths, reverse=True)
    n = len(ordered)
    best = n * ordered[0]
    for k in range(1, groups):
        for cuts in itertools.combinations(range(1, n), k):
            bounds = [0, *cuts, n]
            best = min(best, sum((b - a) * ordered[a] for a, b in itertools.pairwise(bounds)))
    return best


@pytest.mark.parametrize("groups", [2, 3, 4])
def test_the_plan_is_the_cheapest_cut_and_covers_each_window_once(groups: int) -> None:
    g = torch.Generator().manual_seed(groups)
    for _ in range(20):
        lengths = torch.randint(1, 60, (9,), generator=g)
        lengths[0] = 200  # one long window, as in a file-order batch
        runs = plan_groups(lengths, groups)
        if runs is None:  # grouping saves too little: the optimum must say so too
            assert _brute_force(lengths.tolist(), groups) > (1 - MIN_SAVING) * 9 * 200
            continue
        assert len(runs) <= groups
        assert sorted(torch.cat(runs).tolist()) == list(range(9))
        assert _cost(lengths, runs) == _brute_force(lengths.tolist(), groups)


def test_a_batch_of_equal_lengths_runs_whole() -> None:
    assert plan_groups(torch.full((16,), 40), 8) is None
    assert plan_groups(torch.tensor([200, 3, 3, 3]), 1) is None


def _mixed_batch(seed: int = 0) -> dict[str, torch.Tensor]:
    """Eight windows of 3 to 30 steps, padded to 30, with every input the leakage test's networks read."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([30, 4, 9, 3, 17, 6, 25, 5])
    b, t = len(lengths), int(lengths.max())
    mask = torch.arange(t)[None, :] < lengths[:, None]
    return {
        "skill": torch.randint(1, LEAK_DIMS["n_skills"] + 1, (b, t), generator=g) * mask,
        "problem": torch.randint(1, 31, (b, t), generator=g) * mask,
        "correct": torch.randint(0, 2, (b, t), generator=g).float() * mask,
        "mask": mask,
        "context": torch.randn(b, t, LEAK_DIMS["context_dim"], generator=g) * mask[..., None],
        "query": torch.randn(b, t, LEAK_DIMS["query_dim"], generator=g) * mask[..., None],
        "phase": torch.randint(1, LEAK_DIMS["n_phases"] + 1, (b, t), generator=g) * mask,
    }


@pytest.mark.parametrize("name", sorted(NETS))
def test_grouped_logits_and_gradients_equal_the_whole_batch(name: str) -> None:
    torch.manual_seed(0)
    net = NETS[name]().eval()  # no dropout: both runs must compute the same function
    batch = _mixed_batch()
    assert plan_groups(batch["mask"].sum(1), 4) is not None  # the batch is grouped
    results = []
    for groups in (1, 4):
        net.zero_grad()
        logits, _ = split_output(run_grouped(net, batch, groups))
        logits[batch["mask"]].sigmoid().sum().backward()
        grads = {k: p.grad.clone() for k, p in net.named_parameters() if p.grad is not None}
        results.append((logits.detach()[batch["mask"]], grads))
    (whole, whole_grads), (grouped, grouped_grads) = results
    torch.testing.assert_close(grouped, whole, atol=1e-5, rtol=1e-4)
    assert whole_grads.keys() == grouped_grads.keys()
    for key, grad in whole_grads.items():
        torch.testing.assert_close(grouped_grads[key], grad, atol=1e-5, rtol=1e-4, msg=key)


def test_a_parameter_penalty_is_the_batch_s_own() -> None:
    """The Rasch penalty of problem ids (a parameter norm) comes out of a grouped batch unchanged."""
    torch.manual_seed(0)
    net = RecurrentTracer(
        n_skills=9, n_problems=30, context_dim=4, query_dim=2, dropout=0.0, rasch_l2=0.1
    ).train()
    torch.nn.init.normal_(net.rasch.difficulty.weight)
    batch = _mixed_batch()
    whole = run_grouped(net, batch, 1)
    grouped = run_grouped(net, batch, 4)
    assert float(whole.aux_loss.detach()) > 0
    torch.testing.assert_close(grouped.aux_loss, whole.aux_loss)
    torch.testing.assert_close(grouped.logits[batch["mask"]], whole.logits[batch["mask"]])
