"""Question-text vectors: the cached frozen encoder, the batch field, networks that read it, a tiny run."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import open_dict

from ktlab.data import item_text
from ktlab.data.formats.dbe_kt22 import DBEKT22Source
from ktlab.data.item_text import default_encoder, encoder_key, text_hash, text_vectors
from ktlab.errors import ConfigError
from ktlab.evaluation.held_out import held_out_scores
from ktlab.inference.predictor import Predictor
from ktlab.models.checkpoint import load_model, restore_datamodule
from ktlab.models.components.akt import AKT
from ktlab.models.components.dkt import DKT
from ktlab.models.components.recurrent import RecurrentTracer
from ktlab.models.components.simplekt import SimpleKT
from ktlab.models.components.sparsekt import SparseKT
from ktlab.train import train
from tests.conftest import ASSETS

TEXTS = [
    "Which SQL clause filters groups?",
    "What does a primary key guarantee?",
    "Which SQL clause filters groups?",
]


def test_vectors_are_computed_once_per_text_and_encoder_then_read_from_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder = default_encoder()
    first = text_vectors(TEXTS, encoder, tmp_path)
    assert first.shape == (3, 384) and first.dtype == np.float32
    np.testing.assert_allclose(first[0], first[2])  # the same text, the same vector
    assert np.linalg.norm(first[1]) == pytest.approx(384**0.5, rel=1e-4)  # L2-normalised, scaled by sqrt(E)
    assert abs(float(first[0] @ first[1])) < 0.99 * 384  # two texts, two directions
    files = sorted((tmp_path / encoder_key(encoder)).glob("*.npy"))
    assert [f.stem for f in files] == sorted({text_hash(t) for t in TEXTS})

    def refuse(*args: object, **kwargs: object) -> np.ndarray:
        raise AssertionError("the encoder ran although every text was cached")

    monkeypatch.setattr(item_text, "embed_texts", refuse)
    np.testing.assert_array_equal(text_vectors(TEXTS, encoder, tmp_path), first)


def test_another_encoder_has_another_key(tmp_path: Path) -> None:
    copy = tmp_path / "other"
    shutil.copytree(default_encoder(), copy)
    config = copy / "config.json"
    config.write_text(config.read_text().replace('"num_hidden_layers": 6', '"num_hidden_layers": 5'))
    assert encoder_key(copy) != encoder_key(default_encoder())
    with pytest.raises(ConfigError, match=r"no config\.json"):
        encoder_key(tmp_path)


def _batch(vec: torch.Tensor) -> dict[str, torch.Tensor]:
    """Two windows of 5 steps: skills and problems unknown (0) at the last two steps, text given."""
    b, t = vec.shape[:2]
    skill = torch.tensor([[1, 2, 1, 0, 0]]).repeat(b, 1)
    return {
        "skill": skill,
        "problem": skill.clone(),
        "correct": torch.tensor([[1.0, 0.0, 1.0, 1.0, 0.0]]).repeat(b, 1),
        "context": torch.zeros(b, t, 0),
        "query": torch.zeros(b, t, 0),
        "phase": torch.zeros(b, t, dtype=torch.long),
        "mask": torch.ones(b, t, dtype=torch.bool),
        "item_vec": vec,
    }


@pytest.mark.parametrize(
    "net",
    [
        lambda: DKT(n_skills=2, embed_dim=8, hidden_dim=8, item_vec_dim=6, text_rank=3),
        lambda: RecurrentTracer(
            n_skills=2, n_problems=2, embed_dim=8, hidden_dim=8, head_dim=8, item_vec_dim=6
        ),
        lambda: _small_akt(n_problems=2),
        lambda: _small_akt(n_problems=2, text_in_attention=False),
        lambda: SimpleKT(n_skills=2, n_problems=2, dim=8, n_heads=2, ff_dim=8, head_dim=8, item_vec_dim=6),
        lambda: SparseKT(
            n_skills=2, n_problems=2, k=2, dim=8, n_heads=2, ff_dim=8, head_dim=8, item_vec_dim=6
        ),
    ],
    ids=["dkt", "dkt_gru", "akt", "akt_text_at_output", "simplekt", "sparsekt"],
)
def test_a_question_text_moves_its_own_prediction_and_the_later_ones_only(net) -> None:
    torch.manual_seed(0)
    model = net().eval()
    vec = torch.randn(1, 5, 6)
    other = vec.clone()
    other[0, 3] = torch.randn(6)  # another text for step 3, whose skill and problem are unknown
    with torch.no_grad():
        before, after = model(_batch(vec)), model(_batch(other))
    torch.testing.assert_close(before[:, :3], after[:, :3])  # earlier steps never see it
    assert not torch.allclose(before[:, 3], after[:, 3])  # the unseen question's text reaches its prediction


@pytest.mark.parametrize(
    "net",
    [
        lambda **kw: RecurrentTracer(n_skills=2, n_problems=2, embed_dim=8, hidden_dim=8, head_dim=8, **kw),
        lambda **kw: AKT(n_skills=2, n_problems=2, dim=8, n_heads=2, ff_dim=8, head_dim=8, **kw),
        lambda **kw: SimpleKT(n_skills=2, n_problems=2, dim=8, n_heads=2, ff_dim=8, head_dim=8, **kw),
        lambda **kw: SimpleKT(
            n_skills=2, n_problems=2, dim=8, n_heads=2, ff_dim=8, head_dim=8, vector_difficulty=False, **kw
        ),
    ],
    ids=["dkt_gru", "akt", "simplekt", "simplekt_scalar"],
)
def test_the_text_difficulty_moves_a_new_question_along_its_skill_s_rasch_direction(net) -> None:
    """With ``text_difficulty`` the text's scalar is added to the problem's ``mu``: it moves the prediction
    of a question unseen in training (problem id 0, skill known); steps without a text keep theirs."""
    torch.manual_seed(0)
    model = net(item_vec_dim=6, text_difficulty=True).eval()
    assert net(item_vec_dim=6).text.to_difficulty is None
    assert net(item_vec_dim=0, text_difficulty=True).text is None  # no text, nothing to read
    vec = torch.randn(1, 5, 6)
    vec[0, :3] = 0.0  # steps 0-2: questions without text
    batch = _batch(vec)
    batch["skill"] = torch.tensor([[1, 2, 1, 2, 1]])
    batch["problem"] = torch.tensor([[1, 2, 1, 0, 0]])  # steps 3 and 4: questions unseen in training
    variation = model.variation if isinstance(model, SimpleKT) else model.rasch.skill_variation
    torch.nn.init.normal_(variation.weight)
    with torch.no_grad():
        before = model(batch)
        model.text.to_difficulty.weight.fill_(1.0)
        after = model(batch)
    torch.testing.assert_close(before[:, :3], after[:, :3])  # no text, no text difficulty
    assert not torch.allclose(before[:, 3], after[:, 3])  # the new question's text sets its difficulty


def _small_akt(**kwargs) -> AKT:
    """A small AKT reading 6-wide question texts."""
    return AKT(n_skills=2, dim=8, n_heads=2, ff_dim=8, head_dim=8, item_vec_dim=6, **kwargs)


def test_akt_can_read_only_the_text_difficulty() -> None:
    """``text_embed=False``: the text reaches AKT through the difficulty it adds to ``mu`` and nowhere else,
    so with that difficulty at zero two different texts give the same predictions."""
    torch.manual_seed(0)
    model = _small_akt(n_problems=2, text_difficulty=True, text_embed=False).eval()
    assert model.text.to_question is None and model.text.to_answer is None
    batch, other = _batch(torch.randn(1, 5, 6)), _batch(torch.randn(1, 5, 6))
    for b in (batch, other):
        b["skill"] = torch.tensor([[1, 2, 1, 2, 1]])
        b["problem"] = torch.tensor([[1, 2, 1, 0, 0]])
    torch.nn.init.normal_(model.rasch.skill_variation.weight)
    with torch.no_grad():
        torch.testing.assert_close(model(batch), model(other))  # the difficulty starts at zero
        model.text.to_difficulty.weight.fill_(1.0)
        assert not torch.allclose(model(batch)[:, 3], model(other)[:, 3])


def test_akt_can_keep_the_text_out_of_its_attention() -> None:
    """``text_in_attention=False``: a question's text reaches its own prediction through the output layer
    only, so the attention, and with it every other step's prediction, is the same for any text."""
    torch.manual_seed(0)
    model = _small_akt(n_problems=2, text_in_attention=False).eval()
    assert model.text.to_answer is None  # no text in the answered steps the attention retrieves from
    vec = torch.randn(1, 5, 6)
    other = vec.clone()
    other[0, 2] = torch.randn(6)
    with torch.no_grad():
        before, after = model(_batch(vec)), model(_batch(other))
    assert not torch.allclose(before[:, 2], after[:, 2])
    torch.testing.assert_close(before[:, [0, 1, 3, 4]], after[:, [0, 1, 3, 4]])


