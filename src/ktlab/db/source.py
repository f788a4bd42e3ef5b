"""Training data from the database: ``exercise_responses`` read back into the interaction schema.

``python train.py data=db`` builds a :class:`DatabaseSource` from the ``db`` config group; the DataModule
calls :meth:`DatabaseSource.load` like any other source (see :mod:`ktlab.data.sources`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.exc import SQLAlchemyError

from ktlab.data.schema import CORE_COLUMNS, INTERACTION_COLUMNS, validate_interactions
from ktlab.db.columns import EXERCISE_RESPONSES
from ktlab.db.engine import connect_error, make_engine, masked, require_schema
from ktlab.db.errors import DatabaseError
from ktlab.db.models import ExerciseResponse, User

log = logging.getLogger(__name__)

#: How each schema column is read from the database: the learner is the user's name, the other stored
#: columns come from ``exercise_responses`` through the layout's column map (:mod:`ktlab.db.columns`).
COLUMN_SQL = {
    "student_id": User.username,
    **{name: getattr(ExerciseResponse, stored) for name, stored in EXERCISE_RESPONSES.items()},
}


class DatabaseSource:
    """Interactions stored in ``exercise_responses`` (``data=db``).

    Args:
        db: the ``db`` config (``url``, ``echo``, pool keys) or a URL; ``KTLAB_DATABASE_URL`` wins over it.
        skill_domains: read only these domains (all when None).
    """

    def __init__(self, db: Mapping[str, Any] | str, skill_domains: Sequence[str] | None = None) -> None:
        self.db = dict(db) if isinstance(db, Mapping) else db
        self.skill_domains = list(skill_domains) if skill_domains else None
        self.name = "database table exercise_responses"

    def query(self, required: Sequence[str]) -> Select:
        """The SELECT of the core columns plus ``required``, ordered by learner and ``t``."""
        absent = [c for c in required if c not in COLUMN_SQL]
        if absent:
            raise DatabaseError(
                f"the learner database does not store {', '.join(absent)}; train on a file that has "
                f"{'it' if len(absent) == 1 else 'them'} (data=csv data.path=FILE), or drop "
                f"{'it' if len(absent) == 1 else 'them'} from the data config's feature lists."
            )
        names = [c for c in COLUMN_SQL if c in set(CORE_COLUMNS) | set(required)]
        stmt = select(*(COLUMN_SQL[c].label(c) for c in names)).join(
            User, User.id == ExerciseResponse.user_id
        )
        if self.skill_domains:
            stmt = stmt.where(ExerciseResponse.skill_domain.in_(self.skill_domains))
        return stmt.order_by(User.username, ExerciseResponse.t)

    def read(self, stmt: Select, create_dirs: bool = True) -> pd.DataFrame:
        """The rows of ``stmt`` (one of :meth:`query`, maybe narrowed), unvalidated; names the source.

        Raises:
            DatabaseError: the database is unreachable or has no schema.
        """
        engine = make_engine(self.db, create_dirs=create_dirs)
        try:
            require_schema(engine)
            self.name = f"database {masked(engine.url)}, table exercise_responses"
            with engine.connect() as conn:
                return pd.read_sql(stmt, conn)
        except SQLAlchemyError as err:
            raise connect_error(engine, err) from None
        finally:
            engine.dispose()

    def load(self, required: Sequence[str] = INTERACTION_COLUMNS) -> pd.DataFrame:
        """Read the answers (one query, vectorized) and validate them like a file.

        Raises:
            DatabaseError: the database is unreachable, has no schema, or holds no answers.
            DataValidationError: a stored answer lacks a signal the run reads (e.g. NULL motivation).
        """
        frame = self.read(self.query(required))
        if frame.empty:
            scope = f" in skill domains {self.skill_domains}" if self.skill_domains else ""
            raise DatabaseError(
                f"{self.name} holds no answers{scope}; store some with `python scripts/ingest.py FILE` first."
            )
        frame["correct"] = frame["correct"].astype("int8")
        log.info(
            "read %d answers of %d learners from %s", len(frame), frame["student_id"].nunique(), self.name
        )
        return validate_interactions(frame, self.name, required=required)
