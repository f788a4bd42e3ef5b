"""Read queries of the platform: a learner by id, and a learner's profiles with their latest answers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ktlab.db.models import ExerciseResponse, SkillProfile, User


@dataclass(frozen=True)
class LearnerOverview:
    """What a learner's dashboard shows: the learner, one profile per skill domain, the latest answers."""

    user: User
    profiles: list[SkillProfile]
    recent_answers: list[ExerciseResponse]


def get_user(session: Session, user_id: int) -> User | None:
    """The learner with primary key ``user_id``, or None."""
    return session.get(User, user_id)


def recent_answers(session: Session, user_id: int, limit: int = 20) -> list[ExerciseResponse]:
    """A learner's latest ``limit`` answers, newest (largest ``t``) first; uses the (user_id, t) index."""
    stmt = (
        select(ExerciseResponse)
        .where(ExerciseResponse.user_id == user_id)
        .order_by(ExerciseResponse.t.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def learner_overview(session: Session, user_id: int, recent: int = 20) -> LearnerOverview | None:
    """A learner's skill profiles (by domain) and latest ``recent`` answers, or None for no such learner."""
    user = get_user(session, user_id)
    if user is None:
        return None
    profiles = list(
        session.scalars(
            select(SkillProfile).where(SkillProfile.user_id == user_id).order_by(SkillProfile.domain)
        )
    )
    return LearnerOverview(
        user=user, profiles=profiles, recent_answers=recent_answers(session, user_id, recent)
    )
