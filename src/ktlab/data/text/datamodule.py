"""The DataModule of the question-text students, and its side of the data-to-model contract.

* ``setup`` loads the answer log, keeps the students asked for (``top_students``, ``student_rank``),
  splits (by answer, question or topic), fits the tokenizer on the training questions (or takes a
  pretrained one) and tokenizes every distinct question once (cached);
* ``model_inputs()`` hands the model the sizes it is built with (vocabulary size and special-token ids of
  the tokenizer, the number of students) and the fitted state as plain data: the tokenizer's JSON, the
  student vocabulary and each student's number of answers;
* ``dataloader(split)`` serves answers in batches of similar length that carry each distinct question
  once, padded to the batch's longest (see :mod:`ktlab.data.text.batching`);
* ``predict(model, frame)`` answers ``predict.py``: the success probability for each row (a question,
  with a ``student_id`` or for every known student).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from lightning import LightningDataModule
from torch.utils.data import DataLoader

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.data.batching import LengthBucketBatchSampler
from ktlab.data.text.batching import AnswerDataset, QuestionCollator, TokenizedQuestions
from ktlab.data.text.schema import ORACLE_COLUMN, TEXT_REQUIRED
from ktlab.data.text.sources import AnswerLog, AnswerSource
from ktlab.data.text.splits import SPLIT_BY, split_answers
from ktlab.data.text.template import DEFAULT_OPTION_FORMAT, DEFAULT_TEMPLATE, PromptTemplate
from ktlab.data.text.tokenizer import encode_texts, pretrained_tokenizer, special_ids, train_tokenizer
from ktlab.errors import ConfigError, DataValidationError
from ktlab.utils.text import shorten

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


def check_question_columns(frame: pd.DataFrame, source: str) -> None:
    """Refuse a questions file (``predict.py`` input, ``estimate_difficulty.py questions=``) without a column.

    The answer-log check would name the columns of an answer log; a questions file has no answers.

    Raises:
        DataValidationError: naming the file, the columns missing and those it has.
    """
    missing = [c for c in TEXT_REQUIRED if c not in frame.columns]
    if missing:
        has = shorten(", ".join(map(str, frame.columns))) or "no columns"
        raise DataValidationError(
            f"{source} lacks the column(s) {', '.join(missing)} of a questions file; it has {has}. A "
            f"questions file holds one question per row: {', '.join(TEXT_REQUIRED)} (option_e, problem_id "
            "or question_id, and student_id or user_id are optional). `python scripts/make_template.py "
            "--questions new_questions.csv` "
            "writes a template; see docs/text_students.md."
        )


def rank_students(answers: pd.DataFrame) -> pd.Series:
    """Answer count per student, most active first (ties by id): position ``k`` is rank ``k``."""
    counts = answers["student_id"].value_counts()
    frame = pd.DataFrame({"student": counts.index.astype(str), "n": counts.to_numpy()})
    frame = frame.sort_values(["n", "student"], ascending=[False, True])
    return pd.Series(frame["n"].to_numpy(), index=frame["student"].to_numpy())


class TextDataModule(LightningDataModule):
    """Answer logs of multiple-choice questions, served as tokenized questions with students and answers.

    Args:
        source: an answer source (:mod:`ktlab.data.text.sources`).
        template: the prompt template (:mod:`ktlab.data.text.template`).
        option_format: how each option line is written.
        tokenizer: ``pretrained`` (a model name or directory, null: train one), ``vocab_size`` and
            ``lowercase`` of the trained one.
        max_length: longest token sequence; longer texts are truncated.
        pad_to: pad every batch to this length instead of its longest question (benchmarks only).
        split_by: ``answer`` (within each student), ``question``, ``topic`` or ``fold`` (question-held-out
            folds, see :mod:`ktlab.data.text.splits`).
        val_fraction: share held out for validation.
        test_fraction: share held out for testing (not with ``fold``: the test split is one fold).
        fold: with ``split_by=fold``, the fold held out for testing (``0..n_folds-1``).
        n_folds: with ``split_by=fold``, the number of folds.
        fold_group: with ``split_by=fold``, the question column whose values keep questions in one fold
            (a column the data lacks: every question alone).
        split_seed: seed of the split and of the batch order.
        top_students: keep only the most active N students (null: all).
        student_rank: keep only the student of this rank by answer count (0: the most active), for a
            per-student model.
        batch_size: answers per batch.
        bucket_batches: batches per length-sorted bucket (1: no length bucketing).
        cache_dir: where tokenized questions are cached (null: no cache).
        num_workers: DataLoader worker processes.
        fitted_state: the tokenizer and student vocabulary of a checkpoint; when given they are used as is.
        path: the answer file of file-based sources (read through ``source.path``).
        data_dir: the data folder of folder-based sources (read through ``source.data_dir``).
    """

    def __init__(
        self,
        source: AnswerSource,
        template: str = DEFAULT_TEMPLATE,
        option_format: str = DEFAULT_OPTION_FORMAT,
        tokenizer: Mapping[str, Any] | None = None,
        max_length: int = 256,
        pad_to: int | None = None,
        split_by: str = "answer",
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        split_seed: int = 0,
        fold: int = 0,
        n_folds: int = 5,
        fold_group: str = "skill_set",
        top_students: int | None = None,
        student_rank: int | None = None,
        batch_size: int = 64,
        bucket_batches: int = 20,
        cache_dir: str | None = None,
        num_workers: int = 0,
        fitted_state: Mapping[str, Any] | None = None,
        path: str | None = None,
        data_dir: str | None = None,
    ) -> None:
        super().__init__()
        tokenizer = dict(tokenizer or {})
        args = {"max_length": max_length, "pad_to": pad_to, "split_by": split_by, "val_fraction": val_fraction,
                "test_fraction": test_fraction, "split_seed": split_seed, "fold": fold, "n_folds": n_folds,
                "top_students": top_students,
                "student_rank": student_rank, "batch_size": batch_size, "bucket_batches": bucket_batches,
                "num_workers": num_workers, "tokenizer": tokenizer}  # fmt: skip
        raise_problems("data", self.check_args(args))
        self.source = source
        self.template = PromptTemplate(template, option_format)
        self.tokenizer_cfg = {"pretrained": None, "vocab_size": 1000, "lowercase": True, **tokenizer}
        self.max_length, self.pad_to, self.split_by = max_length, pad_to, split_by
        self.val_fraction, self.test_fraction, self.split_seed = val_fraction, test_fraction, split_seed
        self.fold, self.n_folds, self.fold_group = fold, n_folds, fold_group
        self.top_students, self.student_rank = top_students, student_rank
        self.batch_size, self.bucket_batches, self.num_workers = batch_size, bucket_batches, num_workers
        self.cache_dir = cache_dir
        self.state: dict[str, Any] | None = dict(fitted_state) if fitted_state else None
        self.log_data: AnswerLog | None = None
        self.parts: dict[str, pd.DataFrame] = {}
        self.datasets: dict[str, AnswerDataset] = {}
        self.tokens: TokenizedQuestions | None = None
        self.question_index: dict[str, int] = {}
        #: what the answers' ``correct`` holds (see :class:`~ktlab.data.text.sources.AnswerLog`)
        self.target = "answer"

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the DataModule's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.integer("max_length", 8)
        checks.integer("pad_to", 8)
        checks.one_of("split_by", SPLIT_BY)
        checks.in_range("val_fraction", 0.0, 1.0)
        checks.in_range("test_fraction", 0.0, 1.0)
        checks.integer("split_seed", 0)
        checks.integer("fold", 0)
        checks.integer("n_folds", 2)
        checks.integer("top_students", 1)
        checks.integer("student_rank", 0)
        checks.integer("batch_size", 1)
        checks.integer("bucket_batches", 1)
        checks.integer("num_workers", 0)
        problems = checks.problems
        tokenizer = args.get("tokenizer") or {}
        sub = Checks(tokenizer)
        sub.integer("vocab_size", 16)
        problems += [Problem(f"tokenizer.{p.arg}", p.value, p.requirement) for p in sub.problems]
        if not problems:
            get = args.get
            if (
                get("pad_to") is not None
                and get("max_length") is not None
                and get("pad_to") < get("max_length")
            ):
                problems.append(
                    Problem("pad_to", get("pad_to"), f"must be >= max_length ({get('max_length')})")
                )
            if get("fold") is not None and get("n_folds") is not None and get("fold") >= get("n_folds"):
                problems.append(Problem("fold", get("fold"), f"must be < n_folds ({get('n_folds')})"))
            if get("val_fraction", 0.1) + get("test_fraction", 0.1) >= 1.0:
                problems.append(
                    Problem("test_fraction", get("test_fraction"), "val_fraction + test_fraction must be < 1")
                )
            if None not in (get("top_students"), get("student_rank")) and get("student_rank") >= get(
                "top_students"
            ):
                problems.append(
                    Problem(
                        "student_rank",
                        get("student_rank"),
                        f"must be < top_students ({get('top_students')}): ranks start at 0",
                    )
                )
        return problems  # fmt: skip

    # ------------------------------------------------------------------ the contract
    def model_inputs(self) -> dict[str, Any]:
        """``dims`` (tokenizer sizes and ids, number of students) and ``state`` (plain data) of the model."""
        if self.state is None:
            raise RuntimeError("model_inputs() needs setup() first: the tokenizer is fitted there")
        dims = {"vocab_size": self._vocab_size(), **special_ids(self.state["tokenizer"]),
                "n_students": len(self.state["students"]), "max_length": self.max_length,
                "target": self.target}  # fmt: skip
        return {"dims": dims, "state": self.state}

    def _vocab_size(self) -> int:
        from tokenizers import Tokenizer

        return int(Tokenizer.from_str(self.state["tokenizer"]["json"]).get_vocab_size())

    # ------------------------------------------------------------------ preparation
    def prepare_data(self) -> None:
        prepare = getattr(self.source, "prepare", None)
        if callable(prepare):
            prepare()

    def _select_students(self, answers: pd.DataFrame) -> np.ndarray:
        """Which answers belong to the students kept (``top_students``, ``student_rank``)."""
        ranked = rank_students(answers)
        keep = ranked.index
        if self.top_students is not None:
            keep = keep[: self.top_students]
        if self.student_rank is not None:
            if self.student_rank >= len(ranked):
                raise ConfigError(
                    f"data.student_rank={self.student_rank}: {self.source.name} has {len(ranked)} student(s), "
                    f"ranked 0 to {len(ranked) - 1} by answer count; choose a rank below {len(ranked)}."
                )
            keep = ranked.index[[self.student_rank]]
        return answers["student_id"].isin(set(keep)).to_numpy()

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        data = self.source.load()
        self.target = data.target
        # split the whole log, then keep the students asked for: every student's model sees the same split
        split = split_answers(
            data.answers, self.split_by, self.val_fraction, self.test_fraction, self.split_seed,
            fold=self.fold, n_folds=self.n_folds, fold_group=self.fold_group,
        )  # fmt: skip
        kept = self._select_students(data.answers)
        answers, split = data.answers[kept].reset_index(drop=True), split[kept]
        self.parts = {name: answers[split == name].reset_index(drop=True) for name in SPLITS}
        self.parts["all"] = answers
        empty = [name for name in SPLITS if len(self.parts[name]) == 0 and (name == "train" or
                 (self.val_fraction if name == "val" else self.test_fraction) > 0)]  # fmt: skip
        if empty:
            raise ConfigError(
                f"{self.source.name}: the {' and '.join(empty)} split(s) hold no answers with "
                f"split_by={self.split_by} for the {answers['student_id'].nunique()} student(s) kept; use "
                "more answers, other fractions, or another data.split_by."
            )
        used = set(answers["problem_id"])
        self.questions = data.questions[data.questions["problem_id"].isin(used)].reset_index(drop=True)
        self.question_index = {q: i for i, q in enumerate(self.questions["problem_id"])}
        texts = self.template.render(self.questions)
        if self.state is None:
            self.state = self._fit(texts, answers)
        ids, offsets = encode_texts(
            self.state["tokenizer"], texts, self.max_length, self.cache_dir, self.template.template
        )
        pad = special_ids(self.state["tokenizer"]).get("pad_token_id", 0)
        self.tokens = TokenizedQuestions(ids, offsets, pad)
        self.student_index = {s: i + 1 for i, s in enumerate(self.state["students"])}
        for name in (*SPLITS, "all"):
            self.datasets[name] = self.answer_dataset(self.parts[name])
        log.info("%s: %s; %d questions, %d students known to the model", self.source.name,
                 ", ".join(f"{n} {len(self.parts[n])} answers" for n in SPLITS), len(self.questions),
                 len(self.student_index))  # fmt: skip

    def _fit(self, texts: list[str], answers: pd.DataFrame) -> dict[str, Any]:
        train = self.parts["train"]
        train_questions = set(train["problem_id"])
        train_texts = [
            t for t, q in zip(texts, self.questions["problem_id"], strict=True) if q in train_questions
        ]
        cfg = self.tokenizer_cfg
        if cfg.get("pretrained"):
            tokenizer = pretrained_tokenizer(str(cfg["pretrained"]))
        else:
            tokenizer = train_tokenizer(train_texts, int(cfg["vocab_size"]), bool(cfg["lowercase"]))
        counts = rank_students(answers)
        # success rates are the questions' own, whoever answered: no student to learn
        students = [] if self.target == "success_rate" else sorted(train["student_id"].unique())
        return {"tokenizer": tokenizer, "students": students,
                "answer_counts": [int(counts[s]) for s in students]}  # fmt: skip

    def answer_dataset(self, part: pd.DataFrame) -> AnswerDataset:
        """The answers of ``part`` (rows of this data's answers, after ``setup``) as a dataset."""
        question = part["problem_id"].map(self.question_index).to_numpy()
        student = part["student_id"].map(self.student_index).fillna(0).astype(np.int64).to_numpy()
        p_true = part[ORACLE_COLUMN].to_numpy() if ORACLE_COLUMN in part else np.full(len(part), np.nan)
        return AnswerDataset(question, student, part["correct"].to_numpy(), p_true)

    # ------------------------------------------------------------------ loaders
    def _world(self) -> tuple[int, int]:
        trainer = getattr(self, "trainer", None)
        return (1, 0) if trainer is None else (trainer.world_size, trainer.global_rank)

    def loader_for(self, dataset: AnswerDataset, tokens: TokenizedQuestions, shuffle: bool,
                   batch_size: int | None = None) -> DataLoader:  # fmt: skip
        """A loader over ``dataset`` in length-bucketed batches (see :class:`LengthBucketBatchSampler`)."""
        world, rank = self._world()
        sampler = LengthBucketBatchSampler(
            dataset.sort_keys(tokens), batch_size=batch_size or self.batch_size, shuffle=shuffle, seed=self.split_seed,
            bucket_batches=self.bucket_batches, num_replicas=world, rank=rank,
        )  # fmt: skip
        trainer = getattr(self, "trainer", None)
        if shuffle and trainer is not None:
            # the epoch about to run: current_epoch lags by one when a fit resumes from an epoch-end checkpoint
            sampler.set_epoch(trainer.fit_loop.epoch_progress.current.processed)
        return DataLoader(dataset, batch_sampler=sampler, collate_fn=QuestionCollator(dataset, tokens, self.pad_to),
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0)  # fmt: skip

    def dataloader(self, split: str, shuffle: bool | None = None) -> DataLoader:
        """A loader over one split: ``train``, ``val``, ``test`` or ``all``."""
        shuffle = split == "train" if shuffle is None else shuffle
        return self.loader_for(self.datasets[split], self.tokens, shuffle)

    def train_dataloader(self) -> DataLoader:
        return self.dataloader("train")

    def val_dataloader(self) -> DataLoader:
        return self.dataloader("val")

    def test_dataloader(self) -> DataLoader:
        return self.dataloader("test")

    # ------------------------------------------------------------------ prediction
    def predict(
        self,
        model: torch.nn.Module,
        frame: pd.DataFrame,
        source: str = "questions",
        line_offset: int | None = None,
        batch_size: int = 256,
        max_len: int | None = None,
        all_students: bool = False,
    ) -> pd.DataFrame:
        """Success probabilities of ``frame``'s questions (see :func:`ktlab.data.text.prediction.predict_questions`)."""
        from ktlab.data.text.prediction import predict_questions

        complete = getattr(self.source, "complete_questions", None)
        if callable(complete):  # a source whose question files may leave columns out fills them
            frame = complete(frame)
        check_question_columns(frame, source)
        return predict_questions(
            self, model, frame, source=source, line_offset=line_offset, batch_size=batch_size,
            max_len=max_len, all_students=all_students,
        )  # fmt: skip
