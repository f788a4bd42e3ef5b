"""scripts/bench_zoo.py --protocol pykt: ktlab's and pyKT's timed training batches on pyKT's split."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from scripts.bench_zoo_pykt import pykt_protocol_bench

from tests.pykt.conftest import FIXTURE

#: pyKT 0.0.38 unpacked, never installed (pip install --no-deps --target /tmp/pykt pykt-toolkit==0.0.38).
PYKT = Path("/tmp/pykt")


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


def fixture_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data_txt"
    data.mkdir()
    shutil.copy(FIXTURE / "data.txt", data / "data.txt")
    return data


def test_a_model_pykt_has_runs_at_pykt_sizes_and_says_when_pykt_is_absent(tmp_path: Path) -> None:
    out = pykt_protocol_bench(
        ["dkt"], str(fixture_dir(tmp_path)), 0, 1, batch_size=3, max_len=20, pykt_dir=str(tmp_path)
    )
    ours, theirs = out["arms"]
    # ktlab's DKT takes pyKT's default sizes (emb_size 200 for both widths, dropout 0.1)
    assert (ours["net"]["embed_dim"], ours["net"]["hidden_dim"], ours["net"]["dropout"]) == (200, 200, 0.1)
    assert theirs["answers_per_s"] is None and theirs["note"] == f"not run: no pykt package under {tmp_path}"
    assert out["ratios"]["dkt"]["speedup_answers_per_s"] is None
    assert json.loads(json.dumps(out))["arms"][0]["net"] == ours["net"]  # what bench_zoo.py prints


@pytest.mark.skipif(not (PYKT / "pykt").is_dir(), reason=f"pyKT 0.0.38 is not unpacked under {PYKT}")
def test_pykt_trains_on_the_same_answers_as_ktlab(tmp_path: Path) -> None:
    out = pykt_protocol_bench(
        ["dkt", "sakt"], str(fixture_dir(tmp_path)), 0, 2, batch_size=3, max_len=20, pykt_dir=str(PYKT)
    )
    for name in ("dkt", "sakt"):
        ours, theirs = (a for a in out["arms"] if a["model"] == name)
        assert theirs["framework"] == "pykt 0.0.38" and theirs["batches_timed"] == ours["batches_timed"] == 2
        assert theirs["answers_timed"] == ours["answers_timed"] > 0
        assert out["ratios"][name]["speedup_answers_per_s"] == ours["answers_per_s"] / theirs["answers_per_s"]
