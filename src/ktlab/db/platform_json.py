"""The JSON export of a learning platform: ``users_data.json`` and ``users_credentials.json``.

``users_data.json`` maps each username to its profile::

    {"alice": {"learning_style": "visual", "grade_level": 4,
               "created_at": "2024-09-01T10:00:00Z", "last_seen": "2024-10-02T17:30:00Z",
               "skills": {"addition": {"proficiency": 0.72, "attempts": 25, "current_streak": 3,
                                       "best_streak": 6, "updated_at": "2024-10-02T17:30:00Z"}},
               "events": [{"type": "login", "timestamp": "2024-10-02T17:30:00Z", "data": {"device": "tablet"}}]}}

``users_credentials.json`` maps usernames to a PIN in clear (``{"pin": "4821"}``, hashed on import) or an
already hashed one (``{"pin_hash": "scrypt$16384$8$1$<salt>$<key>"}``). Every field but the username is
optional except an event's ``type`` and ``timestamp`` (the timestamp makes a rerun skip the event).
Timestamps are ISO 8601; those without a zone are taken as UTC. See ``docs/database.md``.

Usernames are compared as :func:`ktlab.db.usernames.username_key` does (no surrounding spaces, no case):
two records of one file for the same learner, a key repeated in an object, or a value longer than its
database column (lengths read from :mod:`ktlab.db.models`) refuse the whole file before anything is written.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ktlab.db.errors import ImportValidationError
from ktlab.db.identifiers import column_length, too_long
from ktlab.db.json_checks import Checker, JsonObject, read_json, repeated_keys, same_learner
from ktlab.db.messages import cut
from ktlab.db.models import AnalyticsEvent, SkillProfile, User
from ktlab.db.security import is_hash
from ktlab.db.usernames import display_username, username_key

DATA_FILE = "users_data.json"
CREDENTIALS_FILE = "users_credentials.json"
PIN_PATTERN = re.compile(r"^[0-9]{4,8}$")
MAX_REPORTED = 12
#: The fields a record may have; any other is refused, named, with these listed (a misspelled
#: ``proficency`` would otherwise be dropped and the profile stored with the default).
USER_FIELDS = ("learning_style", "grade_level", "created_at", "last_seen", "skills", "events")
PROFILE_FIELDS = ("proficiency", "attempts", "current_streak", "best_streak", "updated_at")
EVENT_FIELDS = ("type", "timestamp", "data")
CREDENTIAL_FIELDS = ("pin", "pin_hash")
#: Keys naming a secret, refused anywhere in users_data.json (event data included): that file is backed up
#: as it is, and PINs belong in users_credentials.json.
SECRET_KEY = re.compile(r"pin|pin_hash|.*passw(or)?d.*|.*secret.*|api_key|token", re.IGNORECASE)


@dataclass
class ProfileRecord:
    domain: str
    proficiency: float = 0.0
    attempts: int = 0
    current_streak: int = 0
    best_streak: int = 0
    updated_at: datetime | None = None


@dataclass
class EventRecord:
    event_type: str
    occurred_at: datetime
    payload: dict[str, Any] | None = None


@dataclass
class UserRecord:
    username: str
    key: str = ""
    pin: str | None = None
    pin_hash: str | None = None
    learning_style: str | None = None
    grade_level: int | None = None
    created_at: datetime | None = None
    last_seen: datetime | None = None
    profiles: list[ProfileRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)


@dataclass
class PlatformExport:
    """The validated content of an export folder."""

    data_dir: Path
    users: list[UserRecord]
    #: SHA-256 of each file as it was read and validated, by file name.
    digests: dict[str, str] = field(default_factory=dict)
    #: The bytes of users_data.json as read (backed up verbatim; it holds no secret).
    data_bytes: bytes = b""

    @property
    def files(self) -> list[Path]:
        return [self.data_dir / DATA_FILE, self.data_dir / CREDENTIALS_FILE]


def utc_naive(value: datetime) -> datetime:
    """A timestamp as naive UTC, the form both backends give back (used to compare rows)."""
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def utc(value: datetime | None) -> datetime | None:
    """A timestamp in UTC, the form it is stored in (SQLite keeps the wall clock and drops the zone)."""
    return value.astimezone(timezone.utc) if value is not None else None


def _check_username(check: Checker, file: str, username: str) -> None:
    if not username.strip():
        check.fail(file, username, "username", "is empty")
        return
    problem = too_long(display_username(username), User.username)
    if problem is None and len(username_key(username)) > column_length(User.username_key):
        problem = (
            f"compares as {len(username_key(username))} characters, more than the "
            f"{column_length(User.username_key)} of users.username_key"
        )
    if problem:
        check.fail(file, username, "username", problem)


def _secret_keys(value: Any, path: str) -> list[str]:
    """Where keys naming a secret sit in ``value`` (nesting is bounded by the reader)."""
    found = []
    if isinstance(value, JsonObject):
        for key, item in value.pairs:
            where = f"{path}.{key}" if path else str(key)
            if SECRET_KEY.fullmatch(str(key).strip()):
                found.append(where)
            found += _secret_keys(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _secret_keys(item, f"{path}[{i}]")
    return found


def _unknown_fields(
    check: Checker, file: str, record: str, path: str, raw: dict, known: tuple[str, ...]
) -> None:
    """Refuse the fields of ``raw`` not in ``known``, naming each (with a close known one when there is)."""
    for key in raw:
        if key in known or (file == DATA_FILE and SECRET_KEY.fullmatch(str(key).strip())):
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        check.fail(
            file,
            record,
            f"{path}.{key}" if path else str(key),
            f"unknown field ({hint}the known fields here are {', '.join(known)})",
        )


def _parse_user(check: Checker, username: str, raw: Any) -> UserRecord:
    file = DATA_FILE
    user = UserRecord(username=display_username(username), key=username_key(username))
    _check_username(check, file, username)
    for where, key in repeated_keys(raw, ""):
        check.fail(file, username, where or "(record)", f"the key {cut(key)} appears twice in one object")
    if not isinstance(raw, dict):
        check.fail(file, username, "(record)", f"expected an object, got {type(raw).__name__}")
        return user
    for where in _secret_keys(raw, ""):
        check.fail(
            file,
            username,
            where,
            f"holds a secret (value hidden); {DATA_FILE} is backed up as it is and must hold no PIN or "
            f"password: put the learner's PIN in {CREDENTIALS_FILE}",
        )
    _unknown_fields(check, file, username, "", raw, USER_FIELDS)
    user.learning_style = check.text(
        file, username, "learning_style", raw.get("learning_style"), User.learning_style
    )
    if raw.get("grade_level") is not None:
        user.grade_level = check.integer(file, username, "grade_level", raw["grade_level"], 0, 13)
    user.created_at = check.timestamp(file, username, "created_at", raw.get("created_at"))
    user.last_seen = check.timestamp(file, username, "last_seen", raw.get("last_seen"))
    skills = raw.get("skills", {})
    if not isinstance(skills, dict):
        check.fail(file, username, "skills", "expected an object mapping skill domains to profiles")
        skills = {}
    domains: dict[str, str] = {}
    for domain, prof in skills.items():
        key = f"skills.{domain}"
        if not isinstance(prof, dict) or not domain.strip():
            check.fail(file, username, key, "expected a skill domain mapped to an object")
            continue
        problem = too_long(domain.strip(), SkillProfile.domain)
        if problem:
            check.fail(file, username, key, f"the domain {problem.removeprefix('value ')}")
            continue
        if domain.strip() in domains:
            check.fail(
                file,
                username,
                key,
                f"the domain {cut(domain)} is {cut(domains[domain.strip()])} again (surrounding spaces do "
                "not count); keep one profile per domain",
            )
            continue
        domains[domain.strip()] = domain
        _unknown_fields(check, file, username, key, prof, PROFILE_FIELDS)
        attempts = check.integer(file, username, f"{key}.attempts", prof.get("attempts", 0), 0)
        current = check.integer(file, username, f"{key}.current_streak", prof.get("current_streak", 0), 0)
        best = check.integer(file, username, f"{key}.best_streak", prof.get("best_streak", current or 0), 0)
        if current is not None and best is not None and best < current:
            check.fail(
                file, username, f"{key}.best_streak", f"value {best} is below current_streak {current}"
            )
        user.profiles.append(
            ProfileRecord(
                domain=domain.strip(),
                proficiency=check.number(
                    file, username, f"{key}.proficiency", prof.get("proficiency", 0.0), 0, 1
                )
                or 0.0,
                attempts=attempts or 0,
                current_streak=current or 0,
                best_streak=best or 0,
                updated_at=check.timestamp(file, username, f"{key}.updated_at", prof.get("updated_at")),
            )
        )
    events = raw.get("events", [])
    if not isinstance(events, list):
        check.fail(file, username, "events", "expected a list of events")
        events = []
    for i, event in enumerate(events):
        key = f"events[{i}]"
        if not isinstance(event, dict):
            check.fail(file, username, key, "expected an object with type, timestamp and data")
            continue
        _unknown_fields(check, file, username, key, event, EVENT_FIELDS)
        kind = check.text(file, username, f"{key}.type", event.get("type"), AnalyticsEvent.event_type)
        if kind is None and event.get("type") is None:
            check.fail(file, username, f"{key}.type", "is missing")
        when = check.timestamp(file, username, f"{key}.timestamp", event.get("timestamp"), required=True)
        payload = event.get("data")
        if payload is not None and not isinstance(payload, dict):
            check.fail(file, username, f"{key}.data", f"expected an object, got {type(payload).__name__}")
            payload = None
        if kind is not None and when is not None:
            user.events.append(EventRecord(kind, when, payload))
    return user


def _apply_credentials(check: Checker, users: dict[str, UserRecord], creds: JsonObject) -> None:
    """Attach each credential to its learner (matched by username key); ``users`` is keyed the same way."""
    file = CREDENTIALS_FILE
    for username, raw in creds.items():
        user = users.get(username_key(username))
        if user is None:
            check.fail(file, username, "username", f"has no record in {DATA_FILE}")
            continue
        if isinstance(raw, JsonObject) and raw.repeated:
            check.fail(file, username, "(record)", f"the key {cut(raw.repeated[0])} appears twice")
            continue
        if not isinstance(raw, dict):
            check.fail(
                file,
                username,
                "(record)",
                f"expected an object with 'pin' or 'pin_hash', got {type(raw).__name__}",
            )
            continue
        _unknown_fields(check, file, username, "", raw, CREDENTIAL_FIELDS)
        pin, pin_hash = raw.get("pin"), raw.get("pin_hash")
        if (pin is None) == (pin_hash is None):
            check.fail(file, username, "pin", "give exactly one of 'pin' (in clear) and 'pin_hash'")
        elif pin is not None:
            # The value is never echoed: it is a secret.
            if not isinstance(pin, str) or not PIN_PATTERN.match(pin):
                check.fail(file, username, "pin", "is not a quoted string of 4 to 8 digits (value hidden)")
            else:
                user.pin = pin
        elif not isinstance(pin_hash, str) or not is_hash(pin_hash):
            check.fail(file, username, "pin_hash", "is not a ktlab scrypt hash (scrypt$n$r$p$salt$key)")
        elif len(pin_hash) > column_length(User.pin_hash):
            check.fail(file, username, "pin_hash", f"is longer than the {column_length(User.pin_hash)} "
                       "characters of users.pin_hash (value hidden)")  # fmt: skip
        else:
            user.pin_hash = pin_hash


def load_export(data_dir: str | Path) -> PlatformExport:
    """Read and validate an export folder, reporting every bad record at once.

    Raises:
        ImportValidationError: a file is missing or unreadable, or records are bad (file, record, field).
    """
    data_dir = Path(data_dir).expanduser()
    (data, data_bytes), (creds, creds_bytes) = (
        read_json(data_dir / DATA_FILE),
        read_json(data_dir / CREDENTIALS_FILE),
    )
    check = Checker()
    same_learner(check, DATA_FILE, data)
    same_learner(check, CREDENTIALS_FILE, creds)
    users: dict[str, UserRecord] = {}
    for name, raw in data.pairs:
        user = _parse_user(check, str(name), raw)
        users.setdefault(user.key, user)
    _apply_credentials(check, users, creds)
    if check.problems:
        shown = check.problems[:MAX_REPORTED]
        more = len(check.problems) - len(shown)
        raise ImportValidationError(
            f"Nothing was imported: {len(check.problems)} problem(s) in {data_dir}: "
            + "; ".join(shown)
            + (f"; and {more} more." if more else ".")
        )
    return PlatformExport(
        data_dir=data_dir,
        users=list(users.values()),
        digests={
            DATA_FILE: hashlib.sha256(data_bytes).hexdigest(),
            CREDENTIALS_FILE: hashlib.sha256(creds_bytes).hexdigest(),
        },
        data_bytes=data_bytes,
    )
