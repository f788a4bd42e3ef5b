"""The Laplace running success rate per skill: its values, exact in float32, and untouched by training."""

from __future__ import annotations

import torch

from ktlab.evaluation.pykt import probabilities
from ktlab.models.components.skill_rate import SkillRate


def batch() -> dict[str, torch.Tensor]:
    return {
        "skill": torch.tensor([[1, 1, 2, 1, 2, 0], [3, 3, 3, 3, 3, 3]]),
        "correct": torch.tensor([[1.0, 0.0, 1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0, 1.0, 0.0]]),
        "mask": torch.tensor([[True] * 5 + [False], [True] * 6]),
    }


def test_each_step_reads_the_earlier_answers_on_its_skill() -> None:
    p = probabilities(SkillRate()(batch()))[:, :5]
    want = torch.tensor(
        [[1 / 2, 2 / 3, 1 / 2, 2 / 4, 2 / 3], [1 / 2, 2 / 3, 3 / 4, 4 / 5, 5 / 6]], dtype=torch.float64
    ).float()
    assert torch.equal(p, want)  # bit for bit the float32 nearest to each rational


def test_a_training_step_leaves_it_unchanged() -> None:
    net = SkillRate()
    before = net(batch()).detach().clone()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.1)
    logits = net(batch())
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits.float(), batch()["correct"])
    loss.backward()
    optimizer.step()
    assert torch.equal(net(batch()).detach(), before)
