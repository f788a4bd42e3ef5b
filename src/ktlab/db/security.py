"""PIN and password hashing with scrypt, a memory-hard KDF, and a random salt per secret.

A hash is stored as ``scrypt$<n>$<r>$<p>$<salt hex>$<key hex>`` so the cost can be raised later without
breaking existing hashes. Verification recomputes the key and compares in constant time. Secrets are
never logged; functions here never put a secret in an exception message.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

log = logging.getLogger(__name__)

PREFIX = "scrypt"


@dataclass(frozen=True)
class ScryptCost:
    """scrypt parameters: memory is 128 * n * r bytes (16 MiB for the defaults)."""

    n: int = 2**14
    r: int = 8
    p: int = 1
    salt_bytes: int = 16
    key_bytes: int = 32


DEFAULT_COST = ScryptCost()


def _derive(secret: str, salt: bytes, n: int, r: int, p: int, key_bytes: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=128 * n * r * p + 2**20, dklen=key_bytes
    )


def hash_secret(secret: str, cost: ScryptCost = DEFAULT_COST) -> str:
    """Hash a PIN or password with a fresh random salt.

    Args:
        secret: the PIN or password in clear; it is not kept.
        cost: scrypt parameters.

    Returns:
        ``scrypt$n$r$p$salt$key``, about 110 characters.
    """
    if not isinstance(secret, str) or not secret:
        raise ValueError("cannot hash an empty secret")
    salt = os.urandom(cost.salt_bytes)
    key = _derive(secret, salt, cost.n, cost.r, cost.p, cost.key_bytes)
    return f"{PREFIX}${cost.n}${cost.r}${cost.p}${salt.hex()}${key.hex()}"


def hash_secrets(
    secrets: Sequence[str],
    cost: ScryptCost = DEFAULT_COST,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Hash many secrets in parallel threads (scrypt releases the GIL), keeping their order.

    Args:
        secrets: the PINs or passwords in clear.
        cost: scrypt parameters.
        workers: threads (default: one per CPU core); the time is about ``len(secrets) / workers``
            hashes of ~60 ms each at the default cost.
        progress: called as ``progress(done, total)`` before the first hash and after each one, e.g.
            to drive a progress bar.
    """
    workers = workers or os.cpu_count() or 1
    hash_one = functools.partial(hash_secret, cost=cost)
    pool = ThreadPoolExecutor(max_workers=workers) if len(secrets) > 1 and workers > 1 else None
    results = pool.map(hash_one, secrets) if pool is not None else map(hash_one, secrets)
    hashes: list[str] = []
    if progress is not None:
        progress(0, len(secrets))
    try:
        for digest in results:
            hashes.append(digest)
            if progress is not None:
                progress(len(hashes), len(secrets))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return hashes


def is_hash(value: str) -> bool:
    """Whether ``value`` looks like a hash made by :func:`hash_secret` (and not a secret in clear)."""
    parts = value.split("$")
    if len(parts) != 6 or parts[0] != PREFIX:
        return False
    try:
        n, r, p = (int(x) for x in parts[1:4])
        bytes.fromhex(parts[4])
        key = bytes.fromhex(parts[5])
    except ValueError:
        return False
    return n > 1 and n & (n - 1) == 0 and r > 0 and p > 0 and len(key) >= 16


def verify_secret(secret: str, stored: str | None) -> bool:
    """Whether ``secret`` matches the stored hash, compared in constant time.

    A missing or malformed hash never matches (and still costs one derivation, so that timing does not
    tell whether an account has a PIN).
    """
    if stored is None or not is_hash(stored):
        _derive(
            secret or "-", b"\0" * DEFAULT_COST.salt_bytes, DEFAULT_COST.n, DEFAULT_COST.r, DEFAULT_COST.p, 32
        )
        return False
    _, n, r, p, salt_hex, key_hex = stored.split("$")
    expected = bytes.fromhex(key_hex)
    key = _derive(secret, bytes.fromhex(salt_hex), int(n), int(r), int(p), len(expected))
    return hmac.compare_digest(key, expected)
