"""Train a tabular model: `python train_tabular.py [model=difficulty_xgb|performance_rf] [data=...]`.

The same command as `ktlab train-tabular`, run on the conf/ folder beside this script.
"""

from pathlib import Path

from ktlab.commands.train_tabular import main

if __name__ == "__main__":
    main(config_dir=Path(__file__).resolve().parent / "conf")
