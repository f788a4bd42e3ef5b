"""scripts/bench_zoo.py --protocol pykt: ktlab's timed training batches on pyKT's split, pyKT's side null."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from scripts.bench_zoo_pykt import pykt_protocol_bench

from tests.pykt.conftest import FIXTURE


def test_the_pykt_arm_counts_the_answers_of_the_timed_batches(tmp_path: Path) -> None:
    data = tmp_path / "data_txt"
    data.mkdir()
    shutil.copy(FIXTURE / "data.txt", data / "data.txt")
    out = pykt_protocol_bench(["skill_rate"], str(data), fold=0, max_batches=2, batch_size=3, max_len=20)
    ours, theirs = out["arms"]
    assert theirs["answers_per_s"] is None and "not run" in theirs["note"]
    assert not list(tmp_path.rglob("*.csv"))  # nothing written beside the data
    # the first two batches of three sequences of folds 1-4 (fold 0 validates), every row trained on but
    # the first of each chunk, counted here from pyKT's own sequence file
    with (FIXTURE / "train_valid_sequences.csv").open() as f:
        rows = [row for row in csv.DictReader(f) if row["fold"] != "0"]
    pairs = [zip(row["responses"].split(","), row["selectmasks"].split(","), strict=True) for row in rows]
    trained = [sum(r != "-1" and m == "1" for r, m in list(rows_of)[1:]) for rows_of in pairs]
    assert ours["batches_timed"] == 2
    assert ours["answers_timed"] == sum(trained[:6])
    assert ours["train_answers_per_epoch"] == sum(trained)
    assert ours["answers_per_s"] == ours["answers_timed"] / ours["seconds_timed"] > 0
