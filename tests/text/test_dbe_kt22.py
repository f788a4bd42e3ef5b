"""DBE-KT22 for the text family: the reader, the question-held-out folds and the baselines (a slice in assets)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from ktlab.data.text.baselines import TextLogistic, skill_mean
from ktlab.data.text.datamodule import TextDataModule
from ktlab.data.text.dbe_kt22 import DBEKT22Source, item_table, read_answers, read_items
from ktlab.data.text.html import html_to_text
from ktlab.data.text.splits import question_folds
from ktlab.data.text.template import PromptTemplate
from ktlab.errors import ConfigError, DataValidationError
from tests.conftest import ASSETS

SAMPLE = ASSETS / "dbe_kt22_sample"


def test_html_is_stripped_entities_decoded_and_images_marked() -> None:
    html = (
        "<html><head><style>td {color: red}</style></head><body>"
        "Is <b>A &amp; B</b> &lt;= C&#8217;s key?<br>\r\nsee\nbelow<img src='plot.png'/>"
        "<table><tr><td>x</td><td>y</td></tr></table>"
        '<img src="http://latex.codecogs.com/gif.latex?\\bf \\color{red} {\\pi_{id}(R)}" border="0"/></body></html>'
    )
    text, n_images = html_to_text(html)
    assert n_images == 2
    assert text.splitlines() == [
        "Is A & B <= C\u2019s key?",
        "see below [image]",
        "x | y",
        "[image: {\\pi_{id}(R)}]",
    ]
    assert "color" not in text
    assert html_to_text(html, image_marker="<img>", formula_marker=None)[0].count("<img>") == 2


def test_reader_gives_questions_as_text_with_options_key_and_image_flag() -> None:
    questions = read_items(SAMPLE)
    raw = pd.read_csv(SAMPLE / "items.csv")
    assert len(questions) == len(raw) == 22 and questions["problem_id"].is_unique
    assert not questions["question_title"].str.contains("<").any()  # no tag left
    flagged = questions.set_index("problem_id")["has_image"]
    assert flagged.sum() == raw["has_img"].sum() > 0
    with_image = questions[questions["has_image"]]
    assert with_image["question_title"].str.contains(r"\[image", regex=True).all()
    two = questions[questions["option_c"] == ""]
    assert len(two) >= 3 and (two["option_a"] != "").all() and (two["option_b"] != "").all()
    assert questions["correct_option"].isin(list("abcde")).all()
    first = raw.iloc[0]
    row = questions.set_index("problem_id").loc[str(first["question_id"])]
    key = next(
        c for c in pd.read_json(pd.io.common.StringIO(first["choices_json"])).itertuples() if c.is_correct
    )
    assert row[f"option_{row['correct_option']}"] == html_to_text(key.text)[0]
    assert row["skill_set"] == "|".join(sorted(first["kc_names"].split("|")))
    text = PromptTemplate("{question_title}\n{options}\nAnswer: {answer}").render(questions.head(1))[0]
    assert text.endswith("Answer: " + row[f"option_{row['correct_option']}"])


def test_answers_are_first_attempts_by_default_and_all_as_an_option() -> None:
    raw = pd.read_csv(SAMPLE / "interactions.csv")
    resolved = raw["question_id"].notna()
    first = read_answers(SAMPLE)
    every = read_answers(SAMPLE, attempts="all")
    assert len(first) == int(((raw["attempt_no"] == 1) & resolved).sum())
    assert len(every) == int(resolved.sum()) > len(first)
    assert list(first.columns) == ["answer_id", "student_id", "problem_id", "correct", "attempt_no"]
    assert not first.duplicated(["student_id", "problem_id"]).any()  # one first attempt per question
    assert set(first["correct"]) <= {0, 1}
    with pytest.raises(ConfigError, match="attempts='last'"):
        read_answers(SAMPLE, attempts="last")


def test_a_broken_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "items.csv").write_text("question_id,question_rich_text\n1,Hi\n")
    with pytest.raises(DataValidationError, match="lacks the column\\(s\\) choices_json, kc_names"):
        read_items(tmp_path)
    items = pd.read_csv(SAMPLE / "items.csv").head(3)
    items.loc[1, "choices_json"] = '[{"text": "only one", "is_correct": true}]'
    items.to_csv(tmp_path / "items.csv", index=False)
    with pytest.raises(DataValidationError, match=r"row 2 .*'choices_json': 1 option\(s\) with 1 key"):
        read_items(tmp_path)


def test_folds_keep_skill_sets_whole_and_hold_every_question_out_once() -> None:
    data = DBEKT22Source(str(SAMPLE)).load()
    folds = question_folds(data.answers, 5, 0)
    assert len(folds) == 22 and set(folds) == set(range(5))
    per_set = data.questions.assign(fold=data.questions["problem_id"].map(folds)).groupby("skill_set")["fold"]
    assert (per_set.nunique() == 1).all()
    tested: list[str] = []
    for k in range(5):
        datamodule = TextDataModule(DBEKT22Source(str(SAMPLE)), split_by="fold", fold=k, split_seed=0,
                                    val_fraction=0.15, tokenizer={"vocab_size": 200})  # fmt: skip
        datamodule.setup()
        parts = {name: set(datamodule.parts[name]["problem_id"]) for name in ("train", "val", "test")}
        sets = {name: set(datamodule.parts[name]["skill_set"]) for name in ("train", "val", "test")}
        assert parts["test"] == set(folds.index[folds == k])
        assert not (sets["train"] & sets["test"]) and not (sets["train"] & sets["val"])
        tested += sorted(parts["test"])
    assert sorted(tested) == sorted(data.questions["problem_id"])  # each exactly once
    with pytest.raises(ConfigError, match=r"data\.n_folds=30"):
        question_folds(data.answers, 30, 0)


def test_skill_mean_averages_the_skills_training_rates() -> None:
    train = pd.DataFrame({"skill_set": ["a", "a", "a|b", "b", "c"], "correct": [1, 0, 1, 0, 1]})
    questions = pd.DataFrame({"skill_set": ["a|b", "b", "d"]})
    # a: 2 of 3 right; b: 1 of 2; d unseen -> overall 3 of 5
    assert skill_mean(train, questions) == pytest.approx([(2 / 3 + 1 / 2) / 2, 1 / 2, 3 / 5])


def test_tfidf_logistic_on_counts_equals_one_row_per_answer() -> None:
    texts = ["select from join", "select where", "join on key", "lock commit abort", "commit log redo"]
    right, wrong = np.array([8, 3, 5, 1, 6]), np.array([2, 7, 5, 9, 4])
    model = TextLogistic(C=2.0).fit(texts, right, wrong)
    features = model.pipeline_.named_steps["tfidf"].transform(texts)
    rows = np.repeat(np.arange(5), right + wrong)
    labels = np.concatenate([np.r_[np.ones(r), np.zeros(w)] for r, w in zip(right, wrong, strict=True)])
    reference = LogisticRegression(C=2.0, max_iter=2000).fit(features[rows], labels)
    assert model.predict_proba(texts) == pytest.approx(reference.predict_proba(features)[:, 1], abs=1e-4)
    order = np.argsort(model.predict_proba(texts))
    assert order[0] == 3 and order[-1] == 0  # the hardest and the easiest question


def test_item_table_holds_the_observed_first_attempt_rates() -> None:
    data = DBEKT22Source(str(SAMPLE)).load()
    items = item_table(data).set_index("problem_id")
    answers = read_answers(SAMPLE)
    assert items["success_rate"].to_dict() == pytest.approx(
        answers.groupby("problem_id")["correct"].mean().to_dict()
    )
    assert items["n_answers"].sum() == len(answers)
