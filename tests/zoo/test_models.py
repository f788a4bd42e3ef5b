"""Every `model=` option trains one tiny epoch on a real slice and predicts; DKT+ and AKT specifics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ktlab.data.formats import read_lines
from ktlab.models.components.afm import AFM
from ktlab.models.components.akt import AKT
from ktlab.models.components.bkt import BKT
from ktlab.models.components.dkt import DKT
from ktlab.models.components.dkt_plus import DKTPlus
from ktlab.models.components.dropout import LaneDropout, dropout_mask
from ktlab.models.components.irt import IRT
from ktlab.models.components.monotonic import MonotonicAttention
from ktlab.models.components.pfa import PFA
from ktlab.models.components.problem_history import problem_history
from ktlab.models.components.recurrent import RecurrentTracer
from ktlab.models.components.sakt import SAKT
from ktlab.models.output import split_output
from ktlab.predict import predict_frame
from ktlab.train import train
from tests.conftest import recomputed_test_auc
from tests.zoo.conftest import MODELS, PID

#: The fast suite trains the classic DKT; the attention models and DKT+ train in the slow suite (each ~6-8 s).
SMOKE = [m if m == "dkt" else pytest.param(m, marks=pytest.mark.slow) for m in MODELS]


@pytest.mark.parametrize("model", SMOKE)
def test_every_model_option_trains_and_predicts(tiny_run, model: str) -> None:
    cfg = tiny_run(f"model={model}")
    metrics = train(cfg)
    assert metrics["test/auc"] == pytest.approx(recomputed_test_auc(Path(cfg.paths.output_dir)), abs=1e-4)
    assert np.isfinite(metrics["train/loss"])
    history = read_lines(PID / "assist2009_pid_test1.csv", "4line")
    out = predict_frame(Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt", history)
    assert len(out) == history["student_id"].nunique() * out["skill_id"].nunique()
    assert out["p_correct"].between(0, 1).all()


def test_dkt_trains_under_bfloat16_autocast_on_a_cpu(tiny_run) -> None:
    """``trainer.precision=bf16-mixed`` trains DKT on any CPU: where oneDNN has no bfloat16 LSTM (no AVX-512)
    the cell runs in float32 (``tests/test_cpu_kernels.py`` runs that path on every CPU)."""
    cfg = tiny_run("model=dkt", "trainer.precision=bf16-mixed")
    metrics = train(cfg)
    assert metrics["test/auc"] == pytest.approx(recomputed_test_auc(Path(cfg.paths.output_dir)), abs=0.01)
    assert np.isfinite(metrics["train/loss"])
    state = torch.load(Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt", weights_only=False)
    assert all(v.dtype == torch.float32 for v in state["state_dict"].values() if v.is_floating_point())


def _batch(b: int = 3, t: int = 25, k: int = 9, p: int = 30, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    mask = torch.ones(b, t, dtype=torch.bool)
    mask[0, t - 6 :] = False  # a padded learner
    skill = torch.randint(1, k + 1, (b, t), generator=g) * mask
    return {
        "skill": skill,
        "problem": torch.randint(1, p + 1, (b, t), generator=g) * mask,
        "correct": torch.randint(0, 2, (b, t), generator=g).float() * mask,
        "mask": mask,
        "context": torch.zeros(b, t, 0),  # the recurrent tracer's (here empty) context signals
        "query": torch.zeros(b, t, 0),
        "phase": torch.zeros(b, t, dtype=torch.long),
    }


NETS = {
    "dkt": lambda: DKT(9, embed_dim=8, hidden_dim=12),
    "dkt_plus": lambda: DKTPlus(9, embed_dim=8, hidden_dim=12),
    "sakt": lambda: SAKT(9, dim=16, n_heads=2),
    "akt_rasch": lambda: AKT(9, n_problems=30, dim=16, n_heads=2, ff_dim=16, head_dim=16, n_blocks=2),
    "akt": lambda: AKT(9, dim=16, n_heads=2, ff_dim=16, head_dim=16),
    "dkt_gru_rasch": lambda: RecurrentTracer(9, n_problems=30, embed_dim=8, hidden_dim=12, head_dim=8),
    "bkt": lambda: BKT(9),
    "pfa": lambda: PFA(9, init_std=0.1),
    "afm": lambda: AFM(9, init_std=0.1),
    "irt": lambda: IRT(9),
    "irt_2pl_problems": lambda: IRT(9, n_problems=30, variant="2pl"),
}


@pytest.mark.parametrize("name", sorted(NETS))
def test_no_prediction_reads_its_own_answer_or_a_later_step(name: str) -> None:
    """Changing step t (its answer, its skill, its problem) leaves every prediction up to t - 1 unchanged,
    and changing its answer leaves prediction t unchanged too."""
    torch.manual_seed(0)
    net = NETS[name]().eval()
    batch = _batch()
    base, _ = split_output(net(batch))
    for t in (0, 7, 18):
        flipped = {**batch, "correct": batch["correct"].clone()}
        flipped["correct"][:, t] = 1 - flipped["correct"][:, t]
        out, _ = split_output(net(flipped))
        torch.testing.assert_close(out[:, : t + 1], base[:, : t + 1])
        assert not torch.allclose(out[1:, t + 1 :], base[1:, t + 1 :])  # later steps do read it
        moved = {**batch, "skill": batch["skill"].clone(), "problem": batch["problem"].clone()}
        moved["skill"][:, t] = moved["skill"][:, t] % 9 + 1
        moved["problem"][:, t] = moved["problem"][:, t] % 30 + 1
        out, _ = split_output(net(moved))
        torch.testing.assert_close(out[:, :t], base[:, :t])


@pytest.mark.parametrize("strict", [False, True])
def test_monotonic_attention_puts_no_weight_on_the_future(strict: bool) -> None:
    torch.manual_seed(1)
    attention = MonotonicAttention(dim=16, n_heads=4, dropout=0.0)
    x = torch.randn(2, 12, 16)
    weights = attention.weights(x, x, strict=strict)  # [B, H, T, T]
    future = torch.ones(12, 12, dtype=torch.bool).triu(0 if strict else 1)
    assert torch.all(weights[..., future] == 0)
    sums = weights.sum(-1)
    torch.testing.assert_close(
        sums[..., 1 if strict else 0 :], torch.ones_like(sums[..., 1 if strict else 0 :])
    )
    if strict:
        assert torch.all(sums[..., 0] == 0)  # the first step has nothing before it to read


def _reference_weights(attention: MonotonicAttention, x: torch.Tensor, strict: bool) -> torch.Tensor:
    """The monotonic attention weights written as the paper's equations, every step through autograd."""
    q = attention._heads(attention.qk(x))
    scores = q @ q.transpose(-1, -2) / q.shape[-1] ** 0.5
    t = scores.shape[-1]
    allowed = torch.ones(t, t, dtype=torch.bool).tril(-1 if strict else 0)
    with torch.no_grad():
        gamma = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1).nan_to_num(0.0)
        after = gamma.sum(-1, keepdim=True) - gamma.cumsum(-1)
        steps = torch.arange(t)
        distance = after.clamp(min=0.0) * (steps[:, None] - steps[None, :]).abs()
    decay = torch.exp(-torch.nn.functional.softplus(attention.theta) * distance).clamp(1e-5, 1e5)
    return torch.softmax((scores * decay).masked_fill(~allowed, float("-inf")), dim=-1).nan_to_num(0.0)


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("theta", [0.0, 3.0])  # 3.0: many decays on their floor (no gradient there)
def test_monotonic_attention_backward_matches_autograd(strict: bool, theta: float) -> None:
    torch.manual_seed(3)
    attention = MonotonicAttention(dim=16, n_heads=4, dropout=0.0).double()
    with torch.no_grad():
        attention.theta.copy_(torch.tensor([theta, -1.0, 0.5, 2.0]).view(4, 1, 1).double())
    x = torch.randn(3, 30, 16, dtype=torch.float64)
    upstream = torch.randn(3, 4, 30, 30, dtype=torch.float64)
    grads = []
    for weights_of in (
        lambda: attention.weights(x, x, strict),
        lambda: _reference_weights(attention, x, strict),
    ):
        attention.zero_grad()
        weights = weights_of()
        (weights * upstream).sum().backward()
        grads.append((weights.detach(), attention.theta.grad.clone(), attention.qk.weight.grad.clone()))
    for ours, reference in zip(grads[0], grads[1], strict=True):
        torch.testing.assert_close(ours, reference)
    assert grads[0][1].abs().sum() > 0  # the decay rates do learn


