"""The evaluator: one protocol and one set of metric definitions, agreeing with training's test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from ktlab.evaluation import Evaluator, NextStepProtocol, binary_scores
from ktlab.evaluation.evaluator import scores_by_group
from ktlab.models.checkpoint import load_model, restore_datamodule
from ktlab.train import train
from tests.conftest import TINY, compose_config, shrink_network


def test_binary_scores_match_their_definitions() -> None:
    p = np.array([0.9, 0.2, 0.7, 0.4, 0.6])
    y = np.array([1, 0, 0, 1, 1])
    scores = binary_scores(p, y)
    assert scores["auc"] == pytest.approx(roc_auc_score(y, p))
    assert scores["acc"] == pytest.approx(3 / 5)  # 0.9, 0.2 and 0.6 are right; 0.7 and 0.4 are wrong
    assert scores["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert scores["answers"] == 5
    # every probability in its own bin: ECE = mean |p - y| over answers
    assert scores["ece"] == pytest.approx(np.mean(np.abs(p - y)), abs=1e-6)


def test_undefined_values_are_none_not_numbers() -> None:
    one_class = binary_scores(np.array([0.3, 0.8]), np.array([1, 1]))
    assert one_class["auc"] is None
    assert one_class["acc"] == pytest.approx(0.5)
    empty = binary_scores(np.zeros(0), np.zeros(0))
    assert empty == {"auc": None, "acc": None, "brier": None, "ece": None, "answers": 0}


def test_next_step_protocol_scores_every_real_step_but_the_first() -> None:
    mask = torch.tensor([[True, True, True], [True, True, False]])
    scored = NextStepProtocol().scored({"mask": mask})
    assert scored.tolist() == [[False, True, True], [False, True, False]]
    assert mask.tolist() == [[True, True, True], [True, True, False]]  # the batch is left as it was


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("evaluation")
    cfg = compose_config("train", list(TINY), tmp)
    shrink_network(cfg)
    train(cfg)
    return Path(cfg.paths.output_dir)


def test_evaluator_agrees_with_the_training_test_and_keeps_every_answer(run: Path) -> None:
    model = load_model(run / "checkpoints" / "best.ckpt")
    datamodule = restore_datamodule(model)
    datamodule.setup("test")
    evaluator = Evaluator()
    scores = evaluator.run(model, datamodule.test_dataloader())
    logged = json.loads((run / "metrics.json").read_text())
    logged = logged.get("metrics", logged)
    for key in ("auc", "acc", "brier", "ece", "oracle_auc"):
        assert scores[key] == pytest.approx(logged[f"test/{key}"], abs=1e-4), key

    frame = datamodule.parts["test"]
    predictions = evaluator.predictions(frame, datamodule.datasets["test"].encoded.source_rows)
    assert len(predictions) == scores["answers"]
    assert not predictions.duplicated(["student_id", "t"]).any()  # each answer scored once
    firsts = frame.groupby("student_id")["t"].min()
    assert not (
        predictions.set_index("student_id")["t"] == firsts.reindex(predictions["student_id"]).values
    ).any()
    merged = predictions.merge(frame, on=["student_id", "t"], suffixes=("", "_frame"))
    assert (merged["correct"] == merged["correct_frame"]).all()
    assert (merged["skill_id"] == merged["skill_id_frame"]).all()
    again = binary_scores(predictions["p_correct"], predictions["correct"])
    assert again["auc"] == pytest.approx(scores["auc"])

    per_skill = scores_by_group(predictions, "skill_id")
    assert per_skill["answers"].sum() == len(predictions)
    assert set(per_skill["skill_id"]) == set(predictions["skill_id"])
    assert isinstance(per_skill, pd.DataFrame)


def test_eval_writes_predictions_from_which_its_metrics_recompute(
    run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ktlab.evaluate
    from ktlab.evaluate import evaluate

    calls: list[int] = []
    loaded: list[torch.nn.Module] = []

    def counting_load(*args, **kwargs):
        model = load_model(*args, **kwargs)
        model.net.register_forward_hook(lambda *_: calls.append(1))
        loaded.append(model)
        return model

    monkeypatch.setattr(ktlab.evaluate, "load_model", counting_load)
    cfg = compose_config("eval", [f"ckpt_path={run / 'checkpoints' / 'best.ckpt'}"], tmp_path)
    metrics = evaluate(cfg)
    datamodule = restore_datamodule(loaded[0])
    datamodule.setup("test")
    assert len(calls) == len(datamodule.test_dataloader())  # one pass gives the metrics and the answers
    answers = pd.read_csv(Path(cfg.paths.output_dir) / "predictions.csv", dtype={"student_id": str})
    assert list(answers.columns) == ["student_id", "t", "problem_id", "skill_id", "correct", "p_correct"]
    again = binary_scores(answers["p_correct"], answers["correct"])
    assert again["auc"] == pytest.approx(metrics["test/auc"], abs=1e-5)
    assert again["acc"] == pytest.approx(metrics["test/acc"], abs=1e-5)
    assert again["brier"] == pytest.approx(metrics["test/brier"], abs=1e-5)


class FirstHalfProtocol(NextStepProtocol):
    """Scores only the first half of each window: a protocol that visibly differs from the default."""

    name = "first_half"

    def scored(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        scored = super().scored(batch)
        scored[:, scored.shape[1] // 2 :] = False
        return scored


def test_the_protocol_is_an_object_the_module_is_given(make_cfg) -> None:
    cfg = make_cfg("train", "+model.protocol._target_=tests.test_evaluation.FirstHalfProtocol", "test=false")
    train(cfg)
    model = load_model(Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt")
    assert isinstance(model.protocol, FirstHalfProtocol)  # rebuilt from the checkpoint alone
    datamodule = restore_datamodule(model)
    datamodule.setup("test")
    default = Evaluator().run(model, datamodule.test_dataloader())
    halved = Evaluator(model.protocol).run(model, datamodule.test_dataloader())
    assert 0 < halved["answers"] < default["answers"]
