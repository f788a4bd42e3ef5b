"""Platform data read from (and, for tests and demos, written to) the learner database.

Reads ``exercise_responses`` (``answered_at`` is the answer's time, ``time_taken`` its duration), ``users``
(``grade_level``, ``learning_style``) and ``skill_profiles``. The tables' columns are renamed to the record's
names (:mod:`ktlab.tabular.data`) by the column maps of the database layout,
:data:`ktlab.db.columns.PLATFORM_ANSWERS` and :data:`ktlab.db.columns.USERS`, at the query (reading) and
at the insert (:func:`store_platform`); nothing else here knows a stored column name. The stored profiles are a snapshot taken at
``updated_at``, not a history, so they are kept beside the data for display and never used as features:
they would carry later answers into earlier training examples.

Answers stored by ``scripts/ingest.py`` get ``answered_at`` = the time of the ingestion (the column's server
default), so all their timestamps are equal and no answer precedes another in time: the time features need
answers recorded with their real ``answered_at`` (as :func:`store_platform` and the platform do).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ktlab.db.columns import PLATFORM_ANSWERS, USERS
from ktlab.db.engine import connect_error, make_engine, masked, require_schema
from ktlab.db.errors import DatabaseError
from ktlab.db.ingest import ensure_users
from ktlab.db.models import ExerciseResponse, SkillProfile, User
from ktlab.tabular.data import PlatformData

log = logging.getLogger(__name__)

#: Ingested answers sharing their timestamp with another answer of the same learner above this share get
#: a warning: their time features are degenerate.
TIED_WARN_SHARE = 0.5


def load_db(
    db: Mapping[str, Any] | str, skill_domains: Sequence[str] | None = None, use_env: bool = True
) -> PlatformData:
    """Read answers, learners and profiles from the database of the ``db`` config (or a URL).

    Args:
        db: the ``db`` config or a URL; ``KTLAB_DATABASE_URL`` wins over it unless ``use_env`` is False.
        skill_domains: read only these domains (all when None).
        use_env: False to take the URL as given.

    Raises:
        DatabaseError: unreachable database, no schema, or no answers.
    """
    engine = make_engine(dict(db) if isinstance(db, Mapping) else db, use_env=use_env, create_dirs=False)
    name = f"database {masked(engine.url)}"
    answers_sql = select(
        *(getattr(ExerciseResponse, stored).label(column) for column, stored in PLATFORM_ANSWERS.items())
    )
    if skill_domains:
        skill = getattr(ExerciseResponse, PLATFORM_ANSWERS["skill_id"])
        answers_sql = answers_sql.where(skill.in_(list(skill_domains)))
    learners_sql = select(*(getattr(User, stored).label(column) for column, stored in USERS.items()))
    try:
        require_schema(engine, ("users", "exercise_responses", "skill_profiles"))
        with engine.connect() as conn:
            answers = pd.read_sql(answers_sql, conn)
            learners = pd.read_sql(learners_sql, conn)
            profiles = pd.read_sql(select(SkillProfile), conn)
    except SQLAlchemyError as err:
        raise connect_error(engine, err) from None
    finally:
        engine.dispose()
    if answers.empty:
        raise DatabaseError(
            f"{name} holds no answers in exercise_responses"
            + (f" in skill domains {list(skill_domains)}" if skill_domains else "")
            + "; store some first (see docs/tabular.md)."
        )
    tied = answers.duplicated(["student_id", "timestamp"], keep=False).mean()
    if tied > TIED_WARN_SHARE:
        log.warning(
            "%.0f%% of the answers in %s share their answered_at with another answer of the same learner "
            "(answers ingested in bulk get the ingestion time): time features will see little history",
            100 * tied,
            name,
        )
    source = f"{name}, table exercise_responses"
    data = PlatformData(answers, learners, source=source, profiles=profiles, names=PLATFORM_ANSWERS)
    data.learners = data.learners.merge(learners[["student_id", "username"]], on="student_id", how="left")
    log.info("read %d answers of %d learners from %s", len(data.answers), len(data.learners), name)
    return data


def store_platform(session: Session, data: PlatformData, prefix: str = "learner") -> dict[Any, int]:
    """Store platform data (learners and answers with their timestamps); the caller owns the transaction.

    Learners are named ``<prefix><student_id>``; existing ones are reused and get the grade and style of
    ``data.learners``. Answers without a ``problem_id`` are stored with their skill as the exercise.

    Returns:
        The database id (``users.id``) of each ``student_id`` of ``data``.
    """
    names = {sid: f"{prefix}{sid}" for sid in data.learners["student_id"]}
    ids = ensure_users(session, list(names.values()))
    mapping = {sid: ids[name] for sid, name in names.items()}
    for row in data.learners.itertuples(index=False):
        grade = None if pd.isna(row.grade_level) else int(row.grade_level)
        style = None if row.learning_style == "unknown" else str(row.learning_style)
        session.execute(
            update(User)
            .where(User.id == mapping[row.student_id])
            .values({USERS["grade_level"]: grade, USERS["learning_style"]: style})
        )
    answers = data.answers
    values = {
        "student_id": answers["student_id"].map(mapping).astype("int64"),
        "t": answers["t"].astype(float),
        "skill_id": answers["skill_id"],
        "problem_id": answers.get("problem_id", answers["skill_id"]).astype(str),
        "difficulty_level": answers["difficulty_level"].astype(int),
        "correct": answers["correct"].astype(bool),
        "time_spent": answers["time_spent"].astype(float),
        "timestamp": answers["timestamp"].dt.tz_localize("UTC").dt.to_pydatetime(),
    }
    rows = pd.DataFrame({PLATFORM_ANSWERS[name]: values[name] for name in PLATFORM_ANSWERS})
    session.execute(insert(ExerciseResponse), rows.to_dict("records"))
    session.flush()
    log.info("stored %d answers of %d learners", len(rows), len(mapping))
    return mapping
