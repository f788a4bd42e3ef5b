"""Estimate the difficulty of new questions with trained synthetic students (see conf/estimate_difficulty.yaml).

The same command as `ktlab estimate-difficulty`, run on the conf/ folder beside this script.
"""

from pathlib import Path

from ktlab.commands.estimate_difficulty import main

if __name__ == "__main__":
    main(config_dir=Path(__file__).resolve().parent / "conf")
