"""Keeping passwords out of everything a run stores (configs, checkpoints, the model registry)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

#: ``scheme://user:password@host``: the password part of a URL with credentials.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][\w+.-]*://[^\s:/@]*:)(?P<password>[^\s@/]+)(?P<tail>@)")
MASK = "***"


def mask_text(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", text)


def mask_secrets(value: Any) -> Any:
    """A copy of a plain config (dicts, lists, strings) with URL passwords masked."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: mask_secrets(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_secrets(item) for item in value]
    return value


def mask_files(folder: str | Path, pattern: str = "*.yaml") -> list[Path]:
    """Mask URL passwords in the files of ``folder`` matching ``pattern`` (Hydra's ``.hydra/*.yaml``).

    Returns:
        The files that held a password and were rewritten.
    """
    changed = []
    for path in sorted(Path(folder).glob(pattern)):
        text = path.read_text()
        masked = mask_text(text)
        if masked != text:
            path.write_text(masked)
            changed.append(path)
    return changed
