"""Answers tagged with several skills: one row per skill, read as history, scored and trained once."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ktlab.data.encoding import InteractionEncoder
from ktlab.data.schema import validate_interactions
from ktlab.data.synthetic import ClassroomConfig, generate_classroom
from ktlab.errors import DataValidationError
from ktlab.evaluation import Evaluator, NextStepProtocol
from ktlab.models.checkpoint import load_model, restore_datamodule
from ktlab.train import train
from tests.conftest import compose_config, shrink_network

CORE = ["student_id", "t", "skill_id", "correct"]


def _answers(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[*CORE, "problem_id"])


def test_rows_of_one_answer_share_t_and_keep_their_order() -> None:
    frame = _answers(
        [("a", 1, "s2", 1, "p1"), ("a", 1, "s1", 1, "p1"), ("a", 0, "s3", 0, "p0"), ("b", 0, "s1", 1, "p1")]
    )
    clean = validate_interactions(frame, "answers.csv", required=[*CORE, "problem_id"])
    encoder = InteractionEncoder([], [], ["skill_id", "problem_id"]).fit(clean)
    encoded = encoder.transform(clean)
    # learner a: t=0 (s3), then the answer at t=1 on s2 then s1, as listed; learner b: one answer
    assert encoded.fields["copy"].tolist() == [False, False, True, False]
    skills = np.asarray(encoder.skills, dtype=object)[encoded.fields["skill"] - 1].tolist()
    assert skills == ["s3", "s2", "s1", "s1"]
    assert encoded.source_rows.tolist() == [2, 0, 1, 3]


@pytest.mark.parametrize(
    ("second", "why"),
    [
        (("a", 1, "s1", 1, "p1"), "names the same skill twice"),
        (("a", 1, "s2", 0, "p1"), "disagrees on correct/problem_id"),
        (("a", 1, "s2", 1, "p9"), "disagrees on correct/problem_id"),
    ],
)
def test_a_repeated_step_that_is_not_another_skill_of_the_answer_is_refused(second: tuple, why: str) -> None:
    frame = _answers([("a", 0, "s1", 1, "p0"), ("a", 1, "s1", 1, "p1"), second])
    with pytest.raises(DataValidationError) as err:
        validate_interactions(frame, "answers.csv", required=[*CORE, "problem_id"], line_offset=2)
    message = str(err.value)
    assert "answers.csv, row 3 (line 4)" in message
    assert why in message


def test_copies_are_neither_scored_nor_trained_on() -> None:
    batch = {
        "mask": torch.tensor([[True, True, True, True]]),
        "copy": torch.tensor([[False, False, True, False]]),
    }
    assert NextStepProtocol().scored(batch).tolist() == [[False, True, False, True]]


def _multi_skill_classroom(path: Path) -> pd.DataFrame:
    """The synthetic classroom with every third answer also tagged with the next skill."""
    frame = generate_classroom(ClassroomConfig(n_students=60, min_len=12, max_len=24, seed=4))
    extra = frame.iloc[::3].copy()
    skills = sorted(frame["skill_id"].unique())
    extra["skill_id"] = extra["skill_id"].map(
        {s: skills[(i + 1) % len(skills)] for i, s in enumerate(skills)}
    )
    both = pd.concat([frame.assign(order=0), extra.assign(order=1)])
    both = both.sort_values(["student_id", "t", "order"], kind="stable").drop(columns="order")
    both.to_csv(path, index=False)
    return both


def test_training_on_multi_skill_answers_scores_each_answer_once(tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    table = _multi_skill_classroom(path)
    cfg = compose_config(
        "train",
        [
            "data=csv",
            f"data.path={path}",
            "data.max_len=16",
            "data.batch_size=16",
            "data.val_fraction=0.2",
            "data.test_fraction=0.2",
            "trainer.max_epochs=1",
            "model=dkt",
        ],
        tmp_path,
    )
    shrink_network(cfg)
    train(cfg)
    run = Path(cfg.paths.output_dir)
    model = load_model(run / "checkpoints" / "best.ckpt")
    datamodule = restore_datamodule(model)
    datamodule.setup("test")
    evaluator = Evaluator()
    scores = evaluator.run(model, datamodule.test_dataloader())
    encoded = datamodule.datasets["test"].encoded
    predictions = evaluator.predictions(datamodule.parts["test"], encoded.source_rows)
    assert not predictions.duplicated(["student_id", "t"]).any()  # one score per answer, not per skill
    # the rows scored: every row after its window's first step that starts an answer (not a copy)
    dataset = datamodule.datasets["test"]
    rows = np.concatenate(
        [np.arange(s + 1, s + n) for s, n in zip(dataset.starts, dataset.lengths, strict=True)]
    )
    assert scores["answers"] == int((~encoded.fields["copy"][rows]).sum())
    test_table = table[table["student_id"].isin(set(datamodule.parts["test"]["student_id"]))]
    assert int(encoded.fields["copy"].sum()) == int(test_table.duplicated(["student_id", "t"]).sum()) > 0
    logged = json.loads((run / "metrics.json").read_text())
    logged = logged.get("metrics", logged)
    assert logged["test/auc"] == pytest.approx(scores["auc"], abs=1e-4)
