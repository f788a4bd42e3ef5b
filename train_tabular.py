"""Train a tabular model: `python train_tabular.py [model=difficulty_xgb|performance_rf] [data=...]`.

See conf/tabular/train.yaml and docs/tabular.md.
"""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from ktlab.cli import use_launch_dir_as_root
from ktlab.tabular.train import run, use_conf_dir


@hydra.main(version_base="1.3", config_path="conf/tabular", config_name="train")
def main(cfg: DictConfig) -> float | None:
    return run(cfg)


if __name__ == "__main__":
    use_launch_dir_as_root()
    use_conf_dir(Path(__file__).resolve().parent / "conf")
    main()
