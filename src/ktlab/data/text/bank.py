"""A generated bank of maths multiple-choice questions whose difficulty is known.

Eight families of questions (whole-number addition, subtraction, multiplication and division, negative
numbers, fractions, powers, linear equations), each with its topic, subject and axis, worded either as a
bare calculation or as a short word problem, with four or five options. Each question's difficulty on
the item-response scale is

    b = b_visible + item_effect

    b_visible = base[family] + DIGIT_EFFECT * (digits - min_digits[family])
                + STEP_EFFECT * (steps - 1) + CLOSE_EFFECT * close + WORD_EFFECT * word

where everything in ``b_visible`` can be read from the question's text:

* ``digits``: the number of digits of the numbers in the question;
* ``steps``: the solution steps (equations: ``x + a = b`` 1, ``ax + b = c`` 2, ``a(x + b) = c`` 3;
  fractions: same denominators 1, different 2; negatives: one negative term 1, two 2; powers: the
  exponent minus 1; others 1);
* ``close``: 1 when the wrong options are near misses (typical errors, the answer plus or minus a little),
  0 when they are far from the answer;
* ``word``: 1 for a word problem.

``item_effect`` is what the text does not show (an unfamiliar context, a confusing layout...): normal
with mean 0 and the variance that makes it ``hidden_share`` of the variance of ``b`` over the bank.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from ktlab.checks import Checks, Problem, raise_problems

DIGIT_EFFECT = 0.35
STEP_EFFECT = 0.5
CLOSE_EFFECT = 0.35
WORD_EFFECT = 0.3


@dataclass(frozen=True)
class Family:
    """A family of questions: its labels, base difficulty and the digits of its smallest question."""

    topic: str
    subject: str
    axis: str
    base: float
    min_digits: int


FAMILIES: dict[str, Family] = {
    "addition": Family("Adding whole numbers", "Arithmetic", "Number", -1.4, 2),
    "subtraction": Family("Subtracting whole numbers", "Arithmetic", "Number", -1.0, 2),
    "multiplication": Family("Multiplying whole numbers", "Arithmetic", "Number", -0.5, 2),
    "division": Family("Dividing whole numbers", "Arithmetic", "Number", 0.0, 2),
    "negatives": Family("Adding and subtracting negative numbers", "Negative numbers", "Number", -0.4, 2),
    "fractions": Family("Adding fractions", "Fractions", "Fractions", 0.2, 4),
    "powers": Family("Evaluating powers", "Powers", "Algebra", -0.6, 2),
    "equations": Family("Solving linear equations", "Equations", "Algebra", -0.3, 2),
}


def _digits(*numbers: int) -> int:
    return sum(len(str(abs(n))) for n in numbers)


def _number(rng: np.random.Generator, digits: int) -> int:
    return int(rng.integers(10 ** (digits - 1) if digits > 1 else 2, 10**digits))


def _addition(rng):
    a, b = _number(rng, int(rng.integers(1, 5))), _number(rng, int(rng.integers(1, 4)))
    word = f"A school has {a} pupils and {b} more join. How many pupils are there now?"
    return f"What is {a} + {b}?", word, a + b, _digits(a, b), 1, [a + b + 10, a + b - 1, abs(a - b) + 1]


def _subtraction(rng):
    a, b = _number(rng, int(rng.integers(2, 5))), _number(rng, int(rng.integers(1, 4)))
    a, b = max(a, b) + 1, min(a, b)
    word = f"A shop had {a} pens and sold {b}. How many pens are left?"
    return f"What is {a} - {b}?", word, a - b, _digits(a, b), 1, [a - b + 10, a - b - 1, a + b]


def _multiplication(rng):
    a, b = _number(rng, int(rng.integers(1, 4))), _number(rng, int(rng.integers(1, 3)))
    word = f"There are {a} boxes with {b} eggs in each box. How many eggs are there?"
    return f"What is {a} × {b}?", word, a * b, _digits(a, b), 1, [a * b + a, a * b - b, a + b]  # noqa: RUF001 (the sign shown to students)


def _division(rng):
    b, q = _number(rng, int(rng.integers(1, 3))), _number(rng, int(rng.integers(1, 4)))
    a = b * q
    word = f"{a} sweets are shared equally between {b} children. How many sweets does each child get?"
    return f"What is {a} ÷ {b}?", word, q, _digits(a, b), 1, [q + 1, q * 10, max(1, q - b)]


def _negatives(rng):
    a, b = _number(rng, int(rng.integers(1, 4))), _number(rng, int(rng.integers(1, 3)))
    both = bool(rng.random() < 0.5)
    if both:
        text, answer, word = (
            f"What is -{a} - {b}?",
            -a - b,
            f"The temperature is -{a} °C and falls by {b} °C. What is the temperature now?",
        )
        close = [a + b, -a + b, -(a + b) + 1]
    else:
        text, answer, word = (
            f"What is -{a} + {b}?",
            b - a,
            f"The temperature is -{a} °C and rises by {b} °C. What is the temperature now?",
        )
        close = [a + b, a - b if a != b else 1, -a - b]
    return text, word, answer, _digits(a, b), 2 if both else 1, close


def _fractions(rng):
    d1, d2 = int(rng.integers(2, 13)), int(rng.integers(2, 13))
    if rng.random() < 0.4:
        d2 = d1
    n1, n2 = int(rng.integers(1, d1)), int(rng.integers(1, d2))
    answer = Fraction(n1, d1) + Fraction(n2, d2)
    word = f"Ali eats {n1}/{d1} of a pizza and Ben eats {n2}/{d2} of a pizza. How much pizza do they eat?"
    close = [Fraction(n1 + n2, d1 + d2), Fraction(n1 * n2, d1 * d2), answer + Fraction(1, max(d1, d2))]
    steps = 1 if d1 == d2 else 2
    return f"What is {n1}/{d1} + {n2}/{d2}?", word, answer, _digits(n1, d1, n2, d2), steps, close


def _powers(rng):
    base, exponent = int(rng.integers(2, 13)), int(rng.integers(2, 5))
    answer = base**exponent
    word = (
        f"A cube has sides of {base} cm."
        if exponent == 3
        else f"A number {base} is raised to the power {exponent}."
    )
    word += f" What is {base}^{exponent}?"
    return f"What is {base}^{exponent}?", word, answer, _digits(base, exponent), exponent - 1, [
        base * exponent, answer + base, base ** (exponent - 1)
    ]  # fmt: skip


def _equations(rng):
    kind = int(rng.integers(1, 4))
    x, a, b = int(rng.integers(1, 20)), int(rng.integers(2, 10)), int(rng.integers(1, 30))
    if kind == 1:
        text, numbers, close = f"x + {b} = {x + b}", (b, x + b), [x + 2 * b, x + b, x - 1]
    elif kind == 2:
        text, numbers, close = f"{a}x + {b} = {a * x + b}", (a, b, a * x + b), [a * x, x + b, x + 1]
    else:
        text, numbers, close = f"{a}(x + {b}) = {a * (x + b)}", (a, b, a * (x + b)), [x + b, a * x, x - b]
    word = f"Think of a number x. I know that {text}. What is x?"
    return f"Solve for x: {text}", word, x, _digits(*numbers), kind, close


MAKERS: dict[str, Callable] = {
    "addition": _addition,
    "subtraction": _subtraction,
    "multiplication": _multiplication,
    "division": _division,
    "negatives": _negatives,
    "fractions": _fractions,
    "powers": _powers,
    "equations": _equations,
}


def _far(rng: np.random.Generator, answer: Any) -> list[Any]:
    """Wrong options far from the answer (40-200% away)."""
    if isinstance(answer, Fraction):
        return [answer * Fraction(int(k), 4) for k in rng.choice([1, 2, 7, 9, 11, 13], size=5, replace=False)]
    scale = max(abs(answer), 5)
    return [answer + int(s) * int(rng.integers(max(2, scale * 2 // 5), max(3, scale * 2 + 1))) for s in rng.choice([-1, 1], size=5)]  # fmt: skip


def _show(value: Any) -> str:
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    return str(value)


def _options(
    rng: np.random.Generator, answer: Any, candidates: list[Any], n_options: int
) -> tuple[list[str], int]:
    shown, seen = [], {_show(answer)}
    for value in candidates:
        text = _show(value)
        if text not in seen:
            seen.add(text)
            shown.append(text)
    k = 1
    while len(shown) < n_options - 1:  # too few distinct candidates: step away from the answer
        text = _show(answer + k * 3 if not isinstance(answer, Fraction) else answer + Fraction(k, 7))
        if text not in seen:
            seen.add(text)
            shown.append(text)
        k += 1
    options = shown[: n_options - 1]
    position = int(rng.integers(0, n_options))
    options.insert(position, _show(answer))
    return options, position


@dataclass
class BankConfig:
    """Parameters of the generated question bank (the Hydra keys of ``data.source.bank``)."""

    n_questions: int = 1200
    hidden_share: float = 0.2
    word_share: float = 0.4
    close_share: float = 0.5
    five_option_share: float = 0.3
    seed: int = 7

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        checks = Checks(args)
        checks.integer("n_questions", 8)
        for key in ("hidden_share", "word_share", "close_share", "five_option_share"):
            checks.in_range(key, 0.0, 1.0)
        checks.integer("seed", 0)
        return checks.problems


class GeneratedBank:
    """The generated question bank (``data.source.bank`` of ``data=questions_synthetic``).

    Args:
        n_questions: questions in the bank, spread evenly over the families.
        hidden_share: share of the variance of ``b`` that the text does not show (the item effect).
        word_share: share of word problems.
        close_share: share of questions whose wrong options are near misses.
        five_option_share: share of questions with a fifth option.
        seed: the generator's seed.
    """

    check_args = staticmethod(BankConfig.check_args)

    def __init__(self, **params: Any) -> None:
        raise_problems("data.source.bank", BankConfig.check_args(params))
        self.config = BankConfig(**params)
        self.name = f"generated question bank ({self.config.n_questions} questions, seed {self.config.seed})"

    def key(self) -> str:
        """A hash of every parameter (the cache key of the data built on this bank)."""
        return hashlib.sha1(
            json.dumps({"generated": asdict(self.config)}, sort_keys=True).encode()
        ).hexdigest()[:12]

    def questions(self) -> pd.DataFrame:
        """The bank: question columns plus the truth (features, ``b_visible``, ``item_effect``, ``difficulty``)."""
        cfg = self.config
        rng = np.random.default_rng(cfg.seed)
        names = list(FAMILIES)
        rows = []
        for i in range(cfg.n_questions):
            family = names[i % len(names)]
            text, word_text, answer, digits, steps, close_candidates = MAKERS[family](rng)
            word = bool(rng.random() < cfg.word_share)
            close = bool(rng.random() < cfg.close_share)
            n_options = 5 if rng.random() < cfg.five_option_share else 4
            candidates = close_candidates + _far(rng, answer) if close else _far(rng, answer)
            options, position = _options(rng, answer, candidates, n_options)
            spec = FAMILIES[family]
            rows.append(
                {
                    "problem_id": f"g{i:05d}",
                    "question_title": word_text if word else text,
                    **{
                        f"option_{c}": (options[k] if k < len(options) else "") for k, c in enumerate("abcde")
                    },
                    "topic_name": spec.topic,
                    "subject_name": spec.subject,
                    "axis_name": spec.axis,
                    "correct_option": "abcde"[position],
                    "family": family,
                    "digits": digits,
                    "steps": steps,
                    "close": int(close),
                    "word": int(word),
                    "b_visible": spec.base
                    + DIGIT_EFFECT * (digits - spec.min_digits)
                    + STEP_EFFECT * (steps - 1)
                    + CLOSE_EFFECT * close
                    + WORD_EFFECT * word,
                }
            )
        frame = pd.DataFrame(rows)
        frame["b_visible"] -= frame["b_visible"].mean()
        return add_item_effect(frame, cfg.hidden_share, rng)


def add_item_effect(frame: pd.DataFrame, hidden_share: float, rng: np.random.Generator) -> pd.DataFrame:
    """Add ``item_effect`` (``hidden_share`` of the variance of ``difficulty``) and ``difficulty``."""
    var_visible = float(frame["b_visible"].var())
    sd = np.sqrt(hidden_share / (1.0 - hidden_share) * var_visible) if hidden_share > 0 else 0.0
    frame["item_effect"] = rng.normal(0.0, sd, size=len(frame)) if sd > 0 else 0.0
    frame["difficulty"] = frame["b_visible"] + frame["item_effect"]
    return frame
