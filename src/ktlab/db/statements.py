"""Statements shared by the writers of the learner database."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Insert, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ktlab.db.base import Base

_INSERTS = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def insert_new(session: Session, model: type[Base], unique: Sequence[str]) -> Insert:
    """``INSERT ... ON CONFLICT (unique) DO NOTHING`` on PostgreSQL and SQLite, a plain INSERT elsewhere.

    Under concurrency this is what makes writers idempotent: on PostgreSQL a row that another open
    transaction has just inserted makes this one wait for it, then skip the row once it commits. With
    ``RETURNING`` only the rows actually inserted come back.
    """
    make = _INSERTS.get(session.get_bind().dialect.name)
    if make is None:
        return insert(model)
    return make(model).on_conflict_do_nothing(index_elements=list(unique))
