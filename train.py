"""Train a model: `python train.py [model=dkt_gru] [trainer=gpu] [key=value ...]` (see conf/train.yaml)."""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from ktlab.cli import check_command_line, use_launch_dir_as_root
from ktlab.train import run


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    return run(cfg)


if __name__ == "__main__":
    use_launch_dir_as_root()
    check_command_line(Path(__file__).parent / "conf", "train")
    main()
