"""Golden values of the question-text networks: a fixed seed and batch give fixed logits.

Built from ``conf/model/modernbert*.yaml``'s encoder settings (a small ModernBERT) with a fixed vocabulary;
recorded with torch 2.13 and transformers 5.23 on a CPU, compared at 1e-4 relative (float32 sums differ in
their last bits between CPU kernels). ``KTLAB_PRINT_GOLDEN=1 pytest ... -s`` prints the values to record.
"""

from __future__ import annotations

import os

import pytest
import torch
from hydra.utils import get_class
from omegaconf import OmegaConf

from ktlab.models.components.text_encoder import encoder_config
from tests.conftest import CONF_DIR

DIMS = {"vocab_size": 50, "pad_token_id": 0, "cls_token_id": 1, "sep_token_id": 2, "n_students": 3}
NETWORKS = [
    "ktlab.models.components.text_encoder.PooledNet",
    "ktlab.models.components.text_encoder.PerStudentNet",
]
#: logits of the batch's four answers, per network.
GOLDEN: dict[str, list[float]] = {
    "PooledNet": [-0.158928, -0.225884, -0.203705, -0.182889],
    "PerStudentNet": [1.482019, 2.789721, 2.789721, 1.482019],
}


def _batch() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(5)
    ids = torch.randint(3, DIMS["vocab_size"], (2, 9), generator=g)
    ids[:, 0], ids[0, 6:], ids[1, 8] = 1, 0, 2  # [CLS] ... padding / [SEP]
    mask = (ids != 0).long()
    return {
        "input_ids": ids,
        "attention_mask": mask,
        "question": torch.tensor([0, 1, 1, 0]),  # the question of each answer
        "student": torch.tensor([1, 2, 0, 3]),  # 0: an unknown student
    }


@pytest.mark.parametrize("target", NETWORKS, ids=lambda t: t.rsplit(".", 1)[1])
def test_text_network_gives_its_golden_logits(target: str) -> None:
    encoder = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "model" / "modernbert.yaml").encoder)
    hf_config = encoder_config(encoder, None, DIMS)
    torch.manual_seed(0)
    net = get_class(target)(hf_config, n_students=DIMS["n_students"], student_dim=4).eval()
    with torch.no_grad():
        logits = net(_batch()).tolist()
    name = target.rsplit(".", 1)[1]
    if os.environ.get("KTLAB_PRINT_GOLDEN"):
        print(f'\n    "{name}": {[round(v, 6) for v in logits]},')
    assert name in GOLDEN, f"no golden values recorded for {name}"
    assert logits == pytest.approx(GOLDEN[name], rel=1e-4, abs=1e-5)
