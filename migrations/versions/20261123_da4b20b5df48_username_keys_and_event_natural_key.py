"""Usernames compared without case or surrounding spaces; one analytics event per (learner, time, type).

* ``users`` and ``parent_accounts`` get ``username_key`` (NFKC, stripped, case-folded), unique, in place of
  the unique ``username``, which keeps the display form (stripped of surrounding whitespace). Stored names
  whose keys clash (``alice`` and ``ALICE``) stop the upgrade, naming them: rename one account first.
* ``analytics_events`` gets the unique natural key (user_id, occurred_at, event_type) in place of the index
  (user_id, occurred_at), which it replaces for queries. Exact repeats of an event (same learner, time and
  type, as two concurrent imports could add) are deleted first, keeping the oldest row.

Revision ID: da4b20b5df48
Revises: c0ba012d4ba2
Create Date: 2026-11-23 09:00:00+00:00
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ktlab.db.errors import DatabaseError

revision: str = "da4b20b5df48"
down_revision: str | Sequence[str] | None = "c0ba012d4ba2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACCOUNT_TABLES = ("users", "parent_accounts")


def _key(name: str) -> str:
    """The comparison form of a username as of this revision (frozen here; see ktlab.db.usernames)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).strip().casefold())


def _fill_keys(table_name: str) -> None:
    """Set ``username_key`` and strip ``username`` on every stored row; refuse clashing names."""
    table = sa.table(
        table_name, sa.column("id", sa.Integer), sa.column("username", sa.String), sa.column("username_key")
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(table.c.id, table.c.username).order_by(table.c.id)).all()
    seen: dict[str, str] = {}
    for row_id, name in rows:
        key = _key(name)
        if key in seen:
            raise DatabaseError(
                f"{table_name}: the accounts {seen[key]!r} and {name!r} differ only by case or surrounding "
                "spaces, which from this revision on are one account. Rename one of them, then upgrade again."
            )
        seen[key] = name
        bind.execute(
            table.update().where(table.c.id == row_id).values(username=name.strip(), username_key=key)
        )


def upgrade() -> None:
    """Add the username keys and the event natural key."""
    for table_name in ACCOUNT_TABLES:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("username_key", sa.String(length=64), nullable=True))
        _fill_keys(table_name)
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column("username_key", existing_type=sa.String(length=64), nullable=False)
            batch_op.drop_constraint(f"uq_{table_name}_username", type_="unique")
            batch_op.create_unique_constraint(f"uq_{table_name}_username_key", ["username_key"])

    op.execute(
        "DELETE FROM analytics_events WHERE id NOT IN "
        "(SELECT min(id) FROM analytics_events GROUP BY user_id, occurred_at, event_type)"
    )
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_events_user_id_occurred_at")
        batch_op.create_unique_constraint(
            "uq_analytics_events_user_id_occurred_at_event_type", ["user_id", "occurred_at", "event_type"]
        )


def downgrade() -> None:
    """Back to unique display names and the plain event index (the repeats deleted stay deleted)."""
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_analytics_events_user_id_occurred_at_event_type", type_="unique")
        batch_op.create_index(
            "ix_analytics_events_user_id_occurred_at", ["user_id", "occurred_at"], unique=False
        )
    for table_name in ACCOUNT_TABLES:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_constraint(f"uq_{table_name}_username_key", type_="unique")
            batch_op.create_unique_constraint(f"uq_{table_name}_username", ["username"])
            batch_op.drop_column("username_key")
