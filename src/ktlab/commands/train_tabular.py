"""``ktlab train-tabular`` and the root ``train_tabular.py``: train a tabular model (see
conf/tabular/train.yaml and docs/tabular.md)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from ktlab.commands import hydra_command, resolve_config_dir


def task(cfg: DictConfig) -> float | None:
    """Train, evaluate and audit one tabular model; returns the metric a sweep optimizes."""
    from ktlab.cli import report_user_errors
    from ktlab.tabular.config import check_config

    report_user_errors(check_config)(cfg)
    from ktlab.tabular.train import run  # the training libraries, once the config is checked

    return run(cfg)


def main(argv: Sequence[str] | None = None, config_dir: str | Path | None = None) -> None:
    """``ktlab train-tabular [model=...] [data=...]``, or the root script (``argv`` None).

    The root config is ``<config_dir>/tabular/train.yaml``; its ``paths``, ``hydra``, ``db`` and
    ``registry`` groups are those of ``config_dir`` itself, found through ``KTLAB_CONF_DIR``.
    """
    from ktlab.tabular.config import check_tabular_command_line, use_conf_dir

    base = resolve_config_dir(config_dir)
    use_conf_dir(base)
    check_tabular_command_line(base, argv)  # the tabular groups first, then the whole composition
    hydra_command(task, "train", base / "tabular", argv, __file__, check=False)


if __name__ == "__main__":
    main()
