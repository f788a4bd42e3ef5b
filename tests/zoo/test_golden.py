"""Golden values: every sequence network, built with a fixed seed and fed a fixed batch, gives fixed logits.

A refactor that changes what a network computes (an embedding, a mask, an offset of the causal shift)
changes these numbers and fails here, even when the network still trains. The networks come from
``conf/model/`` (every option of the sequence family), with small sizes; the values were recorded with
torch 2.13 on a CPU. Float32 sums differ in their last bits between CPU kernels, so the tolerance is 1e-4
relative.

A new model option needs no edit here to pass the suite (it is skipped, saying so, until its values are
recorded): run this file with ``KTLAB_PRINT_GOLDEN=1 -s`` and paste the line it prints into ``GOLDEN``
once the network has been checked by other means.
"""

from __future__ import annotations

import os

import pytest
import torch
from omegaconf import OmegaConf

from ktlab.models.kt_module import build_network
from ktlab.models.output import split_output
from tests.conftest import CONF_DIR, model_family

SMALL = {"embed_dim": 8, "hidden_dim": 12, "head_dim": 12, "dim": 16, "ff_dim": 16, "n_heads": 2}
DIMS = {
    "n_skills": 6,
    "n_problems": 9,
    "n_phases": 3,
    "context_dim": 4,
    "query_dim": 2,
    "phase_in_context": True,
    "phase_in_query": True,
}

#: logits[0, :4], logits[1, :4] and the sum of the real (unpadded) positions, per model option.
GOLDEN: dict[str, tuple[list[float], list[float], float]] = {
    "afm": (
        [-0.015091, -0.393255, -0.670443, -0.863639],
        [0.003704, -0.406404, 0.095403, -0.314195],
        -3.952825,
    ),
    "akt": (
        [-0.330521, -0.362931, -0.242462, -0.242279],
        [-0.328408, -0.248734, -0.223275, -0.307258],
        -3.059139,
    ),
    "bkt": ([0.200671, 0.200671, 0.200671, 0.200671], [0.200671, 0.200671, 1.29774, 0.200671], 3.537553),
    "dkt": ([-0.284759, 0.107397, 0.207567, 0.163778], [0.17754, 0.279459, 0.195839, -0.197749], -0.094479),
    "dkt_gru": ([0.148514, 0.317781, 0.31507, 0.166823], [0.226159, 0.264634, 0.34937, 0.204228], 2.838492),
    "dkt_lstm": (
        [-0.276779, -0.207267, -0.130275, -0.103838],
        [-0.083497, -0.135484, -0.193043, -0.345448],
        -2.303216,
    ),
    "dkt_plus": (
        [-0.284759, 0.107397, 0.207567, 0.163778],
        [0.17754, 0.279459, 0.195839, -0.197749],
        -0.094479,
    ),
    "irt": (
        [-0.004071, -0.386035, -0.663943, -0.847748],
        [-0.016192, -0.379608, 0.016777, -0.292352],
        -4.149513,
    ),
    "irt_2pl": (
        [-0.00406, -0.385262, -0.677406, -0.841956],
        [-0.016203, -0.376856, 0.01409, -0.294859],
        -4.201525,
    ),
    "pfa": ([-0.014959, 0.005073, -0.005554, 0.0092], [0.013253, -0.005554, 0.00039, -0.014959], -0.035357),
    "sakt": ([0.39218, 0.121974, 0.636971, -0.061824], [0.260816, 0.703706, 0.655534, 0.608161], 3.980508),
}

SEQUENCE_MODELS = sorted(
    p.stem for p in CONF_DIR.joinpath("model").glob("*.yaml") if model_family(p.stem) == "sequence"
)


def _net_config(option: str) -> dict:
    """The network config of ``conf/model/<option>.yaml`` (following its defaults), with small sizes."""
    node = OmegaConf.load(CONF_DIR / "model" / f"{option}.yaml")
    merged = OmegaConf.create()
    for parent in node.get("defaults", []):
        if parent != "_self_":
            merged = OmegaConf.merge(merged, {"net": _net_config(parent)})
    merged = OmegaConf.merge(merged, {"net": node.get("net", {})})
    net = OmegaConf.to_container(merged.net)
    return {key: SMALL.get(key, value) for key, value in net.items()}


def _batch(seed: int = 3, b: int = 2, t: int = 7) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([t, t - 3])
    mask = torch.arange(t)[None, :] < lengths[:, None]
    return {
        "skill": torch.randint(1, DIMS["n_skills"] + 1, (b, t), generator=g) * mask,
        "problem": torch.randint(1, DIMS["n_problems"] + 1, (b, t), generator=g) * mask,
        "correct": torch.randint(0, 2, (b, t), generator=g).float() * mask,
        "context": torch.randn(b, t, DIMS["context_dim"], generator=g) * mask[..., None],
        "query": torch.randn(b, t, DIMS["query_dim"], generator=g) * mask[..., None],
        "phase": torch.randint(1, DIMS["n_phases"] + 1, (b, t), generator=g) * mask,
        "p_true": torch.full((b, t), float("nan")),
        "mask": mask,
    }


def _logits(option: str) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    net = build_network(_net_config(option), DIMS).eval()
    batch = _batch()
    with torch.no_grad():
        logits, _ = split_output(net(batch))
    return logits, batch["mask"]


@pytest.mark.parametrize("option", SEQUENCE_MODELS)
def test_network_gives_its_golden_logits(option: str) -> None:
    logits, mask = _logits(option)
    first, second, total = logits[0, :4].tolist(), logits[1, :4].tolist(), float(logits[mask].sum())
    if os.environ.get("KTLAB_PRINT_GOLDEN"):
        print(
            f'\n    "{option}": ({[round(v, 6) for v in first]}, {[round(v, 6) for v in second]}, {total:.6f}),'
        )
    if option not in GOLDEN:  # a new model trains through the contract tests; its values come with review
        pytest.skip(f"no golden values recorded for {option} yet (see the module docstring)")
    want_first, want_second, want_total = GOLDEN[option]
    assert first == pytest.approx(want_first, rel=1e-4, abs=1e-5)
    assert second == pytest.approx(want_second, rel=1e-4, abs=1e-5)
    assert total == pytest.approx(want_total, rel=1e-4, abs=1e-4)