def test_akt_refuses_texts_it_would_not_read() -> None:
    with pytest.raises(ConfigError, match="text_embed"):
        _small_akt(n_problems=2, text_embed=False)
    with pytest.raises(ConfigError, match="text_embed"):  # no problem ids, no Rasch difficulty to move
        _small_akt(text_difficulty=True, text_embed=False)
    with pytest.raises(ConfigError, match="text_in_attention"):  # no text embeddings to move
        _small_akt(n_problems=2, text_difficulty=True, text_embed=False, text_in_attention=False)


def test_a_network_that_reads_no_text_is_refused() -> None:
    from ktlab.models.kt_module import build_network

    with pytest.raises(ConfigError, match="does not read question texts"):
        build_network({"_target_": "ktlab.models.components.sakt.SAKT"}, {"n_skills": 3, "item_vec_dim": 384})


def test_a_tiny_run_with_question_texts_and_a_held_out_fold(make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg(
        "train",
        "data=dbe_kt22",
        f"data.path={ASSETS / 'kt' / 'dbe_kt22'}",
        "data.item_features=[skill_id,problem_id,question_text]",
        "data.held_out_fold=0",
        "data.max_len=40",
        "data.batch_size=16",
        "data.val_fraction=0.2",
        "data.test_fraction=0.2",
        "data.min_eval_answers=0",
        "model=dkt_gru",
        "trainer.max_epochs=1",
    )
    with open_dict(cfg):
        cfg.logger = None
    metrics = train(cfg)
    cached = list((tmp_path / "data" / "cache" / "item_text").rglob("*.npy"))
    assert len(cached) == 30  # every question's text, the held-out ones too
    # the checkpoint alone rebuilds the data (text table included) and scores the test answers alike
    model = load_model(Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt")
    datamodule = restore_datamodule(model)
    datamodule.setup("test")
    assert datamodule.encoder.item_text and datamodule.encoder.text_table.shape == (31, 384)
    scores = held_out_scores(model, datamodule.test_dataloader())
    assert scores["all"]["auc"] == pytest.approx(metrics["test/auc"], abs=1e-5)
    assert scores["unseen"]["answers"] > 0
    assert scores["seen"]["answers"] + scores["unseen"]["answers"] == scores["all"]["answers"]
    # the predictor serves it: the history's questions bring their texts; a candidate's text is unknown
    predictor = Predictor.load(Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt")
    history = DBEKT22Source(ASSETS / "kt" / "dbe_kt22").load(predictor.required_columns())
    history = history[history["student_id"].isin(history["student_id"].unique()[:3])]
    out = predictor.predict(history)
    assert len(out) == 3 * len(datamodule.encoder.skills)
    assert out["p_correct"].between(0, 1).all()
    states = predictor.states(history)
    assert len(states) > 0
