"""Train a tabular model: `python train_tabular.py [model=difficulty_xgb|performance_rf] [data=...]`.

See conf/tabular/train.yaml and docs/tabular.md.
"""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from ktlab.cli import report_user_errors, use_launch_dir_as_root
from ktlab.tabular.config import check_config, check_tabular_command_line, use_conf_dir


@hydra.main(version_base="1.3", config_path="conf/tabular", config_name="train")
def main(cfg: DictConfig) -> float | None:
    report_user_errors(check_config)(cfg)
    from ktlab.tabular.train import run  # the training libraries, once the command line is checked

    return run(cfg)


if __name__ == "__main__":
    use_launch_dir_as_root()
    conf_dir = Path(__file__).resolve().parent / "conf"
    use_conf_dir(conf_dir)
    check_tabular_command_line(conf_dir)
    main()
