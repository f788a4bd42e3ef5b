"""DKVMN and QIKT: each against its published equations written step by step, and their own checks."""

from __future__ import annotations

import pytest
import torch

from ktlab.errors import ConfigError
from ktlab.models.components.dkvmn import DKVMN, MemoryReads
from ktlab.models.components.qikt import QIKT
from ktlab.models.output import NetOutput
from tests.zoo.test_models import _batch


def _dkvmn_step_by_step(net: DKVMN, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The paper's read and erase-add write, one step at a time through autograd."""
    skill, correct = batch["skill"], batch["correct"].long()
    memory = net.initial_value.expand(len(skill), -1, -1)
    logits = []
    for t in range(skill.shape[1]):
        k = net.key_embedding(skill[:, t])
        w = torch.softmax(k @ net.key_memory.T, dim=-1)  # [B, N]
        read = (w[:, :, None] * memory).sum(1)
        logits.append(net.out(torch.tanh(net.summary(torch.cat([read, k], dim=-1)))).squeeze(-1))
        v = net.value_embedding((skill[:, t] * 2 + correct[:, t]) * (skill[:, t] > 0))
        w = w * (skill[:, t] > 0)[:, None]  # padding and unseen skills write nothing
        erase, add = torch.sigmoid(net.erase(v)), torch.tanh(net.add(v))
        memory = memory * (1 - w[:, :, None] * erase[:, None, :]) + w[:, :, None] * add[:, None, :]
    return torch.stack(logits, dim=1)


def test_dkvmn_matches_its_equations_step_by_step_with_the_same_gradients() -> None:
    torch.manual_seed(0)
    net = DKVMN(9, memory_size=5, key_dim=8, value_dim=12, summary_dim=8).double()
    batch = _batch()
    batch["skill"][2, 4] = 0  # an unseen skill mid-window
    grads = []
    for logits_of in (net, lambda b: _dkvmn_step_by_step(net, b)):
        net.zero_grad()
        logits = logits_of(batch)
        (logits * torch.linspace(-1, 1, logits.numel()).view_as(logits).double()).sum().backward()
        grads.append([logits.detach()] + [p.grad.clone() for p in net.parameters()])
    for ours, reference in zip(*grads, strict=True):
        torch.testing.assert_close(ours, reference)


def test_memory_reads_backward_is_the_derivative_of_forward() -> None:
    g = torch.Generator().manual_seed(1)
    b, t, n, d = 2, 6, 3, 4

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g, dtype=torch.float64).requires_grad_()

    read_w, write_w = torch.softmax(rand(b, t, n), -1), torch.softmax(rand(b, t, n), -1)
    inputs = (
        read_w.detach().requires_grad_(),
        write_w.detach().requires_grad_(),
        rand(b, t, d),
        rand(b, t, d),
    )
    assert torch.autograd.gradcheck(MemoryReads.apply, (*inputs, rand(b, n, d)))


def test_qikt_reads_problem_ids_and_sums_its_modules_logits() -> None:
    torch.manual_seed(0)
    net = QIKT(9, n_problems=30, dim=8).eval()
    batch = _batch()
    modules = net.module_logits(batch)  # [3, B, T]
    torch.testing.assert_close(net(batch), modules.sum(0))
    other = {**batch, "problem": batch["problem"] % 30 + 1}  # the same skills, other problems
    changed = net.module_logits(other)
    assert not torch.allclose(changed[0], modules[0])  # the problem-solving module reads the problem
    torch.testing.assert_close(changed[1], modules[1])  # the knowledge state reads concepts only
    unseen = {**batch, "problem": torch.zeros_like(batch["problem"])}
    assert torch.all(net.module_logits(unseen)[0] == 0)  # an unseen problem adds nothing
    with pytest.raises(ValueError, match="problem ids"):
        net({key: value for key, value in batch.items() if key != "problem"})


def test_qikt_adds_each_modules_loss_only_when_weighted() -> None:
    torch.manual_seed(0)
    batch = _batch()
    assert isinstance(QIKT(9, dim=8).train()(batch), torch.Tensor)
    out = QIKT(9, dim=8, aux_weights=(1.0, 0.0, 0.5)).train()(batch)
    assert isinstance(out, NetOutput) and out.aux_loss.ndim == 0 and out.aux_loss.item() > 0
    out.aux_loss.backward()


@pytest.mark.parametrize(
    ("cls", "args", "named"),
    [
        (QIKT, {"n_skills": 9, "output_weights": [1.0, 1.0]}, "output_weights"),
        (QIKT, {"n_skills": 9, "aux_weights": [1.0, -1.0, 0.0]}, "aux_weights"),
        (DKVMN, {"n_skills": 9, "memory_size": 0}, "memory_size"),
    ],
)
def test_bad_arguments_are_refused_by_name(cls: type, args: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        cls(**args)
