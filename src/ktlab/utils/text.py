"""Text helpers for user-facing messages."""

from __future__ import annotations

#: Longest value echoed whole in an error message.
MAX_ECHO = 80


def shorten(text: str, limit: int = MAX_ECHO) -> str:
    """``text`` itself when short, else its start, an ellipsis and the full length."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 20]}... ({len(text):,} characters)"
