"""``ktlab eval`` and the root ``eval.py``: evaluate a checkpoint (see conf/eval.yaml)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from ktlab.commands import hydra_command, resolve_config_dir


def task(cfg: DictConfig) -> None:
    """Test the checkpoint ``ckpt_path`` and write its metrics."""
    from ktlab.evaluate import run

    run(cfg)


def main(argv: Sequence[str] | None = None, config_dir: str | Path | None = None) -> None:
    """``ktlab eval ckpt_path=... [key=value ...]``, or the root script with ``sys.argv`` (``argv`` None)."""
    hydra_command(task, "eval", resolve_config_dir(config_dir), argv, __file__)


if __name__ == "__main__":
    main()
