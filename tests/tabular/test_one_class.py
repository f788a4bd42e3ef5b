"""Labels of one class are refused (naming rows, learners and classes), not trained and scored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra.core.global_hydra import GlobalHydra

from ktlab.tabular.difficulty import DifficultyOptimizer
from ktlab.tabular.errors import TabularError
from ktlab.tabular.labels import split_learners
from ktlab.tabular.synthetic import generate_platform
from ktlab.tabular.train import train
from tests.tabular.test_run import TINY_RUN, _compose


def _answers_file(tmp_path: Path, correct_for: str) -> Path:
    data = generate_platform(n_learners=30, weeks=2, seed=4)
    answers = data.answers.merge(data.learners, on="student_id")
    if correct_for == "all":
        answers["correct"] = 1
    else:  # the learners train_tabular.py holds out (seed 7, test_fraction 0.2) answer everything right
        learners = answers["student_id"].astype(str)  # a file's student_id is read as text
        _, held = split_learners(learners.to_numpy(), 0.2, 7)
        answers.loc[learners.isin(held), "correct"] = 1
    path = tmp_path / "answers.csv"
    answers.drop(columns=["p_correct_true"]).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("correct_for", "expected"),
    [
        ("all", r"answers\.csv: \d+ answers of 30 learners, all with correct=1 \(1 class\)"),
        (
            "held_out",
            r"the held-out learners \(6\) have \d+ next-answer rows \(label correct\) of 1 class "
            r"\(all labelled 1\)",
        ),
    ],
)
def test_one_label_class_is_refused(tmp_path: Path, correct_for: str, expected: str) -> None:
    path = _answers_file(tmp_path, correct_for)
    cfg = _compose(tmp_path, ["data=file", f"data.path={path}", "seed=7", *TINY_RUN[2:]])
    try:
        with pytest.raises(TabularError, match=expected):
            train(cfg)
    finally:
        GlobalHydra.instance().clear()
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_fit_on_one_class_names_rows_and_classes() -> None:
    X = pd.DataFrame({"target_level": [1.0, 2.0, 3.0]})
    with pytest.raises(TabularError, match=r"3 training answers and 1 label class \(all labelled 1\)"):
        DifficultyOptimizer(n_estimators=2).fit(X, np.ones(3, dtype=int))


def test_training_audit_without_known_groups_is_not_judged(tmp_path: Path) -> None:
    data = generate_platform(n_learners=30, weeks=2, seed=4)
    path = tmp_path / "answers.csv"
    data.answers.drop(columns=["p_correct_true"]).to_csv(path, index=False)  # no grade, no style
    cfg = _compose(tmp_path, ["data=file", f"data.path={path}", *TINY_RUN[2:]])
    try:
        metrics = train(cfg)
    finally:
        GlobalHydra.instance().clear()
    audits = json.loads((tmp_path / "run" / "fairness.json").read_text())["audits"]
    assert [a["judged"] for a in audits] == [False, False]
    assert all(a["assessment"].startswith("cannot be judged") for a in audits)
    assert not any(key.startswith("fairness/") for key in metrics)
    assert "no disparity" not in (tmp_path / "run" / "fairness.txt").read_text()
