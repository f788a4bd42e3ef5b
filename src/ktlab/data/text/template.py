"""The text a model reads for a question, built from a configurable template.

The default shows the topic, subject and axis, then the question and its lettered options, as the
original notebook built it::

    Topic: {topic_name}
    Subject: {subject_name}
    Axis: {axis_name}
    Question: {question_title}
    {options}

``{options}`` is one line per non-empty option, each written with ``option_format``
(``"{letter}) {text}"``); the single options are also available as ``{option_a}`` ... ``{option_e}``,
the key's letter as ``{correct_option}`` and the key's text as ``{answer}`` (both empty where the data
has no key).
"""

from __future__ import annotations

import string

import pandas as pd

from ktlab.data.text.schema import KEY_COLUMN, LABEL_COLUMNS, OPTION_COLUMNS
from ktlab.errors import ConfigError

DEFAULT_TEMPLATE = (
    "Topic: {topic_name}\nSubject: {subject_name}\nAxis: {axis_name}\nQuestion: {question_title}\n{options}"
)
DEFAULT_OPTION_FORMAT = "{letter}) {text}"
FIELDS: tuple[str, ...] = ("question_title", *OPTION_COLUMNS, *LABEL_COLUMNS, KEY_COLUMN, "answer", "options")


def _parts(template: str, allowed: tuple[str, ...], key: str) -> list[tuple[str, str | None]]:
    """``(literal, field or None)`` pairs of a format string, refusing unknown fields and format specs."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as err:
        raise ConfigError(f"{key}={template!r}: not a valid format string ({err}); set {key}.") from None
    out = []
    for literal, field, spec, conversion in parsed:
        if field is not None and (field not in allowed or spec or conversion):
            raise ConfigError(
                f"{key}={template!r}: field {{{field}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} is not one of {', '.join('{' + f + '}' for f in allowed)}; "
                f"set {key}."
            )
        out.append((literal, field))
    return out


class PromptTemplate:
    """Renders question rows as model text, vectorized over the rows of a question table.

    Args:
        template: a ``str.format`` string over :data:`FIELDS`.
        option_format: how each option line of ``{options}`` is written (fields ``{letter}``, ``{text}``).
    """

    def __init__(self, template: str = DEFAULT_TEMPLATE, option_format: str = DEFAULT_OPTION_FORMAT) -> None:
        self.template = template
        self.option_format = option_format
        self._parts = _parts(template, FIELDS, "data.template")
        self._option_parts = _parts(option_format, ("letter", "text"), "data.option_format")
        if not any(field for _, field in self._parts):
            raise ConfigError(
                f"data.template={template!r}: shows no field of the question; include {{question_title}}."
            )

    def _options(self, questions: pd.DataFrame) -> pd.Series:
        lines = []
        for column in OPTION_COLUMNS:
            if column not in questions:
                continue
            text = questions[column].fillna("").astype(str)
            line = pd.Series("", index=questions.index, dtype=object)
            for literal, field in self._option_parts:
                line = line + literal
                if field == "letter":
                    line = line + column[-1].upper()
                elif field == "text":
                    line = line + text
            lines.append(line.where(text != "", ""))
        joined = pd.Series("", index=questions.index, dtype=object)
        for line in lines:
            sep = pd.Series("\n", index=questions.index).where((joined != "") & (line != ""), "")
            joined = joined + sep + line
        return joined

    @staticmethod
    def _answer(questions: pd.DataFrame) -> pd.Series:
        """The text of each question's key (empty where ``correct_option`` is missing or empty)."""
        key = questions[KEY_COLUMN].fillna("").astype(str) if KEY_COLUMN in questions else None
        out = pd.Series("", index=questions.index, dtype=object)
        for column in OPTION_COLUMNS:
            if key is not None and column in questions:
                out = out.mask(key == column[-1], questions[column].fillna("").astype(str))
        return out

    def render(self, questions: pd.DataFrame) -> list[str]:
        """The text of every row of ``questions`` (a frame with the question columns)."""
        out = pd.Series("", index=questions.index, dtype=object)
        for literal, field in self._parts:
            out = out + literal
            if field == "options":
                out = out + self._options(questions)
            elif field == "answer":
                out = out + self._answer(questions)
            elif field is not None:
                absent = field == KEY_COLUMN and field not in questions  # the key is optional
                value = pd.Series("", index=questions.index) if absent else questions[field]
                out = out + value.fillna("").astype(str)
        return out.tolist()
