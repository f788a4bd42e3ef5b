"""A learner's answer history read from the learner database, in the interaction schema.

A service that answers for a learning platform knows its learners by the id they have there (the
``users.username`` the database stores, which is the ``student_id`` of training data); it reads their
stored answers here rather than from a file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ktlab.errors import KtlabError

log = logging.getLogger(__name__)


def history_from_db(
    db: Mapping[str, Any] | str | None, learners: Sequence[str], required: Sequence[str]
) -> pd.DataFrame:
    """The stored answers of ``learners`` (usernames), with the core columns and ``required``.

    Args:
        db: the ``db`` config or a URL (``KTLAB_DATABASE_URL`` wins, as for ``data=db``); None for the default.
        learners: the learners' ids as the database stores them (``users.username``).
        required: the columns the model reads besides the core ones.

    Returns:
        One row per stored answer, validated like a file; learners with no answers are absent.

    Raises:
        DatabaseError: the database is unreachable or has no schema.
        KtlabError: no learner was named.
    """
    from ktlab.data.schema import validate_interactions
    from ktlab.db.models import User
    from ktlab.db.source import DatabaseSource

    names = [str(name) for name in learners]
    if not names:
        raise KtlabError("history_from_db: no learner named; pass one or more usernames.")
    source = DatabaseSource(db if db is not None else {})
    stmt = source.query(list(required)).where(User.username.in_(names))
    frame = source.read(stmt, create_dirs=False)
    found = set(frame["student_id"].astype(str))
    absent = [n for n in names if n not in found]
    if absent:
        log.warning(
            "%s holds no answers of %d learner(s): %s", source.name, len(absent), ", ".join(absent[:10])
        )
    if frame.empty:
        return frame
    frame["correct"] = frame["correct"].astype("int8")
    return validate_interactions(frame, source.name, required=list(required))