@pytest.mark.parametrize("strict", [False, True])
def test_monotonic_attention_in_query_blocks_equals_the_whole_map(strict: bool) -> None:
    torch.manual_seed(4)
    whole = MonotonicAttention(dim=16, n_heads=4, dropout=0.0, query_block=1000).double()
    blocks = MonotonicAttention(dim=16, n_heads=4, dropout=0.0, query_block=7).double()
    blocks.load_state_dict(whole.state_dict())
    x = torch.randn(3, 30, 16, dtype=torch.float64)  # 30 steps: blocks of 7, 7, 7, 7 and 2
    results = []
    for attention in (whole, blocks):
        out = attention(x, x, x, strict)
        out.square().sum().backward()
        results.append(
            (out.detach(), attention.theta.grad, attention.qk.weight.grad, attention.v.weight.grad)
        )
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("strict", [False, True])
def test_monotonic_attention_dropout_zeroes_the_drawn_weights_and_scales_the_rest(strict: bool) -> None:
    p = 0.3
    torch.manual_seed(5)
    attention = MonotonicAttention(dim=16, n_heads=4, dropout=p, query_block=1000).double().train()
    x = torch.randn(2, 20, 16, dtype=torch.float64)
    torch.manual_seed(9)
    out = attention(x, x, x, strict)
    out.square().sum().backward()
    ours = (out.detach(), attention.theta.grad.clone(), attention.qk.weight.grad.clone())
    attention.zero_grad()
    torch.manual_seed(9)  # the same draw as the forward above made
    drop = dropout_mask(torch.Size([2, 4, 20, 20]), p, x.device)
    weights = _reference_weights(attention, x, strict).masked_fill(drop, 0.0) / (1 - p)
    attended = weights @ attention._heads(attention.v(x))
    reference = attention.out(attended.transpose(1, 2).reshape(2, 20, 16))
    reference.square().sum().backward()
    expected = (reference.detach(), attention.theta.grad, attention.qk.weight.grad)
    for a, b in zip(ours, expected, strict=True):
        torch.testing.assert_close(a, b)


