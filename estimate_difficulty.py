"""Estimate the difficulty of new questions with trained synthetic students (see conf/estimate_difficulty.yaml)."""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from ktlab.cli import use_launch_dir_as_root
from ktlab.difficulty import run


@hydra.main(version_base="1.3", config_path="conf", config_name="estimate_difficulty")
def main(cfg: DictConfig) -> Path:
    return run(cfg)


if __name__ == "__main__":
    use_launch_dir_as_root()
    main()
