"""Simulated students answering a question bank through an item-response model.

Student ``s`` has an ability per axis, ``theta[s, axis] = general[s] + gap[s, axis]`` (normal, standard
deviations ``ability_sd`` and ``axis_sd``), and answers question ``q`` right with probability

    p = guessing + (1 - guessing) * sigmoid(discrimination * (theta[s, axis(q)] - b[q]))

(a three-parameter logistic model with one discrimination and one guessing rate for all items). The
number of answers of a student is log-normal (median ``median_answers``, clipped to
``[min_answers, max_answers]``), so a few students are very active, as on a real platform; each student
answers distinct questions drawn at random.

Every answer keeps its ``p_correct_true`` (the oracle AUC), and every question gets

* ``true_success``: the expected success rate over the whole student population (its true difficulty);
* ``visible_success``: the same with ``b_visible`` alone, the part of the difficulty its text shows.

:func:`text_ceiling` is the Spearman correlation between the two: what a perfect reader of the text
reaches in ranking questions by difficulty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ktlab.checks import Checks, Problem


@dataclass
class StudentConfig:
    """Parameters of the simulated students (the Hydra keys of ``data.source.students``)."""

    n_students: int = 400
    median_answers: int = 50
    min_answers: int = 15
    max_answers: int = 400
    activity_sd: float = 0.8
    ability_sd: float = 1.0
    axis_sd: float = 0.5
    discrimination: float = 1.7
    guessing: float = 0.15
    seed: int = 11

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        checks = Checks(args)
        checks.integer("n_students", 1)
        checks.integer("median_answers", 1)
        checks.integer("min_answers", 1)
        checks.integer("max_answers", 1)
        checks.at_least("activity_sd", 0.0)
        checks.at_least("ability_sd", 0.0)
        checks.at_least("axis_sd", 0.0)
        checks.require("discrimination", lambda v: v > 0, "must be > 0")
        checks.in_range("guessing", 0.0, 1.0)
        checks.integer("seed", 0)
        if not checks.problems and args.get("min_answers", 1) > args.get("max_answers", 400):
            checks.problems.append(Problem("min_answers", args["min_answers"], "must be <= max_answers"))
        return checks.problems


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def success_probability(theta: np.ndarray, b: np.ndarray, cfg: StudentConfig) -> np.ndarray:
    """``p`` of the module docstring, broadcast over ``theta`` and ``b``."""
    return cfg.guessing + (1.0 - cfg.guessing) * _sigmoid(cfg.discrimination * (theta - b))


def simulate_answers(questions: pd.DataFrame, cfg: StudentConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Answers of simulated students to ``questions`` (needing ``axis_name``, ``difficulty``, ``b_visible``).

    Returns:
        ``(answers, questions)``: the answer log in the schema of :mod:`ktlab.data.text.schema` (question
        columns included, plus ``p_correct_true``), and the question table with ``true_success`` and
        ``visible_success`` added.
    """
    rng = np.random.default_rng(cfg.seed)
    axes = sorted(questions["axis_name"].unique())
    axis_of = questions["axis_name"].map({a: i for i, a in enumerate(axes)}).to_numpy()
    general = rng.normal(0.0, cfg.ability_sd, size=(cfg.n_students, 1))
    theta = general + rng.normal(0.0, cfg.axis_sd, size=(cfg.n_students, len(axes)))  # [S, A]
    per_item = theta[:, axis_of]  # [S, Q]
    b = questions["difficulty"].to_numpy()
    p_all = success_probability(per_item, b[None, :], cfg)  # [S, Q]
    questions = questions.copy()
    questions["true_success"] = p_all.mean(axis=0)
    questions["visible_success"] = success_probability(per_item, questions["b_visible"].to_numpy()[None, :], cfg).mean(axis=0)  # fmt: skip

    n_questions = len(questions)
    counts = np.exp(np.log(cfg.median_answers) + rng.normal(0.0, cfg.activity_sd, size=cfg.n_students))
    counts = np.clip(np.round(counts), cfg.min_answers, min(cfg.max_answers, n_questions)).astype(int)
    order = np.argsort(rng.random((cfg.n_students, n_questions)), axis=1)  # a random order per student
    taken = np.arange(n_questions)[None, :] < counts[:, None]
    student, position = np.nonzero(taken)
    question = order[student, position]
    p = p_all[student, question]
    correct = (rng.random(len(p)) < p).astype(np.int8)
    shown = questions.drop(columns=["true_success", "visible_success"]).iloc[question].reset_index(drop=True)
    answers = pd.DataFrame(
        {
            "answer_id": [f"a{i:07d}" for i in range(len(p))],
            "student_id": [f"u{s:05d}" for s in student],
            "correct": correct,
        }
    )
    keep = ["problem_id", "question_title", "option_a", "option_b", "option_c", "option_d", "option_e",
            "topic_name", "subject_name", "axis_name"]  # fmt: skip
    answers = pd.concat([answers, shown[keep]], axis=1)
    answers["p_correct_true"] = p
    return answers, questions


def text_ceiling(questions: pd.DataFrame) -> float:
    """Spearman correlation of ``true_success`` with ``visible_success`` over ``questions``."""
    return float(spearmanr(questions["true_success"], questions["visible_success"]).statistic)
