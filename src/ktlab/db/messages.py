"""Values quoted in error paragraphs, cut to a readable length.

A user's file can hold a cell of 100,000 characters; an error message quotes its start and says how long it
is, never the whole value.
"""

from __future__ import annotations

#: Characters of a value quoted in a message before it is cut.
QUOTE_LIMIT = 40


def cut(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``value`` as ``repr`` for a message, its start only when long.

    Args:
        value: anything; strings are quoted as Python does (``'alice'``).
        limit: characters of the value kept before it is cut.

    Returns:
        ``'alice'``, or ``'aaaa...' (100000 characters)`` for a long text.
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}... ({len(value)} characters)"
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def first_line(err: BaseException, limit: int = 200) -> str:
    """The first line of a driver's error message, cut (a driver may quote a whole row in it)."""
    lines = str(err).strip().splitlines()
    line = lines[0] if lines else type(err).__name__
    return line if len(line) <= limit else f"{line[:limit]}..."