def test_dropout_mask_draws_each_weight_with_probability_p() -> None:
    torch.manual_seed(0)
    drop = dropout_mask(torch.Size([100, 4000]), 0.05, torch.device("cpu"))
    assert drop.dtype == torch.bool
    # every 16-bit lane of the 64-bit draws, and the whole mask, drops 5% (std 0.07% per lane here)
    lanes = drop.view(-1, 4).float().mean(0)
    assert torch.all((lanes - 0.05).abs() < 0.004), lanes
    assert not dropout_mask(torch.Size([1000]), 0.0, torch.device("cpu")).any()
    assert dropout_mask(torch.Size([1000]), 1.0, torch.device("cpu")).all()


def test_lane_dropout_zeroes_a_share_p_scales_the_rest_and_its_gradient() -> None:
    torch.manual_seed(0)
    layer = LaneDropout(0.3).train()
    x = (torch.rand(200, 500) + 1.0).requires_grad_()  # no zeros of its own
    out = layer(x)
    dropped = out == 0
    assert abs(dropped.float().mean().item() - 0.3) < 0.01
    torch.testing.assert_close(out[~dropped], x[~dropped] / 0.7)
    out.sum().backward()
    assert torch.all(x.grad[dropped] == 0)
    torch.testing.assert_close(x.grad[~dropped], torch.full_like(x.grad[~dropped], 1 / 0.7))
    assert layer.eval()(x) is x  # evaluation: the identity
    assert torch.all(LaneDropout(1.0).train()(x) == 0)


def test_dkt_prediction_is_the_state_before_read_at_the_asked_skill() -> None:
    """DKT's forward reads one output row per step; it equals the whole output vector of the state before."""
    torch.manual_seed(0)
    net = DKT(9, embed_dim=8, hidden_dim=12).eval()
    batch = _batch()
    after = net.all_logits(batch)  # [B, T, K + 1]
    expected = after[:, :-1].gather(-1, batch["skill"][:, 1:, None]).squeeze(-1)
    logits = net(batch)
    torch.testing.assert_close(logits[:, 1:], expected)
    torch.testing.assert_close(logits[:, 0], net.out.bias[batch["skill"][:, 0]])  # no state yet


def test_monotonic_attention_in_half_precision_has_no_nan() -> None:
    """The first retriever step has no key: in float16 too its row is zeros and no gradient is NaN."""
    torch.manual_seed(6)
    attention = MonotonicAttention(dim=16, n_heads=4, dropout=0.0).half()
    x = torch.randn(2, 10, 16, dtype=torch.float16, requires_grad=True)
    weights = attention.weights(x, x, strict=True)
    weights.float().sum().backward()
    assert torch.all(weights[..., 0, :] == 0) and torch.isfinite(weights).all()
    assert torch.isfinite(attention.theta.grad).all() and torch.isfinite(x.grad).all()


def test_monotonic_decay_lowers_the_weight_of_distant_steps() -> None:
    attention = MonotonicAttention(dim=8, n_heads=1, dropout=0.0)
    with torch.no_grad():
        attention.qk.weight.zero_()
        attention.qk.bias.fill_(1.0)  # every score equal: only the decay tells steps apart
        attention.theta.fill_(2.0)
    x = torch.zeros(1, 10, 8)
    row = attention.weights(x, x, strict=False)[0, 0, -1]  # the last step's weights over steps 0..9
    assert torch.all(row[1:] >= row[:-1]) and row[-1] > 10 * row[0]


