"""The seven tables of the learner database (SQLAlchemy 2.0 typed models).

* ``users``: learners, with a scrypt PIN hash (never the PIN), learning style and grade level; the
  username is kept as written and unique as compared (``username_key``, see :mod:`ktlab.db.usernames`).
* ``exercise_responses``: one row per answer; ``t`` orders a learner's answers (unique per learner) and the
  enriched signals of :mod:`ktlab.data.schema` are kept where known (NULL otherwise).
* ``skill_profiles``: per learner and skill domain, proficiency, attempts and streaks.
* ``parent_accounts`` and ``parent_child_links``: a parent reads a child's data only through a link.
* ``analytics_events``: typed events with a JSON payload, one per (learner, time, type).
* ``ml_models``: the model registry, one row per (name, version), at most one active version per name
  by convention (see :mod:`ktlab.db.registry`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ktlab.data.schema import ADJUSTMENTS, DIFFICULTY_RANGE, PHASES
from ktlab.db.base import Base, BigIntKey
from ktlab.db.usernames import display_username, username_key


def _key_default(context: Any) -> str:
    """``username_key`` of an INSERT that gives only ``username`` (Core inserts; the ORM sets both)."""
    params: Mapping[str, Any] = context.get_current_parameters()
    return username_key(params["username"])


_PHASE_LIST = ", ".join(f"'{p}'" for p in PHASES)
_ADJUSTMENT_LIST = ", ".join(str(a) for a in ADJUSTMENTS)
_DIFFICULTY_LOW, _DIFFICULTY_HIGH = DIFFICULTY_RANGE


class User(Base):
    """A learner of the platform."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("grade_level BETWEEN 0 AND 13", name="grade_level_range"),
        CheckConstraint("length(username) > 0", name="username_not_empty"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The display form; accounts are told apart by username_key (see ktlab.db.usernames).
    username: Mapped[str] = mapped_column(String(64))
    username_key: Mapped[str] = mapped_column(String(64), unique=True, default=_key_default)
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    learning_style: Mapped[str | None] = mapped_column(String(32))
    grade_level: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    skill_profiles: Mapped[list[SkillProfile]] = relationship(back_populates="user", passive_deletes=True)

    @validates("username")
    def _normalise(self, _key: str, value: str) -> str:
        self.username_key = username_key(value)
        return display_username(value)

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, username={self.username!r})"


class ExerciseResponse(Base):
    """One answer of one learner to one exercise."""

    __tablename__ = "exercise_responses"
    __table_args__ = (
        CheckConstraint("difficulty_level BETWEEN 1 AND 5", name="difficulty_level_range"),
        CheckConstraint("time_taken > 0", name="time_taken_positive"),
        CheckConstraint(
            f"difficulty BETWEEN {_DIFFICULTY_LOW} AND {_DIFFICULTY_HIGH}", name="difficulty_range"
        ),
        CheckConstraint(f"adjustment IN ({_ADJUSTMENT_LIST})", name="adjustment_values"),
        CheckConstraint("motivation BETWEEN 0 AND 1", name="motivation_range"),
        CheckConstraint("anxiety_level BETWEEN 0 AND 1", name="anxiety_level_range"),
        CheckConstraint(f"phase_type IN ({_PHASE_LIST})", name="phase_type_values"),
    )

    # The primary key (user_id, t) is the only index: it makes an answer unique per learner and step, and
    # serves the foreign key, lookups by learner and "latest answers" by t. A surrogate id or any other
    # index would cost bulk ingestion speed (each is one more B-tree insert per row) for no query.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    t: Mapped[float] = mapped_column(Float, primary_key=True)
    exercise_id: Mapped[str] = mapped_column(String(64))
    skill_domain: Mapped[str] = mapped_column(String(64))
    difficulty_level: Mapped[int | None] = mapped_column(SmallInteger)
    is_correct: Mapped[bool] = mapped_column(Boolean)
    time_taken: Mapped[float | None] = mapped_column(Float)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    difficulty: Mapped[float | None] = mapped_column(Float)
    adjustment: Mapped[int | None] = mapped_column(SmallInteger)
    motivation: Mapped[float | None] = mapped_column(Float)
    anxiety_level: Mapped[float | None] = mapped_column(Float)
    phase_type: Mapped[str | None] = mapped_column(String(16))


class SkillProfile(Base):
    """A learner's standing in one skill domain."""

    __tablename__ = "skill_profiles"
    __table_args__ = (
        UniqueConstraint("user_id", "domain", name="uq_skill_profiles_user_id_domain"),
        CheckConstraint("proficiency BETWEEN 0 AND 1", name="proficiency_range"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        CheckConstraint("current_streak >= 0 AND best_streak >= current_streak", name="streaks_valid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(64))
    proficiency: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    current_streak: Mapped[int] = mapped_column(Integer, default=0)
    best_streak: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    user: Mapped[User] = relationship(back_populates="skill_profiles")


class ParentAccount(Base):
    """A parent (or guardian) who may read the data of linked learners."""

    __tablename__ = "parent_accounts"
    __table_args__ = (CheckConstraint("length(username) > 0", name="username_not_empty"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    username_key: Mapped[str] = mapped_column(String(64), unique=True, default=_key_default)
    password_hash: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @validates("username")
    def _normalise(self, _key: str, value: str) -> str:
        self.username_key = username_key(value)
        return display_username(value)


class ParentChildLink(Base):
    """The right of one parent account to read one learner's data."""

    __tablename__ = "parent_child_links"
    __table_args__ = (
        UniqueConstraint("parent_id", "child_id", name="uq_parent_child_links_parent_id_child_id"),
        Index("ix_parent_child_links_child_id", "child_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # parent_id is covered by the leading column of the unique index.
    parent_id: Mapped[int] = mapped_column(ForeignKey("parent_accounts.id", ondelete="CASCADE"))
    child_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AnalyticsEvent(Base):
    """Something a learner did on the platform (login, badge, hint...), with a JSON payload."""

    __tablename__ = "analytics_events"
    __table_args__ = (
        # The natural key: an event is identified by its learner, time and type. The constraint makes
        # concurrent imports of the same files add each event once (INSERT ... ON CONFLICT DO NOTHING), and
        # its index, led by (user_id, occurred_at), serves a learner's events in time order.
        UniqueConstraint(
            "user_id", "occurred_at", "event_type", name="uq_analytics_events_user_id_occurred_at_event_type"
        ),
        Index("ix_analytics_events_event_type", "event_type"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MLModel(Base):
    """A trained model in the registry: metrics, checkpoint and config of one training run."""

    __tablename__ = "ml_models"
    __table_args__ = (
        UniqueConstraint("name", "version", name="uq_ml_models_name_version"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_ml_models_name_is_active", "name", "is_active"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(128))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    artifact_path: Mapped[str | None] = mapped_column(String(1024))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=false())
