"""``ktlab train`` and the root ``train.py``: train a model (see conf/train.yaml).

``ckpt_path=last hydra.run.dir=<run dir>`` resumes that run with the overrides it was started with
(:mod:`ktlab.resume`); that is settled here, before Hydra starts and rewrites the run's ``.hydra`` files.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from ktlab.cli import report_user_errors
from ktlab.commands import hydra_command, resolve_config_dir
from ktlab.resume import kept_on_refusal, resume_command_line

log = logging.getLogger(__name__)


def task(cfg: DictConfig) -> float | None:
    """Train, test and return the metric a sweep optimizes."""
    from ktlab.train import run

    return run(cfg)


def main(argv: Sequence[str] | None = None, config_dir: str | Path | None = None) -> None:
    """``ktlab train [key=value ...]``, or the root script with ``sys.argv`` (``argv`` None)."""
    resumed = report_user_errors(resume_command_line)(list(sys.argv[1:] if argv is None else argv))

    def run_task(cfg: DictConfig) -> float | None:
        if resumed.reused:  # said once Hydra has set up logging, so it also lands in the run's own log file
            log.info("resuming %s with its saved overrides: %s", resumed.run_dir, " ".join(resumed.reused))
        return task(cfg)

    if argv is None:
        sys.argv[1:] = resumed.args
    with kept_on_refusal(resumed.run_dir):
        hydra_command(
            run_task,
            "train",
            resolve_config_dir(config_dir),
            None if argv is None else resumed.args,
            __file__,
        )


if __name__ == "__main__":
    main()
