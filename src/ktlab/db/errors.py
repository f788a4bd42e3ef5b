"""Error types of the database layer; every one is a :class:`~ktlab.errors.KtlabError` (exit status 2)."""

from __future__ import annotations

from ktlab.errors import KtlabError


class DatabaseError(KtlabError):
    """The database cannot be reached, its URL is wrong, or its schema is missing or out of date."""


class ImportValidationError(KtlabError):
    """A JSON export holds records that cannot be migrated; the message names file, record and field."""


class RollbackError(KtlabError):
    """A migration cannot be rolled back (missing manifest, or rows that others have built on since)."""


class AccessDenied(KtlabError):
    """Someone asked for a learner's data without the right to read it."""
