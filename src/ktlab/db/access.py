"""Accounts and the parent -> child access rule.

A parent account reads a learner's data only through a ``parent_child_links`` row. Every other request is
refused with :class:`~ktlab.db.errors.AccessDenied`, whose message does not tell whether the learner exists.
PINs and passwords go through :mod:`ktlab.db.security` and are never stored, logged or echoed in clear.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from ktlab.db.errors import AccessDenied
from ktlab.db.models import ParentAccount, ParentChildLink, User
from ktlab.db.queries import LearnerOverview, learner_overview
from ktlab.db.security import hash_secret, verify_secret
from ktlab.db.usernames import username_key

log = logging.getLogger(__name__)


def create_user(session: Session, username: str, pin: str | None = None, **fields: object) -> User:
    """Add a learner, hashing ``pin`` when given (other keyword arguments are :class:`User` columns).

    The username is stored without surrounding spaces; one that compares equal to a stored one (case
    and surrounding spaces aside, :mod:`ktlab.db.usernames`) breaks the unique ``username_key``.
    """
    user = User(username=username, pin_hash=hash_secret(pin) if pin else None, **fields)
    session.add(user)
    session.flush()
    return user


def authenticate_user(session: Session, username: str, pin: str) -> User | None:
    """The learner when ``pin`` matches (and ``last_seen`` is updated), else None; constant-time check.

    ``username`` is matched as :func:`~ktlab.db.usernames.username_key` compares (``" ALICE "`` is alice).
    """
    user = session.scalars(select(User).where(User.username_key == username_key(username))).one_or_none()
    if not verify_secret(pin, user.pin_hash if user else None) or user is None:
        log.info("failed login for a learner account")
        return None
    user.last_seen = datetime.now(timezone.utc)
    return user


def create_parent(session: Session, username: str, password: str, email: str | None = None) -> ParentAccount:
    """Add a parent account with a hashed password."""
    parent = ParentAccount(username=username, password_hash=hash_secret(password), email=email)
    session.add(parent)
    session.flush()
    return parent


def authenticate_parent(session: Session, username: str, password: str) -> ParentAccount | None:
    """The parent account when ``password`` matches, else None; constant-time check (username by key)."""
    key = username_key(username)
    parent = session.scalars(select(ParentAccount).where(ParentAccount.username_key == key)).one_or_none()
    if not verify_secret(password, parent.password_hash if parent else None) or parent is None:
        log.info("failed login for a parent account")
        return None
    return parent


def link_child(session: Session, parent_id: int, child_id: int) -> ParentChildLink:
    """Give parent ``parent_id`` the right to read learner ``child_id``."""
    link = ParentChildLink(parent_id=parent_id, child_id=child_id)
    session.add(link)
    session.flush()
    return link


def can_read(session: Session, parent_id: int, child_id: int) -> bool:
    """Whether a link lets parent ``parent_id`` read learner ``child_id``."""
    stmt = select(ParentChildLink.id).where(
        ParentChildLink.parent_id == parent_id, ParentChildLink.child_id == child_id
    )
    return session.scalars(stmt).first() is not None


def require_link(session: Session, parent_id: int, child_id: int) -> None:
    """Refuse unless parent ``parent_id`` is linked to learner ``child_id``.

    Raises:
        AccessDenied: there is no such link (whether or not the learner exists).
    """
    if not can_read(session, parent_id, child_id):
        log.warning("refused: parent account %d asked for learner %d without a link", parent_id, child_id)
        raise AccessDenied(
            f"Access denied: parent account {parent_id} is not linked to learner {child_id}. A parent reads a "
            "learner's data only through a parent-child link, which the platform's administrators create."
        )


def child_overview(session: Session, parent_id: int, child_id: int, recent: int = 20) -> LearnerOverview:
    """A linked child's profiles and latest answers, for their parent.

    Raises:
        AccessDenied: the parent is not linked to that learner.
    """
    require_link(session, parent_id, child_id)
    overview = learner_overview(session, child_id, recent)
    if overview is None:  # a link implies the learner exists (cascade delete); kept for type safety
        raise AccessDenied(f"Access denied: learner {child_id} no longer exists.")
    return overview
