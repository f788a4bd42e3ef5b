"""The classical baselines (BKT, PFA, AFM, IRT): hand-computed values, recovery of simulated parameters,
multi-skill answers and the online ability estimate."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ktlab.models.components.afm import AFM
from ktlab.models.components.bkt import BKT, bkt_filter, logit
from ktlab.models.components.irt import IRT
from ktlab.models.components.pfa import PFA
from ktlab.models.components.practice import answer_groups, online_ability, prior_counts
from ktlab.models.output import split_output


def _set_bkt(net: BKT, skill: int, prior: float, learn: float, guess: float, slip: float) -> None:
    m = net.guess_slip_max
    with torch.no_grad():
        net.raw[skill] = torch.tensor([logit(prior), logit(learn), logit(guess / m), logit(slip / m)])


def test_bkt_forward_matches_a_hand_computed_pass() -> None:
    """Skill 1: prior 0.4, learn 0.2, guess 0.25, slip 0.1, answers right, wrong, right; skill 2 between."""
    net = BKT(2).double()
    _set_bkt(net, 1, 0.4, 0.2, 0.25, 0.1)
    _set_bkt(net, 2, 0.8, 0.3, 0.3, 0.2)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    batch = {
        "skill": torch.tensor([[1, 2, 1, 1, 2], [2, 2, 0, 0, 0]]),
        "correct": torch.tensor([[1.0, 0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0, 0.0]], dtype=torch.float64),
        "mask": mask,
    }
    p = torch.sigmoid(net(batch))
    # skill 1: 0.4*0.9 + 0.6*0.25 = 0.51; after a right answer P(known) = 0.36/0.51 -> +learn = 13/17,
    # p = 127/170; after a wrong one P(known) = (13/170)/(43/170) -> +learn = 19/43, p = 231/430.
    # skill 2: 0.8*0.8 + 0.2*0.3 = 0.70; after a wrong answer P(known) = 0.16/0.30 -> +learn = 0.6733..
    k2 = 0.16 / 0.30 + (1 - 0.16 / 0.30) * 0.3
    expected = [[0.51, 0.70, 127 / 170, 231 / 430, k2 * 0.8 + (1 - k2) * 0.3], [0.70, 0.8 * 0.8 + 0.2 * 0.3]]
    torch.testing.assert_close(p[0], torch.tensor(expected[0], dtype=torch.float64))
    # the second window: skill 2 after a right answer, from its own prior
    k = 0.64 / 0.70 + (1 - 0.64 / 0.70) * 0.3
    torch.testing.assert_close(p[1, :2], torch.tensor([0.70, k * 0.8 + (1 - k) * 0.3], dtype=torch.float64))


def _simulate_bkt(params: list[tuple[float, float, float, float]], learners: int, steps: int, seed: int):
    """Windows of answers drawn from a known BKT, skills drawn uniformly at each step."""
    rng = np.random.default_rng(seed)
    prior, learn, guess, slip = (np.array([0.0] + [p[i] for p in params]) for i in range(4))
    skill = rng.integers(1, len(params) + 1, size=(learners, steps))
    known = rng.random((learners, len(params) + 1)) < prior
    correct = np.zeros((learners, steps))
    rows = np.arange(learners)
    for t in range(steps):
        k = skill[:, t]
        now = known[rows, k]
        p = np.where(now, 1 - slip[k], guess[k])
        correct[:, t] = rng.random(learners) < p
        known[rows, k] = now | (rng.random(learners) < learn[k])
    return {
        "skill": torch.from_numpy(skill),
        "correct": torch.from_numpy(correct).float(),
        "mask": torch.ones(learners, steps, dtype=torch.bool),
    }


def _fit(net: torch.nn.Module, batch: dict[str, torch.Tensor], steps: int, lr: float) -> None:
    """Full-batch gradient descent on the log-likelihood of every answer (the training loop's loss)."""
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    for _ in range(steps):
        optimizer.zero_grad()
        logits, aux = split_output(net(batch))
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits[batch["mask"]], batch["correct"][batch["mask"]]
        )
        (loss if aux is None else loss + aux).backward()
        optimizer.step()
    net.eval()


