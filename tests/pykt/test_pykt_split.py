"""pyKT's data.txt reader, preprocessing and split, against files pyKT wrote and small hand-made cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ktlab.data.pykt.lines import read_data_txt, to_answer_records
from ktlab.data.pykt.protocol_files import build_sequences, split_data_txt, write_all
from ktlab.data.pykt.split import pykt_shuffle, split_learners
from ktlab.errors import DataValidationError
from tests.pykt.conftest import FIXTURE, SPLIT_FILES

LEARNERS = """a,3
10,11,10
1_2,3,1_2
1,0,1
NA
NA
b,2
10,11
1,3
1,1
NA
NA
c,4
12,10,11,12
4,1_2,3,4
0,1,1,2
NA
NA
"""


def test_split_and_sequence_files_equal_pykts_byte_for_byte(tmp_path: Path) -> None:
    split = build_sequences(split_data_txt(FIXTURE / "data.txt"), max_len=20)
    write_all(split, tmp_path)
    for name in SPLIT_FILES:
        assert (tmp_path / name).read_bytes() == (FIXTURE / name).read_bytes(), name


def test_the_shuffle_is_pandas_sample_with_seed_1024() -> None:
    frame = pd.DataFrame({"x": range(37)})
    assert frame.sample(frac=1.0, random_state=1024).index.tolist() == pykt_shuffle(37).tolist()


def test_folds_are_contiguous_and_the_first_ones_one_larger() -> None:
    table = [{"uid": str(i), "responses": ["1"] * 3} for i in range(23)]
    train_valid, test = split_learners(table, n_folds=5)
    assert len(test) == 4 and all(learner["fold"] == -1 for learner in test)
    folds = [learner["fold"] for learner in train_valid]
    assert folds == sorted(folds)
    assert np.bincount(folds).tolist() == [4, 4, 4, 4, 3]
    assert {learner["uid"] for learner in train_valid + test} == {str(i) for i in range(23)}


def test_reader_drops_short_learners_and_bad_answers_and_keeps_na_fields_out(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_text(LEARNERS)
    records = read_data_txt(path)
    assert [learner["uid"] for learner in records.learners] == ["a"]
    assert records.dropped_short == 1 and records.dropped_answers == 1
    assert records.fields == ["questions", "concepts", "responses"]


def test_multi_concept_answers_become_rows_sharing_the_learner_and_step(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_text(LEARNERS)
    answers = to_answer_records(read_data_txt(path))
    assert answers["t"].tolist() == [0, 0, 1, 2, 2]
    assert answers["skill_id"].tolist() == ["1", "2", "3", "1", "2"]
    assert answers["problem_id"].tolist() == ["10", "10", "11", "10", "10"]
    assert answers["correct"].tolist() == [1, 1, 0, 1, 1]


def test_a_line_of_the_wrong_length_is_refused_naming_line_and_learner(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_text(LEARNERS.replace("1,0,1\n", "1,0\n", 1))
    with pytest.raises(DataValidationError, match=r"line 4 \(responses of learner 'a'\): 2 values"):
        read_data_txt(path)
