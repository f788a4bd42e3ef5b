"""Evaluate a checkpoint: `python eval.py ckpt_path=<run>/checkpoints/best.ckpt` (see conf/eval.yaml)."""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from ktlab.cli import check_command_line, use_launch_dir_as_root
from ktlab.evaluate import run


@hydra.main(version_base="1.3", config_path="conf", config_name="eval")
def main(cfg: DictConfig) -> None:
    run(cfg)


if __name__ == "__main__":
    use_launch_dir_as_root()
    check_command_line(Path(__file__).parent / "conf", "eval")
    main()
