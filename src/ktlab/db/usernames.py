"""How usernames are compared: one learner (or parent) however the name's case or surrounding spaces vary.

A username is stored in its display form (as written, less surrounding whitespace) and compared through
:func:`username_key`: Unicode NFKC, surrounding whitespace removed, case-folded. So ``" alice "``,
``"alice"`` and ``"ALICE"`` are one account, shown as first stored. The key has its own column
(``username_key``) under a unique constraint; imports, ingestion and logins all look accounts up by it.
"""

from __future__ import annotations

import unicodedata


def display_username(name: str) -> str:
    """The stored display form of a username: as written, less surrounding whitespace."""
    return name.strip()


def username_key(name: str) -> str:
    """The form usernames are compared in: NFKC, surrounding whitespace removed, case-folded."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).strip().casefold())
