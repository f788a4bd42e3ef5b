"""Where the files that ship with ktlab are: its Hydra configs and its database migrations.

An installed package holds them inside itself (``ktlab/conf``, ``ktlab/migrations``, placed there by the
build; see ``setup.py``). A source checkout, editable install included, keeps them at the repository's
top level (``conf/``, ``migrations/``), two folders above this package.
"""

from __future__ import annotations

from pathlib import Path

from ktlab.errors import ConfigError

#: The ``ktlab`` package folder (``src/ktlab`` in a checkout, ``site-packages/ktlab`` when installed).
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def _shipped(name: str, marker: str) -> Path:
    """The folder ``name`` inside the package, else the checkout's top-level one; ``marker`` must be in it."""
    candidates = (PACKAGE_DIR / name, PACKAGE_DIR.parents[1] / name)
    for folder in candidates:
        if (folder / marker).is_file():
            return folder
    raise ConfigError(
        f"Cannot find ktlab's {name}/ folder (looked for {marker} in {candidates[0]} and {candidates[1]}); "
        "reinstall the package (`pip install ktlab`) or run from a ktlab checkout."
    )


def config_dir() -> Path:
    """The folder of ktlab's Hydra configs (the one holding ``train.yaml``), as an absolute path."""
    return _shipped("conf", "train.yaml")


def migrations_dir() -> Path:
    """The Alembic script folder of the learner database (the one holding ``env.py``)."""
    return _shipped("migrations", "env.py")
