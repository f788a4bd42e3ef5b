"""Train a model: `python train.py [model=dkt_gru] [trainer=gpu] [key=value ...]` (see conf/train.yaml).

The same command as `ktlab train`, run on the conf/ folder beside this script.
"""

from pathlib import Path

from ktlab.commands.train import main

if __name__ == "__main__":
    main(config_dir=Path(__file__).resolve().parent / "conf")