def test_bkt_recovers_the_parameters_it_simulated() -> None:
    truth = [(0.2, 0.15, 0.2, 0.1), (0.5, 0.05, 0.3, 0.15), (0.1, 0.3, 0.1, 0.05)]
    batch = _simulate_bkt(truth, learners=500, steps=30, seed=0)
    torch.manual_seed(0)
    net = BKT(3)
    _fit(net, batch, steps=80, lr=0.15)
    fitted = {name: p.detach() for name, p in net.probabilities().items()}
    for k, params in enumerate(truth, start=1):
        got = [float(fitted[name][k]) for name in ("prior", "learn", "guess", "slip")]
        assert got == pytest.approx(list(params), abs=0.06), (k, got, params)


def _multi_skill_batch() -> dict[str, torch.Tensor]:
    """One window: rows 2 and 3 are one answer tagged with skills 3 and 1; skill 1 was practised at row 0."""
    return {
        "skill": torch.tensor([[1, 2, 3, 1, 1, 2]]),
        "problem": torch.tensor([[4, 5, 6, 6, 7, 5]]),
        "correct": torch.tensor([[1.0, 0.0, 1.0, 1.0, 0.0, 1.0]]),
        "mask": torch.ones(1, 6, dtype=torch.bool),
        "copy": torch.tensor([[False, False, False, True, False, False]]),
    }


def test_a_multi_skill_answer_is_one_logit_summed_over_its_skills() -> None:
    torch.manual_seed(0)
    net = PFA(3, init_std=0.5).eval()
    batch = _multi_skill_batch()
    groups = answer_groups(batch)
    assert groups.tolist() == [[0, 1, 2, 2, 3, 4]]
    counts = prior_counts(batch["skill"], batch["correct"], groups)
    assert counts.tolist() == [[0, 0, 0, 1, 2, 0]]  # row 4 counts rows 0 and 3 (one answer, skill 1)
    w = net.weights.weight.detach()
    successes = torch.tensor([0.0, 0.0, 0.0, 1.0])  # before row 2: skill 3 none, skill 1 one (row 0)
    expected = net.bias + w[3, 0] + w[3, 1] * successes[2] + w[1, 0] + w[1, 1] * successes[3]
    logits = net(batch)
    torch.testing.assert_close(logits[0, 2], expected.detach())
    assert logits[0, 3] == logits[0, 2]  # the copy row carries the same (unscored) value


@pytest.mark.parametrize(
    "make",
    [
        lambda: PFA(3, init_std=0.5),
        lambda: AFM(3, init_std=0.5),
        lambda: IRT(3, n_problems=7),
        lambda: BKT(3),
    ],
    ids=["pfa", "afm", "irt", "bkt"],
)
def test_no_row_of_an_answer_reads_the_answer(make) -> None:
    torch.manual_seed(0)
    net = make().eval()
    batch = _multi_skill_batch()
    base, _ = split_output(net(batch))
    flipped = {**batch, "correct": batch["correct"].clone()}
    flipped["correct"][0, 2:4] = 0.0  # the multi-skill answer, wrong instead of right
    out, _ = split_output(net(flipped))
    torch.testing.assert_close(out[:, :4], base[:, :4])
    assert not torch.allclose(out[:, 4:], base[:, 4:])


def test_online_ability_is_one_newton_step_of_the_map_estimate() -> None:
    """Checked against autograd's gradient and Hessian of the log-posterior at ability 0, step by step."""
    torch.manual_seed(0)
    logits = torch.randn(2, 9, dtype=torch.float64)
    a = torch.rand(2, 9, dtype=torch.float64) + 0.5
    correct = torch.randint(0, 2, (2, 9)).double()
    answered = torch.rand(2, 9) > 0.2
    precision = torch.tensor(1.7, dtype=torch.float64)
    theta = online_ability(logits, correct, answered, precision, a)
    for i in range(2):
        for t in range(9):
            w = answered[i, :t].double()

            def log_posterior(x, i=i, t=t, w=w):
                z = a[i, :t] * x + logits[i, :t]
                ll = w * (
                    correct[i, :t] * torch.nn.functional.logsigmoid(z)
                    + (1 - correct[i, :t]) * torch.nn.functional.logsigmoid(-z)
                )
                return ll.sum() - precision * x**2 / 2

            zero = torch.zeros((), dtype=torch.float64)
            grad = torch.autograd.functional.jacobian(log_posterior, zero)
            hess = torch.autograd.functional.hessian(log_posterior, zero)
            torch.testing.assert_close(theta[i, t], -grad / hess)


