"""Initial learner database: users, answers, skill profiles, parents, analytics events, model registry.

Revision ID: c0ba012d4ba2
Revises:
Create Date: 2026-11-22 01:59:44+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0ba012d4ba2"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: 64-bit keys on PostgreSQL, INTEGER (the rowid alias) on SQLite.
BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PHASES = "'hub', 'exploration', 'lecon', 'synthese', 'defi'"


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    """A timezone-aware timestamp column defaulting to the server's current time."""
    default = None if nullable else sa.func.now()
    return sa.Column(name, sa.DateTime(timezone=True), server_default=default, nullable=nullable)


def upgrade() -> None:
    """Create the seven tables with their constraints and indexes."""
    op.create_table(
        "ml_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=128), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("artifact_path", sa.String(length=1024), nullable=True),
        sa.Column("config", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        sa.Column("is_active", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_ml_models_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ml_models")),
        sa.UniqueConstraint("name", "version", name="uq_ml_models_name_version"),
    )
    with op.batch_alter_table("ml_models", schema=None) as batch_op:
        batch_op.create_index("ix_ml_models_name_is_active", ["name", "is_active"], unique=False)

    op.create_table(
        "parent_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        _timestamp("created_at"),
        sa.CheckConstraint("length(username) > 0", name=op.f("ck_parent_accounts_username_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parent_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_parent_accounts_email")),
        sa.UniqueConstraint("username", name=op.f("uq_parent_accounts_username")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("pin_hash", sa.String(length=255), nullable=True),
        sa.Column("learning_style", sa.String(length=32), nullable=True),
        sa.Column("grade_level", sa.SmallInteger(), nullable=True),
        _timestamp("created_at"),
        _timestamp("last_seen", nullable=True),
        sa.CheckConstraint("grade_level BETWEEN 0 AND 13", name=op.f("ck_users_grade_level_range")),
        sa.CheckConstraint("length(username) > 0", name=op.f("ck_users_username_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "analytics_events",
        sa.Column("id", BIG_KEY, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        _timestamp("occurred_at"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_analytics_events_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_events")),
    )
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_events_event_type", ["event_type"], unique=False)
        batch_op.create_index(
            "ix_analytics_events_user_id_occurred_at", ["user_id", "occurred_at"], unique=False
        )

    op.create_table(
        "exercise_responses",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("t", sa.Float(), nullable=False),
        sa.Column("exercise_id", sa.String(length=64), nullable=False),
        sa.Column("skill_domain", sa.String(length=64), nullable=False),
        sa.Column("difficulty_level", sa.SmallInteger(), nullable=True),
        sa.Column("is_correct", sa.Boolean(), nullable=False),
        sa.Column("time_taken", sa.Float(), nullable=True),
        _timestamp("answered_at"),
        _timestamp("created_at"),
        sa.Column("difficulty", sa.Float(), nullable=True),
        sa.Column("adjustment", sa.SmallInteger(), nullable=True),
        sa.Column("motivation", sa.Float(), nullable=True),
        sa.Column("anxiety_level", sa.Float(), nullable=True),
        sa.Column("phase_type", sa.String(length=16), nullable=True),
        sa.CheckConstraint(f"phase_type IN ({PHASES})", name=op.f("ck_exercise_responses_phase_type_values")),
        sa.CheckConstraint("adjustment IN (-1, 0, 1)", name=op.f("ck_exercise_responses_adjustment_values")),
        sa.CheckConstraint(
            "anxiety_level BETWEEN 0 AND 1", name=op.f("ck_exercise_responses_anxiety_level_range")
        ),
        sa.CheckConstraint(
            "difficulty BETWEEN 0.2 AND 0.9", name=op.f("ck_exercise_responses_difficulty_range")
        ),
        sa.CheckConstraint(
            "difficulty_level BETWEEN 1 AND 5", name=op.f("ck_exercise_responses_difficulty_level_range")
        ),
        sa.CheckConstraint("motivation BETWEEN 0 AND 1", name=op.f("ck_exercise_responses_motivation_range")),
        sa.CheckConstraint("time_taken > 0", name=op.f("ck_exercise_responses_time_taken_positive")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_exercise_responses_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "t", name=op.f("pk_exercise_responses")),
    )
    op.create_table(
        "parent_child_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["child_id"], ["users.id"], name=op.f("fk_parent_child_links_child_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["parent_accounts.id"],
            name=op.f("fk_parent_child_links_parent_id_parent_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parent_child_links")),
        sa.UniqueConstraint("parent_id", "child_id", name="uq_parent_child_links_parent_id_child_id"),
    )
    with op.batch_alter_table("parent_child_links", schema=None) as batch_op:
        batch_op.create_index("ix_parent_child_links_child_id", ["child_id"], unique=False)

    op.create_table(
        "skill_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=64), nullable=False),
        sa.Column("proficiency", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("current_streak", sa.Integer(), nullable=False),
        sa.Column("best_streak", sa.Integer(), nullable=False),
        _timestamp("updated_at"),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_skill_profiles_attempts_non_negative")),
        sa.CheckConstraint(
            "current_streak >= 0 AND best_streak >= current_streak",
            name=op.f("ck_skill_profiles_streaks_valid"),
        ),
        sa.CheckConstraint("proficiency BETWEEN 0 AND 1", name=op.f("ck_skill_profiles_proficiency_range")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_skill_profiles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skill_profiles")),
        sa.UniqueConstraint("user_id", "domain", name="uq_skill_profiles_user_id_domain"),
    )


def downgrade() -> None:
    """Drop every table, dependants first."""
    op.drop_table("skill_profiles")
    with op.batch_alter_table("parent_child_links", schema=None) as batch_op:
        batch_op.drop_index("ix_parent_child_links_child_id")

    op.drop_table("parent_child_links")
    op.drop_table("exercise_responses")
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_events_user_id_occurred_at")
        batch_op.drop_index("ix_analytics_events_event_type")

    op.drop_table("analytics_events")
    op.drop_table("users")
    op.drop_table("parent_accounts")
    with op.batch_alter_table("ml_models", schema=None) as batch_op:
        batch_op.drop_index("ix_ml_models_name_is_active")

    op.drop_table("ml_models")
