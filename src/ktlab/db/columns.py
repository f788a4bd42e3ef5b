"""The database layout of the answer record: which ``exercise_responses`` column stores which schema column.

The column map of this layout, declared once beside its reader (:mod:`ktlab.db.source`) and its writer
(:mod:`ktlab.db.ingest`), as every other layout declares its own at its reader; the schema itself
(:mod:`ktlab.data.schema`) knows no storage. The learner is stored as ``user_id``, a key into ``users``
whose ``username`` is the record's ``student_id``; ``exercise_id`` and ``difficulty_level`` are derived
when answers are stored.

The tabular models read and write the same tables through :data:`PLATFORM_ANSWERS` and :data:`USERS`
(:mod:`ktlab.tabular.dbdata`): they key a learner by ``users.id`` rather than by username, and read the
exercise id and the level too.
"""

from __future__ import annotations

#: schema column -> ``exercise_responses`` column.
EXERCISE_RESPONSES: dict[str, str] = {
    "t": "t",
    "skill_id": "skill_domain",
    "correct": "is_correct",
    "difficulty": "difficulty",
    "adjustment": "adjustment",
    "time_spent": "time_taken",
    "motivation": "motivation",
    "anxiety_level": "anxiety_level",
    "phase_type": "phase_type",
    "timestamp": "answered_at",
}

#: The answer columns of the tabular models (:mod:`ktlab.tabular.data`) -> ``exercise_responses`` column: the
#: record's columns they read (as :data:`EXERCISE_RESPONSES` stores them), the learner as its ``users.id``
#: (the tabular models key learners by it; the username comes with the learner), the exercise as the record's
#: ``problem_id``, and ``difficulty_level``, the platform's level 1-5: a column of the tabular models only
#: (the record's ``difficulty`` is a number in [0.2, 0.9]; :func:`ktlab.tabular.interactions.level_difficulty`
#: maps one to the other).
PLATFORM_ANSWERS: dict[str, str] = {
    "student_id": "user_id",
    **{name: EXERCISE_RESPONSES[name] for name in ("t", "skill_id")},
    "problem_id": "exercise_id",
    "difficulty_level": "difficulty_level",
    **{name: EXERCISE_RESPONSES[name] for name in ("correct", "time_spent", "timestamp")},
}

#: The learner columns of the tabular models -> ``users`` column. Learner attributes (``username``,
#: ``grade_level``, ``learning_style``) are not answer columns and keep their names.
USERS: dict[str, str] = {
    "student_id": "id",
    "username": "username",
    "grade_level": "grade_level",
    "learning_style": "learning_style",
}
