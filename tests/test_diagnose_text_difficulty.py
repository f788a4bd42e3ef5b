"""The per-question diagnostics of ``scripts/diagnose_text_difficulty.py`` on answers built by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scripts.diagnose_text_difficulty import describe


def _answers() -> pd.DataFrame:
    """Four questions, 30 answers each; skill 1 (questions 0-1) is moved up by the text difficulty and
    skill 2 (questions 2-3) down; question success rates 0.2, 0.4, 0.6, 0.8."""
    rows = []
    for question, (skill, success, difficulty) in enumerate(
        [(1, 0.2, -1.0), (1, 0.4, -0.5), (2, 0.6, 0.5), (2, 0.8, 1.0)]
    ):
        sign = 1.0 if skill == 1 else -1.0
        for i in range(30):
            correct = float(i < round(30 * success))
            zeroed = 0.5 * correct - 0.25
            rows.append((question, skill, 0, correct, zeroed + sign * 0.1 * difficulty, zeroed, difficulty))
    names = ["question", "skill", "held_out", "correct", "logit", "logit_zeroed", "difficulty"]
    return pd.DataFrame(rows, columns=names)


def test_describe_counts_the_skills_each_way_and_ranks_the_questions() -> None:
    result = describe(_answers(), min_answers=20)
    assert result["answers"] == 120 and result["questions"] == 4
    assert result["skills_moved"] == 2 and result["skills_moved_up"] == 1  # skill 1 up, skill 2 down
    assert result["difficulty_vs_success"] == pytest.approx(1.0)  # difficulty sorted as success
    assert result["predicted_vs_success"] == pytest.approx(1.0)
    assert 0.5 < result["auc"] <= 1.0 and result["auc_difficulty_zeroed"] == pytest.approx(1.0)


def test_describe_leaves_out_questions_with_few_answers() -> None:
    answers = _answers()
    result = describe(answers[~((answers["question"] == 3) & (answers.index % 2 == 0))], min_answers=20)
    assert result["questions"] == 3
    assert np.isfinite(result["difficulty_vs_success"])
