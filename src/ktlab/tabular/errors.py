"""Error types of the tabular models; each is a :class:`~ktlab.errors.KtlabError` (exit status 2)."""

from __future__ import annotations

from ktlab.errors import KtlabError


class TabularError(KtlabError):
    """A request the tabular models cannot answer: unknown domain or learner, no answers, bad argument."""


class NotFittedModelError(TabularError):
    """A model was asked to predict before it was trained (or loaded)."""


class ModelFileError(TabularError):
    """A saved model is missing, unreadable or was not written by ktlab's tabular module."""
