"""Wrong inputs of the entry points that take a checkpoint: one paragraph naming the problem, exit 2.

A checkpoint of the other model family (eval.py, estimate_difficulty.py, a resumed train.py), a questions
file that is also the output or lacks a column, an output folder that cannot exist, ``questions=test`` on
a model whose questions were not split; and what works: the questions template, the difficulty plot.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ktlab.difficulty import run as estimate
from ktlab.difficulty import scatter_figure
from ktlab.train import train
from tests.conftest import ASSETS, ROOT, TINY_DATA, TINY_TRAINER, compose_config, shrink_network
from tests.text.conftest import TINY_TEXT


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """A tiny DKT checkpoint (interactions) and a tiny ModernBERT one (question text, split by answer)."""
    out = {}
    tmp = tmp_path_factory.mktemp("dkt")
    cfg = compose_config(
        "train", [*TINY_DATA, *TINY_TRAINER, "model=dkt", "callbacks.progress_bar=null"], tmp
    )
    shrink_network(cfg)
    train(cfg)
    out["dkt"] = Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt"
    tmp = tmp_path_factory.mktemp("text")
    cfg = compose_config("train", TINY_TEXT, tmp)
    train(cfg)
    out["text"] = Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt"
    return out


def _error(capsys) -> str:
    return " ".join(capsys.readouterr().err.split())


def _refused(run, cfg, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        run(cfg)
    assert exit_info.value.code == 2
    message = _error(capsys)
    assert message.startswith("error: ") and "Traceback" not in message
    return message


def _difficulty_cfg(tmp_path: Path, **values: str):
    return compose_config("estimate_difficulty", [f"{k}={v}" for k, v in values.items()], tmp_path)


def test_estimate_difficulty_never_writes_over_its_questions_file(tmp_path: Path, capsys) -> None:
    questions = tmp_path / "questions.csv"
    questions.write_text("question_title\nWhat is 2 + 2?\n")
    before = questions.read_bytes()
    cfg = _difficulty_cfg(
        tmp_path, ckpt_path=tmp_path / "missing.ckpt", questions=questions, output=questions
    )
    message = _refused(estimate, cfg, capsys)
    assert f"output={questions}: is the input file" in message and "overwrite the questions" in message
    assert "missing.ckpt" not in message  # checked before the checkpoint is read
    assert questions.read_bytes() == before


def test_estimate_difficulty_refuses_an_output_folder_that_cannot_exist(tmp_path: Path, capsys) -> None:
    cfg = _difficulty_cfg(tmp_path, ckpt_path=tmp_path / "missing.ckpt", questions="test",
                          output="/proc/nope/x.csv")  # fmt: skip
    message = _refused(estimate, cfg, capsys)
    assert "output=/proc/nope/x.csv: its folder /proc/nope does not exist" in message
    cfg = _difficulty_cfg(tmp_path, ckpt_path=tmp_path / "missing.ckpt", questions=tmp_path / "nope.csv")
    message = _refused(estimate, cfg, capsys)
    assert (
        f"questions={tmp_path / 'nope.csv'}: no such file" in message
        and "make_template.py --questions" in message
    )


def test_a_questions_file_lacking_a_column_is_called_a_questions_file(checkpoints, tmp_path, capsys) -> None:
    questions = tmp_path / "questions.csv"
    pd.DataFrame({"question_title": ["What is 2 + 2?"], "option_a": ["4"], "option_b": ["5"]}).to_csv(
        questions, index=False
    )
    cfg = _difficulty_cfg(tmp_path, ckpt_path=checkpoints["text"], questions=questions)
    message = _refused(estimate, cfg, capsys)
    assert f"{questions} lacks the column(s) option_c, option_d, topic_name" in message
    assert "of a questions file" in message and "answer log" not in message and "answer_id" not in message


def test_the_questions_template_is_read_by_estimate_difficulty(checkpoints, tmp_path, capsys) -> None:
    spec = importlib.util.spec_from_file_location("make_template", ROOT / "scripts" / "make_template.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    template = tmp_path / "new_questions.csv"
    module.main(["--questions", str(template)])
    assert "estimate_difficulty.py" in capsys.readouterr().out
    cfg = _difficulty_cfg(
        tmp_path, ckpt_path=checkpoints["text"], questions=template, output=tmp_path / "d.csv"
    )
    path = estimate(cfg)
    table = pd.read_csv(path)
    assert pd.read_csv(template).columns[0] == "problem_id"  # the record's name, read back as is
    assert table["problem_id"].tolist() == ["new_001", "new_002", "new_003"]
    assert table["success_rate"].between(0, 1).all() and (table["n_students"] > 0).all()


def test_held_out_questions_of_a_run_split_by_answer_name_the_run_to_train(
    checkpoints, tmp_path, capsys
) -> None:
    cfg = _difficulty_cfg(tmp_path, ckpt_path=checkpoints["text"], questions="test")
    message = _refused(estimate, cfg, capsys)
    assert f"questions=test: {checkpoints['text']} was trained with data.split_by=answer" in message
    assert "python train.py experiment=text_pooled" in message and "questions=FILE" in message


def _family_message(message: str, path: Path, holds: str, asked: str) -> None:
    assert f"{path}: holds a model of the {holds} family" in message
    assert f"the data asked for is of the {asked} family" in message


def test_a_checkpoint_of_the_other_family_is_refused_by_every_entry_point(
    checkpoints, tmp_path, capsys
) -> None:
    from ktlab.evaluate import run as evaluate
    from ktlab.train import run as train_run

    dkt, text = checkpoints["dkt"], checkpoints["text"]
    answers = ASSETS / "text_answers_sample.csv"
    cfg = compose_config("eval", [f"ckpt_path={dkt}", "data=answers_csv", f"data.path={answers}"], tmp_path)
    message = _refused(evaluate, cfg, capsys)
    _family_message(message, dkt, "KTDataModule", "TextDataModule")
    assert "model 'dkt'" in message and "leave the data override out" in message
    cfg = compose_config("eval", [f"ckpt_path={text}", "data=synthetic"], tmp_path)
    _family_message(_refused(evaluate, cfg, capsys), text, "TextDataModule", "KTDataModule")
    cfg = _difficulty_cfg(tmp_path, ckpt_path=dkt, questions="test")
    message = _refused(estimate, cfg, capsys)
    _family_message(message, dkt, "KTDataModule", "TextDataModule")
    assert "experiment=text_pooled" in message
    cfg = compose_config("train", [*TINY_TEXT, f"ckpt_path={dkt}"], tmp_path)
    message = _refused(train_run, cfg, capsys)
    _family_message(message, dkt, "KTDataModule", "TextDataModule")
    assert "drop ckpt_path to start afresh" in message
    assert not (Path(cfg.paths.output_dir) / "checkpoints").exists()


def test_the_difficulty_plot_keeps_rates_in_0_1_and_prints_each_spearman() -> None:
    rng = np.random.default_rng(0)
    true = rng.uniform(0.05, 0.95, 30)
    table = pd.DataFrame({
        "problem_id": [f"q{i}" for i in range(30)], "true_success": true,
        "observed_success": np.clip(true + rng.normal(0, 0.1, 30), 0, 1),
        "success_rate": true * 0.8 + 0.1, "topic_baseline": np.round(true, 1),
        "tfidf_ridge_baseline": true * 1.6 - 0.3,  # a ridge fit overshoots: -0.22 .. 1.22
    })  # fmt: skip
    fig = scatter_figure(table)
    for ax, column in zip(fig.axes, ("observed_success", "true_success"), strict=True):
        assert ax.get_xlim() == (0, 1) and ax.get_ylim() == (0, 1)
        for points in ax.collections:
            xy = points.get_offsets()
            assert (xy >= 0).all() and (xy <= 1).all()
        text = " ".join(t.get_text() for t in ax.texts)
        drawn = (("success_rate", "synthetic students"), ("tfidf_ridge_baseline", "TF-IDF + ridge"),
                 ("topic_baseline", "topic rate"))  # fmt: skip
        for estimate_column, name in drawn:
            rho = pd.Series(table[estimate_column]).corr(table[column], method="spearman")
            assert f"{name}: {rho:.3f}" in text


def test_predict_on_a_file_of_the_other_family_names_the_family_of_the_checkpoint(
    checkpoints, tmp_path, capsys
) -> None:
    from ktlab.predict import run as predict

    dkt, text = checkpoints["dkt"], checkpoints["text"]
    answers = ASSETS / "text_answers_sample.csv"
    cfg = compose_config("predict", [f"ckpt_path={dkt}", f"input={answers}"], tmp_path)
    message = _refused(predict, cfg, capsys)
    assert (
        f"{answers}" in message and f"({dkt} holds a model of the KTDataModule family (model 'dkt'" in message
    )
    interactions = ASSETS / "assist2009_sample.csv"
    cfg = compose_config("predict", [f"ckpt_path={text}", f"input={interactions}"], tmp_path)
    message = _refused(predict, cfg, capsys)
    assert (
        f"{interactions} lacks the column(s) question_title" in message and "of a questions file" in message
    )
    assert f"({text} holds a model of the TextDataModule family (model 'modernbert'" in message
    assert not (Path(cfg.paths.output_dir) / "predictions.csv").exists()
