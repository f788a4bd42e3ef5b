"""Interaction sources for the released benchmark files (``data=assist2009``, ``data=kt_lines`` ...).

Each has the two members of :class:`ktlab.data.sources.InteractionSource`: ``name`` and
``load(required)``, which reads, adds the ``split`` column (``train``/``val``/``test`` from the file each
learner comes from) and validates through :func:`ktlab.data.schema.validate_interactions`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.data.formats.assistments import EXTRA, read_assistments_csv
from ktlab.data.formats.lines import FORMATS, read_lines
from ktlab.data.schema import INTERACTION_COLUMNS, SPLIT_COLUMN, validate_interactions
from ktlab.errors import DataValidationError

log = logging.getLogger(__name__)


def missing_files_error(paths: Sequence[Path], release: str | None, dataset: str) -> DataValidationError:
    """One paragraph: which path was looked at, where to put the files, where the release lives."""
    where = paths[0].parent
    names = ", ".join(p.name for p in paths)
    origin = f" The public release: {release}." if release else ""
    return DataValidationError(
        f"{dataset}: the file(s) {', '.join(str(p) for p in paths)} are missing. Put {names} in {where} "
        f"(the folder layout of the shared data: paths.data_dir=<folder holding {where.name}/>), or point "
        f"the run at them with data.train=..., data.valid=..., data.test=...{origin}"
    )


class KTLinesSource:
    """Learners from released 3-line or 4-line files, with their released train/valid/test split.

    Args:
        train: the training file.
        test: the test file.
        valid: the validation file; when None, ``val_fraction`` of the training learners (seeded) validate.
        format: ``"3line"`` or ``"4line"`` (see :mod:`ktlab.data.formats.lines`).
        val_fraction: share of training learners kept for validation when there is no ``valid`` file.
        seed: seed of that draw.
        release: where the public release lives, for the missing-file message.
        dataset: the data set's name in messages.
    """

    def __init__(
        self,
        train: str | Path,
        test: str | Path,
        valid: str | Path | None = None,
        format: str = "3line",
        val_fraction: float = 0.2,
        seed: int = 0,
        release: str | None = None,
        dataset: str | None = None,
    ) -> None:
        raise_problems(
            "KTLinesSource", self.check_args({"format": format, "val_fraction": val_fraction, "seed": seed})
        )
        self.files = {"train": Path(train).expanduser(), "test": Path(test).expanduser()}
        if valid:
            self.files["val"] = Path(valid).expanduser()
        self.format = format
        self.val_fraction = val_fraction
        self.seed = seed
        self.release = release
        self.name = dataset or f"{self.files['train'].parent.name or self.files['train']} ({format})"

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the source's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.one_of("format", FORMATS)
        checks.in_range("val_fraction", 0.0, 1.0, high_open=True)
        checks.integer("seed", 0)
        return checks.problems

    def read(self) -> pd.DataFrame:
        """Every file's learners, with the ``split`` column, unvalidated."""
        missing = [p for p in self.files.values() if not p.is_file()]
        if missing:
            raise missing_files_error(missing, self.release, self.name)
        parts = []
        for split, path in self.files.items():
            frame = read_lines(path, self.format)
            frame[SPLIT_COLUMN] = split
            parts.append(frame)
        frame = pd.concat(parts, ignore_index=True)
        if "val" not in self.files:
            train = frame[SPLIT_COLUMN] == "train"
            learners = np.sort(frame.loc[train, "student_id"].unique().astype(str))
            n_val = round(len(learners) * self.val_fraction)
            val = set(learners[np.random.default_rng(self.seed).permutation(len(learners))[:n_val]])
            frame.loc[train & frame["student_id"].isin(val), SPLIT_COLUMN] = "val"
            log.info("%s: no validation file, %d training learners validate", self.name, n_val)
        return frame

    def load(self, required: Sequence[str] = INTERACTION_COLUMNS) -> pd.DataFrame:
        frame = self.read()
        shared = frame.groupby("student_id")[SPLIT_COLUMN].nunique()
        if (shared > 1).any():
            learner = shared.index[shared > 1][0]
            raise DataValidationError(
                f"{self.name}: learner {learner!r} appears in more than one of "
                f"{', '.join(str(p) for p in self.files.values())}; the released files must hold different "
                f"learners ({int((shared > 1).sum())} shared)."
            )
        return validate_interactions(frame, self.name, required=[*required, SPLIT_COLUMN])


class AssistmentsCSVSource:
    """Raw ASSISTments skill-builder rows (``data=assist2009_raw``); learners are split at random.

    Args:
        path: the CSV file.
        release: where the public release lives, for the missing-file message.
    """

    def __init__(self, path: str | Path, release: str | None = None) -> None:
        self.path = Path(path).expanduser()
        self.release = release
        self.name = str(self.path)

    def load(self, required: Sequence[str] = INTERACTION_COLUMNS) -> pd.DataFrame:
        if not self.path.is_file():
            raise missing_files_error([self.path], self.release, "raw ASSISTments data")
        frame = read_assistments_csv(self.path)
        frame = frame.drop(
            columns=[c for c in EXTRA if c in frame and c not in required]
        )  # checked when read
        lines = frame.index.to_numpy() + 2  # the header is line 1 (blank lines would shift this)
        return validate_interactions(frame.reset_index(drop=True), self.name, required, line_offset=lines)
