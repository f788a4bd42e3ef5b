"""The raw data sets pyKT prepares, one entry each: its name (pyKT's), what to pass, its reader."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ktlab.data.pykt.raw import assist2017, assistments, ednet, kddcup, nips_task34, poj, statics2011
from ktlab.data.pykt.raw.six_lines import LearnerOrder, Written, write_data_txt
from ktlab.data.pykt.raw.table import Progress
from ktlab.errors import DataValidationError

log = logging.getLogger(__name__)

Reader = Callable[[Sequence[Path], Progress | None], pd.DataFrame]


@dataclass(frozen=True)
class RawDataset:
    """One data set pyKT prepares from its raw release.

    Attributes:
        title: its name in words.
        inputs: what to pass on the command line.
        read: reads the paths into the kept answers (see :mod:`ktlab.data.pykt.raw.six_lines`).
        max_paths: how many paths it takes.
        learner_order: ``first`` (first appearance) or ``sorted`` (by id), as pyKT orders its learners.
    """

    title: str
    inputs: str
    read: Reader
    max_paths: int = 1
    learner_order: LearnerOrder = "first"


DATASETS: dict[str, RawDataset] = {
    "assist2009": RawDataset(
        "ASSISTments 2009-2010 skill builder", "skill_builder_data_corrected_collapsed.csv",
        assistments.read_2009,
    ),
    "assist2012": RawDataset(
        "ASSISTments 2012-2013", "2012-2013-data-with-predictions-4-final.csv", assistments.read_2012
    ),
    "assist2015": RawDataset(
        "ASSISTments 2015 skill builder", "2015_100_skill_builders_main_problems.csv", assistments.read_2015
    ),
    "assist2017": RawDataset(
        "ASSISTments 2017 competition", "anonymized_full_release_competition_dataset.csv", assist2017.read
    ),
    "algebra2005": RawDataset(
        "KDD Cup 2010 Algebra 2005-2006", "algebra_2005_2006_train.txt", kddcup.read_algebra2005
    ),
    "bridge2algebra2006": RawDataset(
        "KDD Cup 2010 Bridge to Algebra 2006-2007", "bridge_to_algebra_2006_2007_train.txt",
        kddcup.read_bridge2006,
    ),
    "statics2011": RawDataset(
        "OLI Engineering Statics 2011", "AllData_student_step_2011F.csv", statics2011.read,
        learner_order="sorted",
    ),
    "nips_task34": RawDataset(
        "NeurIPS 2020 Education Challenge tasks 3/4 (Eedi)",
        "train_task_3_4.csv [metadata folder, default: metadata/ beside it]", nips_task34.read, max_paths=2,
    ),
    "poj": RawDataset("POJ online judge submissions", "poj_log.csv", poj.read),
    "ednet": RawDataset(
        "EdNet KT1, pyKT's sample of 5,000 learners", "the EdNet folder (KT1/, contents/questions.csv)",
        functools.partial(ednet.read_sample, take=5000),
    ),
    "ednet5w": RawDataset(
        "EdNet KT1, pyKT's sample of 50,000 further learners", "the EdNet folder (KT1/, contents/questions.csv)",
        functools.partial(ednet.read_sample, take=50_000, skip=5000),
    ),
}  # fmt: skip


def prepare(
    name: str,
    paths: Sequence[str | Path],
    out: str | Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> Written:
    """Read a raw release and write pyKT's ``data.txt`` into ``out``.

    Raises:
        DataValidationError: an unknown data set, the wrong number of paths, a ``data.txt`` already in
            ``out`` (without ``force``), or a problem with the raw files.
    """
    dataset = DATASETS.get(name)
    if dataset is None:
        raise DataValidationError(f"{name}: no such data set; choose one of {', '.join(DATASETS)}.")
    if not 1 <= len(paths) <= dataset.max_paths:
        raise DataValidationError(
            f"{name} takes {dataset.inputs} ({dataset.max_paths} path(s) at most), not {len(paths)} path(s)."
        )
    target = Path(out).expanduser() / "data.txt"
    if target.exists() and not force:
        raise DataValidationError(f"{target} exists; pass --force to replace it, or another --out folder.")
    answers = dataset.read([Path(p).expanduser() for p in paths], progress)
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_data_txt(answers, target, dataset.learner_order)
