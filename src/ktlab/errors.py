"""Project error types.

Every mistake a user can make (a bad file, a bad config value, a missing checkpoint) is raised as a
:class:`KtlabError` subclass whose message is one readable paragraph. Entry points turn these into a
message on stderr and exit status 2, without a traceback.
"""

from __future__ import annotations


class KtlabError(Exception):
    """Base class of the errors caused by user input rather than by a bug."""

    exit_code: int = 2


class DataValidationError(KtlabError):
    """An interaction table breaks the schema (missing column, bad value, duplicate row...)."""


class ConfigError(KtlabError):
    """A composed config holds values that cannot work together."""


class CheckpointError(KtlabError):
    """A checkpoint is missing, unreadable or was not written by ktlab."""