def test_dkt_plus_regularizers_change_the_loss_and_not_the_prediction() -> None:
    torch.manual_seed(2)
    plain = DKTPlus(9, embed_dim=8, hidden_dim=12, dropout=0.0, lambda_r=0.0, lambda_w1=0.0, lambda_w2=0.0)
    regular = DKTPlus(9, embed_dim=8, hidden_dim=12, dropout=0.0)
    regular.load_state_dict(plain.state_dict())
    batch = _batch()
    _, aux_a = split_output(plain.train()(batch))
    _, aux_b = split_output(regular.train()(batch))
    assert float(aux_a.detach()) == 0.0 and float(aux_b.detach()) > 0.0
    reg = regular.regularizers(regular.all_logits(batch), batch)
    assert float(aux_b.detach()) == pytest.approx(
        0.1 * float(reg["r"]) + 0.003 * float(reg["w1"]) + 3.0 * float(reg["w2"]), rel=1e-4
    )
    grads = []
    for net, aux in ((plain, aux_a), (regular, aux_b)):
        net.zero_grad()
        logits, _ = split_output(net(batch))
        (logits.mean() + aux).backward()
        grads.append(net.out.weight.grad.clone())
    assert not torch.allclose(grads[0], grads[1])
    plain.eval(), regular.eval()
    torch.testing.assert_close(plain(batch), regular(batch))  # evaluation reads the same network


def test_dkt_plus_waviness_is_zero_for_a_constant_state() -> None:
    net = DKTPlus(4, embed_dim=4, hidden_dim=4)
    batch = _batch(k=4)
    after = torch.zeros(3, 25, 5)  # the same state at every step
    reg = net.regularizers(after, batch)
    assert (
        float(reg["w1"]) == 0.0
        and float(reg["w2"]) == 0.0
        and float(reg["r"]) == pytest.approx(np.log(2), rel=1e-5)
    )


RASCH_NETS = {
    "akt": lambda: AKT(9, n_problems=30, dim=16, n_heads=2, ff_dim=16, head_dim=16, rasch_l2=0.5),
    "dkt_gru": lambda: RecurrentTracer(9, n_problems=30, embed_dim=8, hidden_dim=12, rasch_l2=0.5),
}


@pytest.mark.parametrize("name", sorted(RASCH_NETS))
def test_rasch_penalty_is_the_training_aux_loss(name: str) -> None:
    net = RASCH_NETS[name]()
    with torch.no_grad():
        net.rasch.difficulty.weight[1:] = 1.0
    out = net.train()(_batch())
    assert float(out.aux_loss) == pytest.approx(0.5 * 30)
    assert isinstance(net.eval()(_batch()), torch.Tensor)


@pytest.mark.parametrize("name", sorted(RASCH_NETS))
def test_problem_difficulty_moves_the_prediction_of_its_own_step(name: str) -> None:
    net = RASCH_NETS[name]().eval()
    batch = _batch()
    before = net(batch)
    with torch.no_grad():
        net.rasch.difficulty.weight[int(batch["problem"][1, 10])] = 3.0
    after = net(batch)
    assert not torch.allclose(before[1, 10], after[1, 10])  # its question embedding moved
    first = (batch["problem"][1] == batch["problem"][1, 10]).nonzero()[0].item()
    assert torch.equal(before[1, :first], after[1, :first])  # no earlier step sees the problem


def test_problem_history_reads_the_last_earlier_answer_on_the_same_problem() -> None:
    problem = torch.tensor([[5, 5, 7, 5, 0, 0], [3, 4, 3, 3, 2, 0]])
    correct = torch.tensor([[1, 0, 1, 1, 0, 0], [0, 1, 1, 0, 1, 0]])
    seen, right, repeat = problem_history(problem, correct).unbind(-1)
    assert seen.tolist() == [[0, 1, 0, 1, 0, 0], [0, 0, 1, 1, 0, 0]]  # padding (id 0) never matches
    # the latest earlier answer, not the first (row 0, step 3 reads step 1's 0, not step 0's 1)
    assert right.tolist() == [[0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0]]
    assert repeat.tolist() == [[0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0]]


def test_problem_history_is_off_without_problem_ids_and_on_request() -> None:
    batch = _batch()
    with_history = RecurrentTracer(9, n_problems=30, embed_dim=8, hidden_dim=12)
    without = RecurrentTracer(9, n_problems=30, embed_dim=8, hidden_dim=12, problem_history=False)
    no_ids = RecurrentTracer(9, embed_dim=8, hidden_dim=12)
    assert with_history.head[0].in_features == without.head[0].in_features + 3
    assert no_ids.head[0].in_features == without.head[0].in_features
    assert with_history.eval()(batch).shape == batch["skill"].shape
