"""Next-step success per skill: `python predict.py ckpt_path=... input=history.csv output=pred.csv`."""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from ktlab.cli import check_command_line, use_launch_dir_as_root
from ktlab.predict import run


@hydra.main(version_base="1.3", config_path="conf", config_name="predict")
def main(cfg: DictConfig) -> None:
    run(cfg)


if __name__ == "__main__":
    use_launch_dir_as_root()
    check_command_line(Path(__file__).parent / "conf", "predict")
    main()
