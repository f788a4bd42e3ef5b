"""Shared plumbing for command-line entry points: logging set-up and user-error reporting.

User mistakes (:class:`~ktlab.errors.KtlabError`) become one paragraph on stderr and exit status 2,
without a traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import textwrap
from collections.abc import Callable
from typing import Any, TypeVar

from ktlab.errors import KtlabError

F = TypeVar("F", bound=Callable[..., Any])


def user_error_in(err: BaseException) -> KtlabError | None:
    """The :class:`KtlabError` that ``err`` is or wraps, if any.

    Hydra's ``instantiate`` wraps what a constructor raises (once per level of nesting) in an
    ``InstantiationException`` raised ``from`` it, so a user error found while building an object from
    config is followed down the chain of causes.
    """
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, KtlabError):
            return current
        seen.add(id(current))
        current = current.__cause__
    return None


def report_user_errors(func: F) -> F:
    """Decorate an entry point so a :class:`KtlabError` (also one raised while instantiating from
    config) exits with its message and code, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as err:
            user_error = user_error_in(err)
            if user_error is None:
                raise
            message = textwrap.fill(
                f"error: {user_error}", width=100, break_long_words=False, break_on_hyphens=False
            )
            print(message, file=sys.stderr)
            raise SystemExit(user_error.exit_code) from None

    return wrapper  # type: ignore[return-value]


def use_launch_dir_as_root() -> None:
    """Make the launch directory the project root (``paths.root_dir``) unless ``KTLAB_ROOT`` is set.

    Called by the root scripts before Hydra starts. The root cannot come from Hydra's
    ``hydra:runtime.cwd``: a multirun sweeper names its sweep folder (under the root) before that is
    set. An environment variable also reaches the worker processes of DDP.
    """
    os.environ.setdefault("KTLAB_ROOT", os.getcwd())


def setup_logging(level: int = logging.INFO) -> None:
    """Plain console logging for scripts that do not run under Hydra (which configures its own)."""
    logging.basicConfig(level=level, format="[%(asctime)s][%(name)s][%(levelname)s] - %(message)s")
