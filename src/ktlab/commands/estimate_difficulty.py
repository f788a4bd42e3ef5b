"""``ktlab estimate-difficulty`` and the root ``estimate_difficulty.py``: the difficulty of new questions,
asked of trained synthetic students (see conf/estimate_difficulty.yaml)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from ktlab.commands import hydra_command, resolve_config_dir


def task(cfg: DictConfig) -> None:
    """Estimate the difficulty of the questions ``questions`` with the checkpoint(s) ``ckpt_path``."""
    from ktlab.difficulty import run

    run(cfg)


def main(argv: Sequence[str] | None = None, config_dir: str | Path | None = None) -> None:
    """``ktlab estimate-difficulty ckpt_path=... questions=...``, or the root script (``argv`` None)."""
    hydra_command(task, "estimate_difficulty", resolve_config_dir(config_dir), argv, __file__)


if __name__ == "__main__":
    main()