def test_irt_recovers_the_difficulties_it_simulated() -> None:
    """Rasch data: 15 items, 600 learners of ability N(0, 1), 30 answers each."""
    rng = np.random.default_rng(1)
    difficulty = np.linspace(-2, 2, 15)
    item = rng.integers(1, 16, size=(600, 30))
    ability = rng.normal(size=(600, 1))
    correct = rng.random((600, 30)) < 1 / (1 + np.exp(-(ability - difficulty[item - 1])))
    batch = {
        "skill": torch.from_numpy(item),
        "correct": torch.from_numpy(correct).float(),
        "mask": torch.ones(600, 30, dtype=torch.bool),
    }
    torch.manual_seed(0)
    net = IRT(15)
    _fit(net, batch, steps=200, lr=0.1)
    fitted = net.skill_difficulty.weight.detach()[1:, 0] - net.bias.detach()
    assert np.corrcoef(fitted.numpy(), difficulty)[0, 1] > 0.99
    # the ability estimate shrinks toward 0, so the scale is recovered only roughly
    assert float(fitted.max() - fitted.min()) == pytest.approx(4.0, rel=0.25)


def test_prior_counts_are_the_earlier_answers_on_the_same_key() -> None:
    """Against a loop over every pair of rows, with multi-skill answers and padding."""
    g = torch.Generator().manual_seed(4)
    skill = torch.randint(0, 5, (3, 40), generator=g)
    values = torch.rand(3, 40, 2, generator=g)
    mask = torch.ones(3, 40, dtype=torch.bool)
    mask[2, 30:] = False
    batch = {"mask": mask, "copy": (torch.rand(3, 40, generator=g) < 0.3) & mask}
    values = values * mask[..., None]
    groups = answer_groups(batch)
    counts = prior_counts(skill, values, groups)
    expected = torch.zeros_like(counts)
    for i in range(3):
        for t in range(40):
            for j in range(t):
                if skill[i, j] == skill[i, t] and groups[i, j] < groups[i, t]:
                    expected[i, t] += values[i, j]
    torch.testing.assert_close(counts, expected)


def test_bkt_knowledge_stays_a_probability_after_it_rounds_to_one() -> None:
    """A streak of right answers rounds P(known) to exactly 1 in float32; a wrong answer then must not push it
    above 1 (where ``1 - p`` no longer equals ``slip`` exactly, a posterior of ``slip / (1 - p)`` did, and the
    next wrong answers blew it up to infinity)."""
    net = BKT(1)
    _set_bkt(net, 1, 0.52, 0.1, 0.21, 0.209)
    correct = torch.tensor([[1.0] * 40 + [0.0, 1.0, 0.0, 0.0, 0.0, 0.0] * 5])
    batch = {
        "skill": torch.ones_like(correct).long(),
        "correct": correct,
        "mask": torch.ones_like(correct).bool(),
    }
    with torch.no_grad():
        known = bkt_filter(
            **net.probabilities(), skill=batch["skill"], correct=correct, update=batch["mask"]
        ).known_before
    assert float(known[0, 40]) > 0.9999  # the streak took it to (or next to) 1
    assert bool(((known >= 0) & (known <= 1)).all())
    logits = net(batch)
    torch.nn.functional.binary_cross_entropy_with_logits(logits, correct).backward()
    assert torch.isfinite(logits).all() and torch.isfinite(net.raw.grad).all()


def test_bkt_skill_states_are_the_next_step_predictions_on_each_skill() -> None:
    torch.manual_seed(0)
    net = BKT(4).eval()
    with torch.no_grad():
        net.raw.add_(torch.randn_like(net.raw))  # every skill its own parameters
    g = torch.Generator().manual_seed(1)
    mask = torch.ones(3, 12, dtype=torch.bool)
    mask[2, 8:] = False
    batch = {
        "skill": torch.randint(1, 5, (3, 12), generator=g) * mask,
        "correct": torch.randint(0, 2, (3, 12), generator=g).float() * mask,
        "mask": mask,
    }
    states = net.skill_states(batch)  # [B, T, K]
    assert states.shape == (3, 12, 4)
    for t in (0, 5, 10):
        for k in range(1, 5):
            probe = {key: value[:, : t + 2].clone() for key, value in batch.items()}
            probe["skill"][:, t + 1] = k
            probe["mask"][:, t + 1] = True
            expected = torch.sigmoid(net(probe))[:, t + 1]
            torch.testing.assert_close(states[:2, t, k - 1], expected[:2].detach())
