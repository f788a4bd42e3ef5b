"""Every file of pyKT's protocol from a ``data.txt`` or from pyKT's processed learner tables.

:func:`split_data_txt` runs the preprocessing and the split (:mod:`ktlab.data.pykt.split`);
:func:`build_sequences` builds the sequence files from the learner tables
(:mod:`ktlab.data.pykt.sequences`); :func:`write_all` writes them under pyKT's names.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from ktlab.data.pykt.files import write_keyid2idx, write_table
from ktlab.data.pykt.lines import LearnerRecords, read_data_txt
from ktlab.data.pykt.sequences import (
    chunk_sequences,
    columns_of,
    question_sequences,
    window_sequences,
)
from ktlab.data.pykt.split import (
    Table,
    add_cidxs,
    expand_concepts,
    max_concepts,
    renumber,
    split_learners,
)
from ktlab.utils.logging import get_logger

log = get_logger(__name__)


@dataclass
class PyktSplit:
    """pyKT's learner tables and sequences of one data set.

    ``fields`` are the per-row fields of the learner tables (``is_repeat`` included when the data has
    question and concept ids); ``quelevel`` the question-level tables (one row per question, concepts
    ``_``-joined) where they were built from a ``data.txt``.
    """

    train_valid: Table
    test: Table
    fields: list[str]
    keyid2idx: dict = field(default_factory=dict)
    sequences: dict[str, Table] = field(default_factory=dict)
    quelevel: dict[str, Table] = field(default_factory=dict)
    quelevel_fields: list[str] = field(default_factory=list)

    @property
    def has_questions(self) -> bool:
        """Whether question-level sequences exist (the data has question and concept ids)."""
        return "is_repeat" in self.fields


def _quelevel(records: LearnerRecords, n_folds: int) -> tuple[Table, Table]:
    """The question-level learner tables (one row per answer, concepts ``_``-joined, ids renumbered)."""
    table = [
        {"uid": learner["uid"], **{name: list(learner[name]) for name in records.fields}}
        for learner in records.learners
    ]
    renumber(table, joined=True)
    return split_learners(table, n_folds)


def split_data_txt(path: str | Path, n_folds: int = 5, min_seq_len: int = 3) -> PyktSplit:
    """Preprocess and split a ``data.txt`` as pyKT does (sequences not yet built)."""
    records = read_data_txt(path, min_seq_len)
    table, fields = expand_concepts(records)
    mapping = renumber(table)
    mapping_out: dict = {**mapping, "max_concepts": max_concepts(records)}
    train_valid, test = split_learners(table, n_folds)
    add_cidxs(test)
    split = PyktSplit(train_valid, test, fields, mapping_out)
    if "questions" in records.fields and "concepts" in records.fields:
        split.quelevel["train_valid_quelevel"], split.quelevel["test_quelevel"] = _quelevel(
            copy.deepcopy(records), n_folds
        )
        split.quelevel_fields = list(records.fields)
    return split


def build_sequences(split: PyktSplit, max_len: int = 200, min_seq_len: int = 3) -> PyktSplit:
    """Build every sequence table of ``split`` in place (and return it)."""
    seqs = split.sequences
    seqs["train_valid_sequences"] = chunk_sequences(split.train_valid, split.fields, max_len, min_seq_len)
    test_fields = [*split.fields, "cidxs"] if split.test and "cidxs" in split.test[0] else split.fields
    seqs["test_sequences"] = chunk_sequences(split.test, test_fields, max_len, min_seq_len)
    seqs["test_window_sequences"] = window_sequences(split.test, test_fields, max_len)
    if split.has_questions:
        seqs["test_question_sequences"] = question_sequences(
            split.test, split.fields, False, max_len, min_seq_len
        )
        seqs["test_question_window_sequences"] = question_sequences(
            split.test, split.fields, True, max_len, min_seq_len
        )
    if split.quelevel:
        fields = split.quelevel_fields
        q = split.quelevel
        q["train_valid_sequences_quelevel"] = chunk_sequences(
            q["train_valid_quelevel"], fields, max_len, min_seq_len
        )
        q["test_sequences_quelevel"] = chunk_sequences(q["test_quelevel"], fields, max_len, min_seq_len)
        q["test_window_sequences_quelevel"] = window_sequences(q["test_quelevel"], fields, max_len)
    return split


def write_all(split: PyktSplit, folder: str | Path) -> list[Path]:
    """Write every table of ``split`` into ``folder`` under pyKT's file names."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fields = split.fields
    test_extra = ["cidxs"] if split.test and "cidxs" in split.test[0] else []
    plan = [
        ("train_valid", split.train_valid, columns_of(fields)),
        ("test", split.test, columns_of(fields, *test_extra)),
    ]
    for name, table in split.sequences.items():
        extra = ["selectmasks"]
        if name.startswith("test") and "question" not in name:
            extra += test_extra
        if "question" in name:
            extra += ["qidxs", "rest", "orirow"]
        plan.append((name, table, columns_of(fields, *extra)))
    for name, table in split.quelevel.items():
        extra = ["selectmasks"] if "sequences" in name else []
        plan.append((name, table, columns_of(split.quelevel_fields, *extra)))
    written = [write_table(table, columns, folder / f"{name}.csv") for name, table, columns in plan]
    if split.keyid2idx:
        written.append(write_keyid2idx(split.keyid2idx, folder / "keyid2idx.json"))
    log.info("wrote pyKT's protocol files into %s", folder)
    return written
