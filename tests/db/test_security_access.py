"""PIN hashing and the parent -> child access rule."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ktlab.db import access
from ktlab.db.errors import AccessDenied
from ktlab.db.models import ExerciseResponse, ParentAccount, SkillProfile, User
from ktlab.db.security import ScryptCost, hash_secret, hash_secrets, is_hash, verify_secret

FAST = ScryptCost(n=2**10)


def test_hash_is_salted_memory_hard_and_verifies() -> None:
    first, second = hash_secret("4821"), hash_secret("4821")
    assert first != second  # a fresh salt each time
    assert first.startswith("scrypt$16384$8$1$")
    # The PIN is no field of the stored string (a hex salt or digest may hold "4821" by chance).
    assert "4821" not in first.split("$")
    assert is_hash(first) and not is_hash("4821")
    assert verify_secret("4821", first) and verify_secret("4821", second)
    assert not verify_secret("4822", first)
    assert not verify_secret("4821", None) and not verify_secret("4821", "4821")


def test_parallel_hashes_keep_order() -> None:
    pins = [f"{i:04d}" for i in range(6)]
    hashes = hash_secrets(pins, cost=FAST, workers=2)
    assert [verify_secret(p, h) for p, h in zip(pins, hashes, strict=True)] == [True] * 6
    assert not verify_secret(pins[0], hashes[1])


def test_login_and_parent_access(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        child = access.create_user(session, "mia", pin="2468", grade_level=3)
        other = access.create_user(session, "leo", pin="1357")
        session.add(SkillProfile(user_id=child.id, domain="fractions", proficiency=0.4, attempts=3))
        session.add_all(
            ExerciseResponse(
                user_id=child.id,
                t=float(t),
                exercise_id=f"q{t}",
                skill_domain="fractions",
                is_correct=t % 2 == 0,
            )
            for t in range(30)
        )
        parent = access.create_parent(session, "mia_parent", "correct horse battery", email="p@example.org")
        stranger = access.create_parent(session, "stranger", "another long password")
        access.link_child(session, parent.id, child.id)
        ids = child.id, other.id, parent.id, stranger.id
    child_id, other_id, parent_id, stranger_id = ids

    with sessions.begin() as session:
        stored = session.scalars(select(ParentAccount.password_hash)).all()
        assert all(is_hash(h) and "horse" not in h for h in stored)
        assert access.authenticate_user(session, "mia", "2468").id == child_id
        assert access.authenticate_user(session, "mia", "0000") is None
        assert access.authenticate_user(session, "nobody", "2468") is None
        assert access.authenticate_parent(session, "mia_parent", "correct horse battery").id == parent_id
        assert access.authenticate_parent(session, "mia_parent", "wrong") is None
        assert session.get(User, child_id).last_seen is not None

        overview = access.child_overview(session, parent_id, child_id, recent=5)
        assert [p.domain for p in overview.profiles] == ["fractions"]
        assert [a.t for a in overview.recent_answers] == [29.0, 28.0, 27.0, 26.0, 25.0]

        with pytest.raises(AccessDenied, match="not linked to learner"):
            access.child_overview(session, stranger_id, child_id)
        with pytest.raises(AccessDenied, match="not linked to learner"):
            access.child_overview(session, parent_id, other_id)
        with pytest.raises(AccessDenied, match="not linked to learner"):
            access.child_overview(session, parent_id, 999_999)  # same refusal: existence is not revealed
