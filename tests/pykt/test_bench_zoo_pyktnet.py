"""scripts/bench_zoo_pyktnet.py: pyKT's sizes beside ktlab's settings, and pyKT's batch layout (no pyKT)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from hydra.utils import instantiate
from scripts.bench_zoo_pyktnet import (
    PYKT_DEFAULT_SIZES,
    PYKT_MODELS,
    ktlab_net_overrides,
    pad_to,
    pykt_sizes_from_ktlab,
    to_pykt,
)

ROOT = Path(__file__).resolve().parents[2]


def net_config(model: str) -> dict:
    """``model.net`` of ``conf/model/<model>.yaml``, with the settings of the config it extends."""
    cfg = yaml.safe_load((ROOT / "conf" / "model" / f"{model}.yaml").read_text())
    base = [d for d in cfg.get("defaults", []) if isinstance(d, str) and d != "_self_"]
    net = net_config(base[0]) if base else {}
    net.update(cfg["net"])
    return net


@pytest.mark.parametrize("model", sorted(PYKT_DEFAULT_SIZES))
def test_pykt_defaults_map_onto_ktlab_and_back(model: str) -> None:
    net = ktlab_net_overrides(model, PYKT_DEFAULT_SIZES[model])
    assert set(net) <= set(net_config(model)), "every mapped key is a setting of ktlab's network"
    sizes, mismatches = pykt_sizes_from_ktlab(model, net, seq_len=200)
    assert mismatches == []
    assert sizes == PYKT_DEFAULT_SIZES[model]


@pytest.mark.parametrize("model", sorted(PYKT_DEFAULT_SIZES))
def test_ktlab_builds_its_network_at_pykt_sizes(model: str) -> None:
    net = {**net_config(model), **ktlab_net_overrides(model, PYKT_DEFAULT_SIZES[model])}
    module = instantiate({**net, "n_skills": 7})
    assert sum(p.numel() for p in module.parameters()) > 0
    if model == "dkvmn":  # pyKT's memories: 50 slots, keys and values both 200 wide
        shapes = [tuple(p.shape) for p in module.parameters()]
        assert shapes.count((50, 200)) == 2 and (50, 50) not in shapes


def test_dkvmn_released_sizes_say_what_pykt_cannot_match() -> None:
    sizes, mismatches = pykt_sizes_from_ktlab("dkvmn", net_config("dkvmn"))
    # pyKT's DKVMN has one width: it follows the values (200); keys and summary of 50 cannot match
    assert sizes == {"dim_s": 200, "size_m": 20, "dropout": 0.0}
    assert [note.split(",")[0] for note in mismatches] == [
        "ktlab key_dim=50",
        "ktlab summary_dim=50",
        "ktlab memories N(0",
    ]
    assert "kaiming" in mismatches[-1]


def test_saint_released_sizes_match_pykt() -> None:
    sizes, mismatches = pykt_sizes_from_ktlab("saint", net_config("saint"), seq_len=200)
    assert sizes == {"emb_size": 256, "num_attn_heads": 8, "n_blocks": 4, "dropout": 0.2, "seq_len": 200}
    assert mismatches == []
    narrow, notes = pykt_sizes_from_ktlab("saint", {**net_config("saint"), "ff_dim": 512})
    assert narrow["emb_size"] == 256 and notes == [
        "ktlab ff_dim=512, pyKT emb_size=256: pyKT ties dim, ff_dim together"
    ]


def test_sakt_attention_dropout_difference_is_noted() -> None:
    _, notes = pykt_sizes_from_ktlab("sakt", net_config("sakt"))
    assert notes == ["ktlab attention_dropout=0.0, pyKT drops attention weights at dropout=0.2"]


def test_an_unmapped_pykt_argument_is_refused() -> None:
    with pytest.raises(KeyError, match="kq_same"):
        ktlab_net_overrides("akt", {"kq_same": 1})
    assert set(PYKT_DEFAULT_SIZES) == set(PYKT_MODELS)


def test_to_pykt_shifts_ids_and_scores_selected_rows_only() -> None:
    batch = {
        "skill": torch.tensor([[3, 1, 2, 0], [1, 1, 0, 0]]),
        "correct": torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0]]),
        "mask": torch.tensor([[True, True, True, False], [True, True, False, False]]),
        "select": torch.tensor([[True, True, False, False], [True, True, False, False]]),
    }
    out = to_pykt(pad_to(batch, 6), with_problems=False)
    assert out["cseqs"].tolist() == [[2, 0, 1, 0, 0], [0, 0, 0, 0, 0]]
    assert out["shft_rseqs"].tolist() == [[0.0, 1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0]]
    assert out["masks"].tolist() == [[True, True, True, False, False], [True, True, False, False, False]]
    # the third row of the first sequence is real but unselected: trained on by neither framework
    assert out["smasks"].tolist() == [[True, False, False, False, False], [True, False, False, False, False]]
    no_select = to_pykt({k: v for k, v in batch.items() if k != "select"}, with_problems=False)
    assert no_select["smasks"].tolist() == [[True, True, False], [True, False, False]]
