"""Shared paths of the pyKT protocol tests."""

from __future__ import annotations

from tests.conftest import ASSETS

#: pyKT's own output on synthetic multi-concept learners (see its SOURCE.txt).
FIXTURE = ASSETS / "pykt_protocol_fixture"
#: The split and sequence files pyKT wrote (max_len 20, 5 folds).
SPLIT_FILES = (
    "keyid2idx.json",
    "train_valid.csv",
    "test.csv",
    "train_valid_sequences.csv",
    "test_sequences.csv",
    "test_window_sequences.csv",
    "test_question_sequences.csv",
    "test_question_window_sequences.csv",
    "train_valid_quelevel.csv",
    "test_quelevel.csv",
    "train_valid_sequences_quelevel.csv",
    "test_sequences_quelevel.csv",
    "test_window_sequences_quelevel.csv",
)
