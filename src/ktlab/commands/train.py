"""``ktlab train`` and the root ``train.py``: train a model (see conf/train.yaml)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from ktlab.commands import hydra_command, resolve_config_dir


def task(cfg: DictConfig) -> float | None:
    """Train, test and return the metric a sweep optimizes."""
    from ktlab.train import run

    return run(cfg)


def main(argv: Sequence[str] | None = None, config_dir: str | Path | None = None) -> None:
    """``ktlab train [key=value ...]``, or the root script with ``sys.argv`` (``argv`` None)."""
    hydra_command(task, "train", resolve_config_dir(config_dir), argv, __file__)


if __name__ == "__main__":
    main()
