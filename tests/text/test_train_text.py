"""Tiny question-text runs through train.py, eval.py, predict.py and estimate_difficulty.py."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import open_dict
from sklearn.metrics import f1_score

from ktlab.cli import user_error_in
from ktlab.difficulty import estimate_difficulty, held_out, load_students, validate
from ktlab.errors import ConfigError
from ktlab.evaluate import evaluate
from ktlab.evaluation.epoch_metrics import weighted_f1
from ktlab.models.checkpoint import read_checkpoint
from ktlab.predict import predict_frame
from ktlab.text_report import summarize_students
from ktlab.train import train


def test_weighted_f1_equals_scikit_learns() -> None:
    rng = np.random.default_rng(0)
    target = rng.integers(0, 2, size=300)
    predicted = np.where(rng.random(300) < 0.7, target, 1 - target)
    predicted[:40] = 1  # unbalanced predictions
    metric = weighted_f1()
    metric.update(torch.from_numpy(predicted), torch.from_numpy(target))
    assert float(metric.compute()) == pytest.approx(f1_score(target, predicted, average="weighted"), abs=1e-6)


def test_pooled_run_checkpoints_evaluates_predicts_and_exports(text_cfg, make_cfg) -> None:
    cfg = text_cfg()
    metrics = train(cfg)
    assert all(metrics[key] is not None for key in ("test/acc", "test/f1_weighted", "test/auc", "val/auc"))
    assert metrics["test/oracle_auc"] > 0.6  # the simulated students' true probabilities rank their answers
    assert metrics["val/auc_best"] >= metrics["val/auc"]
    out = Path(cfg.paths.output_dir)
    written = json.loads((out / "metrics.json").read_text())
    assert written["test/oracle_auc"] == pytest.approx(metrics["test/oracle_auc"])
    best = out / "checkpoints" / "best.ckpt"
    checkpoint = torch.load(best, map_location="cpu", weights_only=True)  # plain data only
    state = checkpoint["hyper_parameters"]["inputs"]["state"]
    assert isinstance(state["tokenizer"]["json"], str) and len(state["students"]) > 10
    assert checkpoint["hyper_parameters"]["hf_config"]["model_type"] == "modernbert"

    evaluated = evaluate(make_cfg("eval", f"ckpt_path={best}", tiny=False))
    assert evaluated["test/auc"] == pytest.approx(metrics["test/auc"], abs=1e-5)

    questions = pd.read_csv(Path(__file__).parents[1] / "assets" / "text_answers_sample.csv").head(6)
    questions["user_id"] = [state["students"][0]] * 3 + ["nobody"] * 3  # the notebook's names
    predicted = predict_frame(best, questions)
    assert list(predicted.columns) == ["problem_id", "student_id", "p_correct"] and len(predicted) == 6
    assert predicted["student_id"].tolist() == questions["user_id"].tolist()
    assert predicted["p_correct"].between(0, 1).all()

    from transformers import AutoModel, AutoTokenizer

    exported = out / "pretrained"
    assert (exported / "student_heads.safetensors").is_file()
    tokenizer = AutoTokenizer.from_pretrained(exported)
    encoder = AutoModel.from_pretrained(exported)
    assert encoder.config.vocab_size == tokenizer.vocab_size


@pytest.mark.slow  # three tiny runs, about 14 s
def test_two_students_train_each_in_its_folder_and_resume(text_cfg, tmp_path: Path, caplog) -> None:
    root = tmp_path / "per_student"
    for rank in (0, 1):
        cfg = text_cfg(
            "model.net._target_=ktlab.models.components.text_encoder.PerStudentNet",
            f"data.student_rank={rank}",
            "data.top_students=2",
            "ckpt_path=last",
        )
        with open_dict(cfg):
            cfg.paths.output_dir = str(root / f"student_{rank}")
        train(cfg)
    first = read_checkpoint(root / "student_0" / "checkpoints" / "last.ckpt")
    assert len(first["hyper_parameters"]["inputs"]["state"]["students"]) == 1

    cfg = text_cfg("model.net._target_=ktlab.models.components.text_encoder.PerStudentNet", "data.student_rank=0", "data.top_students=2", "ckpt_path=last",
                   "trainer.max_epochs=2")  # fmt: skip
    with open_dict(cfg):
        cfg.paths.output_dir = str(root / "student_0")
    with caplog.at_level(logging.INFO, logger="ktlab.train"):
        train(cfg)
    assert "ckpt_path=last: resuming from" in caplog.text
    resumed = read_checkpoint(root / "student_0" / "checkpoints" / "last.ckpt")
    assert resumed["global_step"] == 2 * first["global_step"]  # one more epoch on top of the first

    table = summarize_students(root)
    assert table["rank"].tolist() == [0, 1] and (table["answers"] >= 12).all()
    assert table["answers"].iloc[0] >= table["answers"].iloc[1]
    assert (root / "students.csv").is_file() and (root / "f1_vs_answers.png").is_file()

    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    exported = root / "student_0" / "pretrained"
    classifier = AutoModelForSequenceClassification.from_pretrained(exported)
    tokenizer = AutoTokenizer.from_pretrained(exported)
    assert classifier.config.id2label == {0: "wrong", 1: "right"}
    model = load_students(root / "student_0" / "checkpoints" / "best.ckpt")[0].model
    text = "Topic: Adding whole numbers\nQuestion: What is 2 + 3?\nA) 5\nB) 6"
    inputs = tokenizer([text], return_tensors="pt")
    with torch.no_grad():
        logits = classifier(**inputs).logits[0]
        mine = model.net.model(**inputs).logits[0]
    assert torch.allclose(logits, mine, atol=1e-5)  # the export is the checkpoint's best model


def test_difficulty_of_held_out_questions_for_both_modes(text_cfg, tmp_path: Path) -> None:
    cfg = text_cfg("data.split_by=question")
    train(cfg)
    models = load_students(Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt")
    datamodule, questions = held_out(models[0])
    assert not set(questions["problem_id"]) & set(datamodule.parts["train"]["problem_id"])
    estimates = estimate_difficulty(models, questions)
    assert len(estimates) == len(questions) and estimates["success_rate"].between(0, 1).all()
    assert (estimates["n_students"] == len(models[0].model.hparams.inputs["state"]["students"])).all()
    harder = estimates["success_rate"].rank() < estimates["success_rate"].rank().max()
    assert (estimates.loc[harder, "difficulty"] >= estimates["difficulty"].min()).all()
    figures, _ = validate(estimates, datamodule, questions, plot=tmp_path / "scatter.png")
    assert {"students", "topic_baseline", "tfidf_ridge_baseline", "text_ceiling"} <= set(figures)
    assert -1 <= figures["students"]["spearman_true"] <= 1 and (tmp_path / "scatter.png").is_file()

    for rank in (0, 1):  # per-student models on the same question split
        cfg = text_cfg(
            "data.split_by=question",
            "model.net._target_=ktlab.models.components.text_encoder.PerStudentNet",
            f"data.student_rank={rank}",
        )
        with open_dict(cfg):
            cfg.paths.output_dir = str(tmp_path / "students" / f"student_{rank}")
        train(cfg)
    students = load_students(tmp_path / "students")
    assert len(students) == 2
    _, same = held_out(students[0])
    assert set(same["problem_id"]) == set(questions["problem_id"])  # one split for every model
    per_student = estimate_difficulty(students, same)
    assert (per_student["n_students"] == 2).all() and per_student["spread"].ge(0).all()


def test_per_student_mode_needs_a_student_rank(text_cfg) -> None:
    with pytest.raises(Exception) as info:  # Hydra wraps what the constructor raises
        train(text_cfg("model.net._target_=ktlab.models.components.text_encoder.PerStudentNet"))
    error = user_error_in(info.value)
    assert isinstance(error, ConfigError) and "PerStudentNet trains one model per student" in str(error)


def test_eval_writes_every_answers_prediction_for_the_text_students(text_cfg, tmp_path: Path) -> None:
    from ktlab.evaluate import evaluate
    from ktlab.evaluation import binary_scores
    from tests.conftest import compose_config

    cfg = text_cfg()
    train(cfg)
    ckpt = Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt"
    eval_cfg = compose_config("eval", [f"ckpt_path={ckpt}"], tmp_path / "eval")
    metrics = evaluate(eval_cfg)
    answers = pd.read_csv(Path(eval_cfg.paths.output_dir) / "predictions.csv", dtype={"student_id": str})
    assert list(answers.columns) == ["student_id", "problem_id", "correct", "p_correct"]
    assert answers["p_correct"].notna().all()
    assert binary_scores(answers["p_correct"], answers["correct"])["auc"] == pytest.approx(
        metrics["test/auc"], abs=1e-5
    )
