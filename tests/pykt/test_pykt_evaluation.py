"""pyKT's evaluation: the protocol, the late fusions, and the fused predictions of pyKT's own run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from ktlab.data.pykt.datamodule import PyktDataModule
from ktlab.evaluation.pykt import (
    PyktProtocol,
    collect_rows,
    fuse,
    fused_questions,
    pykt_test_metrics,
)
from ktlab.models.components.skill_rate import SkillRate
from tests.pykt.conftest import FIXTURE


@pytest.fixture(scope="module")
def fixture_data(tmp_path_factory: pytest.TempPathFactory) -> PyktDataModule:
    data = PyktDataModule(dir=str(FIXTURE), max_len=20, cache_dir=str(tmp_path_factory.mktemp("built")))
    data.setup()
    return data


def test_late_fusions_as_pykt_defines_them() -> None:
    assert fuse([0.75, 0.8333, 0.5]) == pytest.approx(
        {"late_mean": 0.6944, "late_vote": 0.6944333, "late_all": 0.6944333}
    )
    two_low = fuse([0.7, 0.2, 0.4])
    assert two_low["late_vote"] == pytest.approx(0.3) and two_low["late_all"] == pytest.approx(0.3)
    tie = fuse([0.7, 0.4])  # half on each side: the vote goes to >= 0.5, "all" does not
    assert tie["late_vote"] == pytest.approx(0.7) and tie["late_all"] == pytest.approx(0.4)
    assert fuse([0.12344, 0.12346])["late_mean"] == 0.1235


def test_the_protocol_scores_selected_real_rows_past_the_first() -> None:
    batch = {
        "mask": torch.tensor([[True, True, True, False]]),
        "select": torch.tensor([[True, False, True, True]]),
    }
    assert PyktProtocol().scored(batch).tolist() == [[False, False, True, False]]


def test_processed_files_give_pykts_sequence_files(fixture_data: PyktDataModule) -> None:
    built = fixture_data.cache_dir
    for name in (
        "train_valid_sequences.csv",
        "test_sequences.csv",
        "test_window_sequences.csv",
        "test_question_sequences.csv",
        "test_question_window_sequences.csv",
    ):
        assert (built / name).read_bytes() == (FIXTURE / name).read_bytes(), name


@pytest.mark.parametrize(
    ("view", "name"), [("ori", "test_question_sequences"), ("window", "test_question_window_sequences")]
)
def test_fused_questions_equal_pykts_own(fixture_data: PyktDataModule, view: str, name: str) -> None:
    rows = collect_rows(SkillRate(), fixture_data.sequence_loader(name, 8), with_questions=True)
    fused = fused_questions(rows)
    want = pd.read_csv(FIXTURE / f"{view}_question_preds.txt", sep="\t")
    assert fused["qidx"].tolist() == want["qidx"].tolist()
    assert fused["y"].tolist() == want["late_trues"].tolist()
    for column in ("late_mean", "late_vote", "late_all"):
        np.testing.assert_array_equal(fused[column], want[column].to_numpy(), err_msg=column)


def test_metrics_do_not_depend_on_the_batch_size(fixture_data: PyktDataModule) -> None:
    one = pykt_test_metrics(SkillRate(), fixture_data, batch_size=3)
    many = pykt_test_metrics(SkillRate(), fixture_data, batch_size=64)
    assert one == many and len(one) == 20
