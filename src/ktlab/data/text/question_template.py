"""A small questions file for ``estimate_difficulty.py questions=FILE`` and the text family's ``predict.py``.

``python scripts/make_template.py --questions new_questions.csv`` writes it: three questions in the columns
a questions file takes (one four-option question, one with a fifth option, one with its own id), so that
it is read as is and shows every column. It uses the answer record's names (``problem_id``, ``student_id``);
a questions file may use the original notebook's (``question_id``, ``user_id``) instead.
"""

from __future__ import annotations

import pandas as pd

from ktlab.data.text.schema import OPTION_COLUMNS

COLUMNS: list[str] = [
    "problem_id",
    "question_title",
    *OPTION_COLUMNS,
    "topic_name",
    "subject_name",
    "axis_name",
]

#: problem_id, question_title, option_a..option_e, topic_name, subject_name, axis_name
ROWS: list[tuple[str, ...]] = [
    ("new_001", "What is 3/4 + 1/8?", "7/8", "4/12", "1", "3/32", "", "Adding fractions", "Fractions",
     "Number"),
    ("new_002", "Solve for x: 2x - 7 = 9", "8", "1", "-8", "16", "2", "Solving linear equations", "Equations",
     "Algebra"),
    ("new_003", "A rectangle is 6 cm by 4 cm. What is its area?", "24 cm²", "20 cm²", "10 cm²", "48 cm²", "",
     "Area of rectangles", "Area and perimeter", "Geometry"),
]  # fmt: skip

GUIDE = """Columns (one row per question; nobody needs to have answered it):
  problem_id                    optional: your id (else the text and options identify the question)
  question_title                the question's text
  option_a .. option_d          the options (text, kept as written)
  option_e                      optional fifth option (may be empty)
  topic_name, subject_name, axis_name   the question's labels, as in the training answers
  student_id                    optional (predict.py): one prediction per row for that student
  (question_id and user_id, the original notebook's names, are read too)"""


def question_template_frame() -> pd.DataFrame:
    """The template questions as a frame of text columns."""
    return pd.DataFrame(ROWS, columns=COLUMNS, dtype=object)
