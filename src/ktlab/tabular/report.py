"""What the operator CLI prints: tables that fit 80 columns and name learners by username.

The at-risk table shows each learner's username beside its ``users.id``, the risk and its level, recent
success and answers; the action of each level is printed once under the table instead of on every row.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from ktlab.tabular.data import PlatformData
from ktlab.tabular.performance import ACTIONS

#: The widest line the CLI prints (terminals narrower than this get their own width).
WIDTH = 80


def username_of(student_id: Any, data: PlatformData) -> str | None:
    """The username of a learner, when the data has usernames (the database has)."""
    if "username" not in data.learners:
        return None
    names = data.learners.set_index("student_id")["username"]
    name = names.get(student_id)
    return None if name is None or pd.isna(name) else str(name)


def with_usernames(table: pd.DataFrame, data: PlatformData) -> pd.DataFrame:
    """``table`` with a ``username`` column after ``student_id`` (empty where the data has none)."""
    names = data.learners.set_index("student_id")["username"] if "username" in data.learners else pd.Series()
    out = table.copy()
    out.insert(out.columns.get_loc("student_id") + 1, "username", out["student_id"].map(names))
    return out


def print_at_risk(table: pd.DataFrame, title: str, width: int = WIDTH) -> None:
    """The ranked learners as a table, then the recommended action of each risk level shown."""
    console = Console(width=width)
    view = Table(title=title)
    for column, justify in (
        ("#", "right"),
        ("learner", "left"),
        ("id", "right"),
        ("risk", "right"),
        ("level", "left"),
        ("recent success", "right"),
        ("answers", "right"),
    ):
        view.add_column(column, justify=justify)  # type: ignore[arg-type]
    for rank, row in enumerate(table.itertuples(index=False), start=1):
        name = "" if pd.isna(row.username) else str(row.username)
        view.add_row(
            str(rank),
            name,
            str(row.student_id),
            f"{row.risk_score:.2f}",
            str(row.risk_level),
            f"{row.recent_success:.2f}",
            str(row.n_answers),
        )
    console.print(view)
    domain = title.split(" in ", 1)[-1].split(" over ", 1)[0]
    for level in [lv for lv in ACTIONS if lv in set(table["risk_level"])]:
        console.print(f"{level}: {ACTIONS[level].format(domain=domain)}")


def print_record(record: dict[str, Any], title: str, width: int = WIDTH) -> None:
    """One result as a two-column table of field and value."""
    view = Table(title=title)
    view.add_column("field")
    view.add_column("value")
    for key, value in record.items():
        view.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
    Console(width=width).print(view)
