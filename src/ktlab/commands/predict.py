"""``ktlab predict`` and the root ``predict.py``: next-step success per skill (see conf/predict.yaml)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from ktlab.commands import hydra_command, resolve_config_dir


def task(cfg: DictConfig) -> None:
    """Predict from the checkpoint ``ckpt_path`` for the histories in ``input``."""
    from ktlab.predict import run

    run(cfg)


def main(argv: Sequence[str] | None = None, config_dir: str | Path | None = None) -> None:
    """``ktlab predict ckpt_path=... input=...``, or the root script with ``sys.argv`` (``argv`` None)."""
    hydra_command(task, "predict", resolve_config_dir(config_dir), argv, __file__)


if __name__ == "__main__":
    main()
