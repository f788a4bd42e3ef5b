"""Backup folders of JSON imports: private, complete or absent, and a manifest that is checked when read.

A backup is built in a hidden ``.incomplete-<host>-<pid>-<random>`` folder (``mkdtemp``: mode 0700) beside
the final ones, its files written 0600, and renamed to ``backup_YYYYmmdd_HHMMSS`` in one step once its
manifest is written, so a ``backup_*`` folder always has a manifest. An import that fails removes its
folder; one killed outright leaves only the hidden folder, which holds no secret and which the next import
from the same machine removes once its process is gone.

Only ``users_data.json`` is copied. ``users_credentials.json`` may hold PINs in clear and is never copied:
its SHA-256 is recorded instead. A rollback does not need it: it deletes the rows the import added (their
PIN hashes with them) and the import never changes the export folder.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
INCOMPLETE = ".incomplete-"


def _host() -> str:
    return "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:32] or "host"


def write_private(path: Path, data: bytes) -> None:
    """Write a new file readable by its owner only (0600), flushed to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write or replace ``folder/manifest.json`` atomically (a private temporary file, then a rename)."""
    temp = folder / f".{MANIFEST}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    write_private(temp, json.dumps(manifest, indent=2).encode("utf-8"))
    os.replace(temp, folder / MANIFEST)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_incomplete(root: Path) -> list[Path]:
    """Remove the unfinished backup folders that killed imports of this machine left in ``root``."""
    removed = []
    prefix = f"{INCOMPLETE}{_host()}-"
    for folder in root.glob(f"{prefix}*"):
        pid = folder.name[len(prefix) :].split("-", 1)[0]
        if folder.is_dir() and pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        log.info("removed %d unfinished backup folder(s) of interrupted imports", len(removed))
    return removed


def start_backup(root: Path) -> Path:
    """A new private, hidden folder under ``root`` (created 0700 if missing) to build a backup in."""
    if not root.exists():
        root.mkdir(parents=True, mode=PRIVATE_DIR)
    sweep_incomplete(root)
    return Path(tempfile.mkdtemp(prefix=f"{INCOMPLETE}{_host()}-{os.getpid()}-", dir=root))


def finish_backup(folder: Path, root: Path) -> Path:
    """Rename the built ``folder`` to a new ``backup_YYYYmmdd_HHMMSS[_n]`` under ``root``, atomically."""
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    suffix = 1
    while True:
        target = root / (f"backup_{stamp}" if suffix == 1 else f"backup_{stamp}_{suffix}")
        if not target.exists():
            try:
                os.rename(folder, target)
                return target
            except OSError:  # another import took the name first
                if not target.exists():
                    raise
        suffix += 1


def discard(folder: Path | None) -> None:
    """Remove a backup folder of a failed import (a missing one is fine)."""
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
