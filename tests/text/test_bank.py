"""The question bank's ground truth: difficulty follows the documented text features; truth is consistent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from ktlab.data.text.bank import CLOSE_EFFECT, DIGIT_EFFECT, FAMILIES, STEP_EFFECT, WORD_EFFECT, GeneratedBank
from ktlab.data.text.eedi import EediBank
from ktlab.data.text.students import StudentConfig, simulate_answers, text_ceiling
from ktlab.errors import ConfigError
from tests.conftest import ASSETS


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    return GeneratedBank(n_questions=400, seed=2).questions()


def test_visible_difficulty_is_the_documented_function_of_the_text_features(bank) -> None:
    base = bank["family"].map({k: f.base for k, f in FAMILIES.items()})
    start = bank["family"].map({k: f.min_digits for k, f in FAMILIES.items()})
    raw = (base + DIGIT_EFFECT * (bank["digits"] - start) + STEP_EFFECT * (bank["steps"] - 1)
           + CLOSE_EFFECT * bank["close"] + WORD_EFFECT * bank["word"])  # fmt: skip
    assert np.allclose(bank["b_visible"], raw - raw.mean())
    assert (bank["difficulty"] == bank["b_visible"] + bank["item_effect"]).all()


def test_difficulty_rises_with_each_feature_the_others_fixed(bank) -> None:
    for feature in ("digits", "steps", "close", "word"):
        others = [c for c in ("family", "digits", "steps", "close", "word") if c != feature]
        for _, group in bank.groupby(others):
            if group[feature].nunique() > 1:
                by_value = group.groupby(feature)["b_visible"].mean()
                assert by_value.is_monotonic_increasing, feature


def test_digit_counts_are_what_the_bare_question_shows(bank) -> None:
    bare = bank[bank["word"] == 0]
    assert (bare["question_title"].str.count(r"\d") == bare["digits"]).all()
    # the right option is among the options, and the options are distinct
    options = bank[["option_a", "option_b", "option_c", "option_d", "option_e"]]
    assert (options.apply(lambda r: r[r != ""].is_unique, axis=1)).all()


def test_hidden_share_sets_the_item_effect_and_the_text_ceiling(bank) -> None:
    share = bank["item_effect"].var() / bank["difficulty"].var()
    assert 0.1 < share < 0.3  # configured 0.2 (sampling noise on 400 questions)
    students = StudentConfig(n_students=300, seed=1)
    _, truth = simulate_answers(bank, students)
    ceiling = text_ceiling(truth)
    assert 0.75 < ceiling < 0.97
    clear = GeneratedBank(n_questions=200, seed=2, hidden_share=0.0).questions()
    assert text_ceiling(simulate_answers(clear, students)[1]) == pytest.approx(1.0)


def test_students_answer_through_the_item_response_model(bank) -> None:
    answers, truth = simulate_answers(bank, StudentConfig(n_students=300, seed=3))
    assert (
        answers["answer_id"].is_unique
        and answers.groupby("student_id")["problem_id"].apply(lambda q: q.is_unique).all()
    )
    assert abs(answers["correct"].mean() - answers["p_correct_true"].mean()) < 0.02
    # harder questions are answered right less often, in truth and in the observed answers
    assert spearmanr(truth["difficulty"], truth["true_success"]).statistic < -0.95
    observed = answers.groupby("problem_id")["correct"].mean()
    assert (
        spearmanr(truth.set_index("problem_id").loc[observed.index, "true_success"], observed).statistic > 0.5
    )
    counts = answers["student_id"].value_counts()
    assert counts.max() > 3 * counts.median()  # a few very active students


def test_bad_generator_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"hidden_share=1.5: must be in \[0.0, 1.0\)"):
        GeneratedBank(n_questions=40, hidden_share=1.5)


def test_eedi_questions_get_a_documented_difficulty() -> None:
    bank = EediBank(str(ASSETS / "eedi_questions_sample.csv")).questions()
    assert len(bank) == 40 and bank["problem_id"].str.startswith("eedi").all()
    assert set(bank["axis_name"]) <= {"Number", "Algebra", "Geometry", "Statistics"}
    assert bank["correct_option"].isin(list("abcd")).all()
    assert bank["question_title"].str.len().min() > 0 and (bank["option_e"] == "").all()
    assert np.isfinite(bank["difficulty"]).all() and bank["b_visible"].std() > 0
