"""Next-step success per skill: `python predict.py ckpt_path=... input=history.csv output=pred.csv`.

The same command as `ktlab predict`, run on the conf/ folder beside this script.
"""

from pathlib import Path

from ktlab.commands.predict import main

if __name__ == "__main__":
    main(config_dir=Path(__file__).resolve().parent / "conf")
