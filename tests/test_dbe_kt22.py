"""DBE-KT22's reader and question-held-out tracing, on the slice in tests/assets/kt/dbe_kt22."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ktlab.data.formats.dbe_kt22 import DBEKT22Source, DBEKT22Texts
from ktlab.data.held_out import HELD_OUT, QuestionHeldOutDataModule, question_folds
from ktlab.data.schema import required_columns
from ktlab.errors import ConfigError, DataValidationError
from ktlab.evaluation.held_out import FlaggedProtocol
from tests.conftest import ASSETS

DBE = ASSETS / "kt" / "dbe_kt22"
SIGNALS = (["attempt_no", "duration_bin", "gap_bin"], ["attempt_no", "gap_bin"], ["skill_id", "problem_id"])


def test_answers_become_one_row_per_skill_sharing_their_step() -> None:
    raw = pd.read_csv(DBE / "interactions.csv", dtype=str, keep_default_na=False)
    items = pd.read_csv(DBE / "items.csv", dtype=str)
    n_skills = items.set_index("question_id")["kc_names"].str.count(r"\|") + 1
    frame = DBEKT22Source(DBE).load(required_columns(*SIGNALS))
    first = raw[(raw["attempt_no"] == "1.0") & (raw["question_id"] != "")]
    assert len(frame) == int(n_skills[first["question_id"]].sum())  # one row per skill of each answer
    assert frame.groupby(["student_id", "t"]).ngroups == len(first)
    assert (frame["attempt_no"] == 1).all()
    multi = frame[frame.duplicated(["student_id", "t"], keep=False)]
    assert len(multi) and (multi.groupby(["student_id", "t"])["correct"].nunique() == 1).all()
    every = DBEKT22Source(DBE, attempts="all").load(required_columns(*SIGNALS))
    assert (
        every["attempt_no"].max() > 1
        and every.groupby(["student_id", "t"]).ngroups == (raw["question_id"] != "").sum()
    )
    assert set(every.columns) >= {"duration_bin", "gap_bin", "problem_id"}


def test_a_bad_value_is_named_by_file_line_and_column(tmp_path: Path) -> None:
    shutil.copytree(DBE, tmp_path / "dbe")
    path = tmp_path / "dbe" / "interactions.csv"
    lines = path.read_text().splitlines()
    fields = lines[3].split(",")
    fields[3] = "2"  # correct
    lines[3] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataValidationError) as err:
        DBEKT22Source(tmp_path / "dbe", attempts="all").load(required_columns(*SIGNALS))
    assert "(line 4), column 'correct': value '2' is not 0 or 1" in str(err.value)
    with pytest.raises(ConfigError, match="attempts"):
        DBEKT22Source(DBE, attempts="second")


def test_question_texts_keep_stem_and_options_without_markup() -> None:
    texts = DBEKT22Texts(DBE).texts()
    assert len(texts) == 30
    text = next(iter(texts.values()))
    assert "\n- " in text and "<" not in text and "&nbsp;" not in text


def _datamodule(fold: int | None, **kwargs) -> QuestionHeldOutDataModule:
    return QuestionHeldOutDataModule(
        held_out_fold=fold,
        source=DBEKT22Source(DBE),
        context_features=SIGNALS[0],
        query_features=SIGNALS[1],
        item_features=SIGNALS[2],
        max_len=40,
        batch_size=8,
        val_fraction=0.2,
        test_fraction=0.2,
        min_eval_answers=0,
        **kwargs,
    )


def test_held_out_questions_never_reach_training_and_are_flagged_in_test() -> None:
    datamodule = _datamodule(1)
    datamodule.setup()
    held = datamodule.held_out_questions
    frame = datamodule.parts["all"]
    folds = question_folds(frame, 5, 0)
    assert held == set(folds.index[folds == 1]) and held
    skill_sets = frame.groupby("problem_id")["skill_id"].agg(lambda s: frozenset(s))
    for skills in set(skill_sets[list(held)]):  # a skill set is whole in one fold
        assert set(skill_sets.index[skill_sets == skills]) <= held
    for split in ("train", "val"):
        assert not datamodule.parts[split]["problem_id"].isin(held).any()
    assert datamodule.parts["test"]["problem_id"].isin(held).any()
    assert not set(datamodule.encoder.vocab["problem_id"]) & held  # their ids are unknown (0)
    batches = list(datamodule.dataloader("test"))
    flagged = torch.cat([b[HELD_OUT][b["mask"]] for b in batches])
    problems = torch.cat([b["problem"][b["mask"]] for b in batches])
    assert flagged.any() and (problems[flagged] == 0).all()
    unseen = sum(int(FlaggedProtocol(flagged=True).scored(b).sum()) for b in batches)
    seen = sum(int(FlaggedProtocol(flagged=False).scored(b).sum()) for b in batches)
    scored = sum(int(FlaggedProtocol(flagged=True).base.scored(b).sum()) for b in batches)
    assert unseen > 0 and seen > 0 and unseen + seen == scored


def test_without_a_fold_nothing_is_held_out_and_a_bad_fold_is_refused() -> None:
    datamodule = _datamodule(None)
    datamodule.setup()
    assert not datamodule.held_out_questions
    assert not np.concatenate([b[HELD_OUT][b["mask"]].numpy() for b in datamodule.dataloader("test")]).any()
    with pytest.raises(ConfigError, match="held_out_fold=5"):
        _datamodule(5)


def test_problem_dropout_hides_ids_in_training_batches_only() -> None:
    datamodule = _datamodule(None, problem_dropout=0.5)
    datamodule.setup()
    torch.manual_seed(0)
    train = [b for b in datamodule.dataloader("train")]
    hidden = torch.cat([(b["problem"] == 0)[b["mask"]] for b in train]).float().mean()
    assert 0.4 < float(hidden) < 0.6  # about half, drawn per step
    for split in ("val", "test"):
        assert all((b["problem"] > 0)[b["mask"]].all() for b in datamodule.dataloader(split))
    with pytest.raises(ConfigError, match="problem_dropout"):
        _datamodule(None, problem_dropout=1.5)
