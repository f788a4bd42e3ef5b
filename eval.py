"""Evaluate a checkpoint: `python eval.py ckpt_path=<run>/checkpoints/best.ckpt` (see conf/eval.yaml).

The same command as `ktlab eval`, run on the conf/ folder beside this script.
"""

from pathlib import Path

from ktlab.commands.eval import main

if __name__ == "__main__":
    main(config_dir=Path(__file__).resolve().parent / "conf")
