"""The DataModule of pyKT's protocol: its split, folds, sequences and test sets.

``data.dir`` is either a folder of pyKT's processed files (``train_valid.csv`` with its ``fold`` column,
``test.csv``, optionally ``keyid2idx.json``) or one holding only a ``data.txt``, which is preprocessed and
split here as pyKT does (:mod:`ktlab.data.pykt.protocol_files`). The sequences are built from the learner
tables and written, with the split when it was made here, into ``data.cache_dir`` (never over the input).

Training reads the chunks of the folds other than ``data.fold``, in file order, unshuffled (as pyKT
does); validation the chunks of ``data.fold``; the test loader ``test_sequences``. The other test sets
(windows, question-level sequences) are served by :meth:`PyktDataModule.sequence_loader` to the pyKT
evaluation (:mod:`ktlab.evaluation.pykt`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lightning import LightningDataModule
from torch.utils.data import DataLoader

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.data.pykt.files import read_keyid2idx, read_table
from ktlab.data.pykt.protocol_files import PyktSplit, build_sequences, split_data_txt, write_all
from ktlab.data.pykt.tensors import SequenceCollator, SequenceDataset, SequenceTensors
from ktlab.errors import ConfigError, DataValidationError
from ktlab.utils.logging import get_logger

log = get_logger(__name__)

#: Validation selections: ``skill_rows`` is pyKT's (every concept row of a question is scored, so on
#: multi-concept data the later rows see the answer through the earlier ones); ``first_rows`` scores only
#: the first concept row of each question, which nothing of its own answer reaches.
SELECTIONS = ("skill_rows", "first_rows")


def load_split(folder: Path, n_folds: int, min_seq_len: int) -> tuple[PyktSplit, bool]:
    """The learner tables of ``folder``, and whether they were split here (from a ``data.txt``)."""
    if (folder / "train_valid.csv").is_file() and (folder / "test.csv").is_file():
        train_valid, fields = read_table(folder / "train_valid.csv")
        test, _ = read_table(folder / "test.csv")
        return PyktSplit(train_valid, test, fields, read_keyid2idx(folder / "keyid2idx.json")), False
    if (folder / "data.txt").is_file():
        return split_data_txt(folder / "data.txt", n_folds, min_seq_len), True
    raise DataValidationError(
        f"data.dir={folder}: no pyKT data there; it needs train_valid.csv and test.csv (pyKT's processed "
        "files) or a data.txt (pyKT's 6-line format) to split."
    )


class PyktDataModule(LightningDataModule):
    """pyKT's protocol (see the module docstring).

    Args:
        dir: folder of pyKT's processed files or of a ``data.txt``.
        fold: the validation fold (0 .. n_folds - 1).
        max_len: sequence length (pyKT: 200).
        min_seq_len: shortest learner and leftover chunk kept (pyKT: 3).
        n_folds: folds of a split made here (pyKT: 5).
        batch_size: sequences per batch (pyKT: 256, 64 for its attention models).
        item_features: ``[skill_id]``, or ``[skill_id, problem_id]`` to hand question ids to the network.
        selection: the validation rows scored: one of :data:`SELECTIONS`.
        cache_dir: where the built files are written (None: not written).
        num_workers: DataLoader worker processes.
        fitted_state: the sizes stored in a checkpoint (``eval.py``); when given they are used as is.
    """

    def __init__(
        self,
        dir: str,
        fold: int = 0,
        max_len: int = 200,
        min_seq_len: int = 3,
        n_folds: int = 5,
        batch_size: int = 256,
        item_features: list[str] | None = None,
        selection: str = "skill_rows",
        cache_dir: str | None = None,
        num_workers: int = 0,
        fitted_state: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        item_features = list(item_features or ["skill_id"])
        raise_problems(
            "data",
            self.check_args(
                {
                    "fold": fold,
                    "n_folds": n_folds,
                    "max_len": max_len,
                    "min_seq_len": min_seq_len,
                    "batch_size": batch_size,
                    "selection": selection,
                    "item_features": item_features,
                    "num_workers": num_workers,
                }
            ),
        )
        self.dir = Path(dir)
        self.fold = fold
        self.max_len = max_len
        self.min_seq_len = min_seq_len
        self.n_folds = n_folds
        self.batch_size = batch_size
        self.item_features = item_features
        self.selection = selection
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.num_workers = num_workers
        self.fitted_state = dict(fitted_state) if fitted_state else None
        self.split: PyktSplit | None = None
        self.sets: dict[str, SequenceTensors] = {}

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the DataModule's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.integer("n_folds", 2)
        checks.integer("max_len", 2)
        checks.integer("min_seq_len", 1)
        checks.integer("batch_size", 1)
        checks.integer("num_workers", 0)
        checks.integer("fold", 0)
        checks.one_of("selection", SELECTIONS)
        checks.require(
            "item_features",
            lambda v: set(v) <= {"skill_id", "problem_id"} and "skill_id" in v,
            "must be [skill_id] or [skill_id, problem_id]",
        )
        if not checks.problems and "fold" in args:
            n_folds = args.get("n_folds", 5)
            checks.require("fold", lambda v: v < n_folds, f"must be a fold number, 0 .. {n_folds - 1}")
        return checks.problems

    # ------------------------------------------------------------------ the contract
    @property
    def sizes(self) -> dict[str, int]:
        """Concepts and questions, from ``keyid2idx.json`` where given, else the largest ids seen."""
        if self.fitted_state:
            return {
                "n_skills": int(self.fitted_state["n_skills"]),
                "n_problems": int(self.fitted_state["n_problems"]),
            }
        if self.split is None:
            raise RuntimeError("sizes need setup() first")
        learners = self.split.train_valid + self.split.test
        out = {}
        for name, key in (("n_skills", "concepts"), ("n_problems", "questions")):
            mapped = self.split.keyid2idx.get(key)
            if mapped:
                out[name] = len(mapped)
            elif key in self.split.fields:
                out[name] = 1 + max(int(v) for learner in learners for v in learner[key])
            else:
                out[name] = 0
        if "concepts" not in self.split.fields:  # a question-only data set: questions are the skills
            out["n_skills"] = out["n_problems"]
        return out

    def model_inputs(self) -> dict[str, Any]:
        """``dims`` for the network, ``state`` (the sizes) to store, ``answers_per_batch``."""
        if not self.sets:
            raise RuntimeError("model_inputs() needs setup() first")
        sizes = self.sizes
        dims = {
            "n_skills": sizes["n_skills"],
            "n_problems": sizes["n_problems"] if "problem_id" in self.item_features else 0,
            "n_phases": 0,
            "context_dim": 0,
            "query_dim": 0,
            "phase_in_context": False,
            "phase_in_query": False,
        }
        train = self.sets["train"]
        selected = float(train.select.sum()) / max(len(train), 1)
        return {
            "dims": dims,
            "state": sizes,
            "answers_per_batch": max(selected, 1.0) * min(self.batch_size, max(len(train), 1)),
        }

    def protocol_record(self) -> dict[str, Any]:
        """What a run's ``metrics.json`` records of the protocol."""
        return {
            "protocol": "pykt",
            "fold": self.fold,
            "max_len": self.max_len,
            "selection": self.selection,
            "data_dir": str(self.dir),
        }

    # ------------------------------------------------------------------ preparation
    def setup(self, stage: str | None = None) -> None:
        if self.sets:
            return
        self.split, made_here = load_split(self.dir, self.n_folds, self.min_seq_len)
        if made_here:
            log.info(
                "%s: split from data.txt as pyKT splits it (seed 1024, %d folds)", self.dir, self.n_folds
            )
        folds = {learner["fold"] for learner in self.split.train_valid}
        if self.fold not in folds:
            raise DataValidationError(
                f"{self.dir / 'train_valid.csv'}: no learner in fold {self.fold} (data.fold); its folds are "
                f"{sorted(folds)}."
            )
        build_sequences(self.split, self.max_len, self.min_seq_len)
        if self.cache_dir is not None:
            if self.cache_dir.resolve() == self.dir.resolve():
                raise DataValidationError(
                    f"data.cache_dir={self.cache_dir} is the input folder; the built files go elsewhere."
                )
            write_all(self.split, self.cache_dir)
        skill_key = self._skill_key
        seqs = self.split.sequences
        chunks = seqs["train_valid_sequences"]
        self.sets = {
            "train": SequenceTensors.from_table([r for r in chunks if r["fold"] != self.fold], skill_key),
            "val": SequenceTensors.from_table([r for r in chunks if r["fold"] == self.fold], skill_key),
        }
        for name, table in seqs.items():
            if name.startswith("test"):
                self.sets[name] = SequenceTensors.from_table(table, skill_key)
        self.sets["test"] = self.sets["test_sequences"]
        log.info(
            "%s: pyKT protocol, fold %d: %s",
            self.dir,
            self.fold,
            ", ".join(f"{name} {len(tensors)}" for name, tensors in self.sets.items() if name != "test"),
        )

    @property
    def _skill_key(self) -> str:
        """The column read as skills: concepts, or questions for a question-only data set."""
        return "concepts" if self.split is not None and "concepts" in self.split.fields else "questions"

    # ------------------------------------------------------------------ loaders
    def sequence_loader(self, name: str, batch_size: int | None = None) -> DataLoader:
        """Batches of one sequence set in file order: ``train``, ``val``, ``test`` or a test file's name
        (``test_window_sequences``, ``test_question_sequences``, ...)."""
        if name == "all" and "all" not in self.sets and self.split is not None:
            # every learner: the chunks of the train/validation folds, then those of the test learners
            seqs = self.split.sequences
            self.sets["all"] = SequenceTensors.from_table(
                seqs["train_valid_sequences"] + seqs["test_sequences"], self._skill_key
            )
        if name not in self.sets:
            raise KeyError(f"no sequence set {name!r}; there are {', '.join(sorted(self.sets))}")
        tensors = self.sets[name]
        size = batch_size or self.batch_size
        batches = [list(range(i, min(i + size, len(tensors)))) for i in range(0, len(tensors), size)]
        return DataLoader(
            SequenceDataset(tensors),
            batch_sampler=batches,
            collate_fn=SequenceCollator(
                tensors, first_rows_only=name == "val" and self.selection == "first_rows"
            ),
            num_workers=self.num_workers,
        )

    def dataloader(self, split: str, shuffle: bool | None = None) -> DataLoader:
        """A loader over ``train``, ``val``, ``test`` or ``all`` (every learner's chunks, the train and
        validation folds' then the test learners'); pyKT never shuffles, ``shuffle`` is ignored."""
        return self.sequence_loader(split)

    def train_dataloader(self) -> DataLoader:
        return self.sequence_loader("train")

    def val_dataloader(self) -> DataLoader:
        return self.sequence_loader("val")

    def test_dataloader(self) -> DataLoader:
        return self.sequence_loader("test")

    # ------------------------------------------------------------------ prediction (refused)
    def predict(self, model: Any, frame: Any, **options: Any) -> Any:
        """Refused: see :meth:`refuse_histories`."""
        raise self.refuse_histories("predictions")

    def states(self, model: Any, frame: Any, **options: Any) -> Any:
        """Refused: see :meth:`refuse_histories`."""
        raise self.refuse_histories("knowledge states")

    def refuse_histories(self, what: str) -> ConfigError:
        """Why a model trained on pyKT's protocol reads no history file, as one paragraph.

        Its concept and question ids are pyKT's renumbered ones (``keyid2idx.json`` of its split), and the
        checkpoint stores no mapping from a history file's skill and problem names to them.
        """
        return ConfigError(
            f"{what} from a history file are not offered for a model trained on pyKT's protocol "
            f"(data=pykt, data.dir={self.dir}): it reads pyKT's renumbered concept and question ids, and "
            "the checkpoint keeps no mapping from a history's skill and problem names to them. Score it "
            "on pyKT's split with `python eval.py ckpt_path=<run>/checkpoints/best.ckpt split=test` (or "
            "split=val, train, all), or train on ktlab's own data (data=csv, data=assist2009, ...) to "
            "predict from histories."
        )
