"""The database layout of the answer record: which ``exercise_responses`` column stores which schema column.

The column map of this layout, declared once beside its reader (:mod:`ktlab.db.source`) and its writer
(:mod:`ktlab.db.ingest`), as every other layout declares its own at its reader; the schema itself
(:mod:`ktlab.data.schema`) knows no storage. The learner is stored as ``user_id``, a key into ``users``
whose ``username`` is the record's ``student_id``; ``exercise_id`` and ``difficulty_level`` are derived
when answers are stored.
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
