"""The commands of ``ktlab`` and of the root scripts (``train.py``, ``eval.py``...), one module each.

Each Hydra command module (:mod:`~ktlab.commands.train`, :mod:`~ktlab.commands.eval`, ...) has one
``main(argv=None, config_dir=None)`` that both the ``ktlab`` command and the root script call. Configs come
from ``config_dir`` (the root scripts pass the ``conf/`` folder beside them), else from the folder
:func:`ktlab.utils.resources.config_dir` finds: never from a path relative to the calling script.

The modules also run as files: Lightning's DDP starts its worker processes by running the file the
command was started from (``sys.argv[0]``) again with the same arguments, so ``ktlab train`` points
``sys.argv[0]`` at :mod:`ktlab.commands.train`'s file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig

from ktlab.cli import check_command_line, use_launch_dir_as_root
from ktlab.utils.resources import config_dir as shipped_config_dir


def resolve_config_dir(config_dir: str | Path | None) -> Path:
    """``config_dir`` as an absolute path, or ktlab's own config folder when it is None."""
    return Path(config_dir).resolve() if config_dir is not None else shipped_config_dir()


def hydra_command(
    task: Callable[[DictConfig], Any],
    config_name: str,
    config_dir: Path,
    argv: Sequence[str] | None,
    script: str,
    check: bool = True,
) -> None:
    """Run ``task`` under Hydra on ``config_dir/<config_name>.yaml`` with the overrides of the command line.

    Args:
        task: a module-level function of the composed config (a sweep launcher may pickle it).
        config_name: the root config, e.g. ``train``.
        config_dir: the absolute config folder.
        argv: the arguments after the command name (``ktlab train ARGS``); None: those of ``sys.argv``.
        script: the file that runs this command again (``sys.argv[0]`` when ``argv`` is given).
        check: compose the config first and answer a mistake (unknown option or key) in one paragraph.
    """
    use_launch_dir_as_root()
    if argv is not None:
        sys.argv = [script, *argv]
    if check:
        check_command_line(config_dir, config_name)
    hydra.main(version_base="1.3", config_path=str(config_dir), config_name=config_name)(task)()
