"""Prediction entry point: a checkpoint's model answers for the rows of an input file.

What a prediction is depends on the model family and is answered by the checkpoint's own DataModule
(``predict(model, frame, ...)``): for the sequence models, every learner's next-step success probability
on every known skill (see :mod:`ktlab.data.next_step`). Nothing here knows which family it runs.

Python use::

    from ktlab import Predictor
    predictions = Predictor.load("logs/train/runs/.../checkpoints/best.ckpt").predict(history_frame)
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from ktlab.checks import Checks, raise_problems
from ktlab.cli import report_user_errors
from ktlab.data.io import read_table, write_table
from ktlab.errors import ConfigError, DataValidationError
from ktlab.inference import Predictor
from ktlab.inference.states import chosen_learner, write_states
from ktlab.models.checkpoint import family
from ktlab.utils.logging import get_logger
from ktlab.utils.quiet import quiet_libraries

log = get_logger(__name__)


def predict_frame(ckpt_path: str | Path, frame: pd.DataFrame, **options: Any) -> pd.DataFrame:
    """Predictions of the checkpoint's model for ``frame`` (options: see the DataModule's ``predict``).

    Loads the checkpoint on every call; to answer many calls, load a :class:`~ktlab.Predictor` once.
    """
    return Predictor.load(ckpt_path).predict(frame, **options)


def check_paths(cfg: DictConfig) -> tuple[Path, Path]:
    """The input and output paths of a prediction run, or one paragraph naming what is wrong."""
    args = {key: cfg.get(key) for key in ("ckpt_path", "input", "max_len", "batch_size")}
    checks = Checks({k: v if v != "" else "???" for k, v in args.items()})
    for key in ("ckpt_path", "input"):
        checks.require(key, lambda v: v != "???", "is missing: pass it as a FILE")
    for key in ("max_len", "batch_size"):
        checks.integer(key, 1)
    raise_problems("prediction", checks.problems)
    source = Path(cfg.input).expanduser()
    return source, check_output(cfg, "output", source, "the history")


def check_output(cfg: DictConfig, key: str, source: Path | None = None, what: str = "the input") -> Path:
    """The file ``cfg[key]`` names for writing, or one paragraph saying why it cannot be written.

    Refused: a directory, the input file ``source`` itself (``what`` names its content), and a file whose
    folder does not exist (except inside this run's folder, which is created on demand).
    """
    output = Path(str(cfg[key])).expanduser()
    if output.is_dir():
        raise ConfigError(f"{key}={output}: is a directory; name a file, e.g. {key}={output / 'out.csv'}.")
    if source is not None and source.exists() and output.exists() and source.resolve() == output.resolve():
        raise ConfigError(
            f"{key}={output}: is the input file; writing there would overwrite {what} with the results. "
            "Name another file."
        )
    if not output.parent.is_dir() and not _under_run_dir(output, cfg):
        raise ConfigError(
            f"{key}={output}: its folder {output.parent} does not exist; create it or name a file in an "
            "existing folder."
        )
    return output


def family_options(predict: Any, options: dict[str, Any]) -> dict[str, Any]:
    """The options a family's ``predict`` takes; one it does not take is refused unless left unset.

    ``predict.yaml``'s ``options`` holds the options of every family (``all_students`` for the
    question-text students...); a family gets those its ``predict`` names. An option set to a value (not
    null, not false) that the checkpoint's family does not take is a mistake.
    """
    params = inspect.signature(predict).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return options
    refused = sorted(k for k, v in options.items() if k not in params and v is not None and v is not False)
    if refused:
        takes = ", ".join(k for k in params if k not in ("model", "frame", "source", "line_offset"))
        raise ConfigError(
            f"{', '.join(refused)}: not an option of this model's predictions (it takes {takes}); drop it."
        )
    return {k: v for k, v in options.items() if k in params}


def _under_run_dir(path: Path, cfg: DictConfig) -> bool:
    """The run's own folder (the default output) is created on demand."""
    run_dir = OmegaConf.select(cfg, "paths.output_dir", default=None)
    return run_dir is not None and path.resolve().is_relative_to(Path(str(run_dir)).expanduser().resolve())


@report_user_errors
def run(cfg: DictConfig) -> Path:
    """CLI: read ``cfg.input``, predict with ``cfg.ckpt_path``, write ``cfg.output`` (and the states)."""
    quiet_libraries()
    source, output = check_paths(cfg)
    if cfg.get("states_learner") is not None and not cfg.get("states"):
        raise ConfigError(
            f"states_learner={cfg.states_learner}: chooses the learner of the knowledge-state heatmap, "
            "which only states=true draws; add states=true or drop states_learner."
        )
    predictor = Predictor.load(cfg.ckpt_path)
    raw, line_offset = read_table(source)
    options = OmegaConf.to_container(cfg.get("options") or OmegaConf.create({}), resolve=True)
    options.update(max_len=cfg.get("max_len"), batch_size=cfg.batch_size)
    where = {"source": str(source), "line_offset": line_offset}
    try:
        predictions = predictor.predict(raw, **where, **family_options(predictor.datamodule.predict, options))
        states = (
            predictor.states(raw, max_len=cfg.get("max_len"), batch_size=cfg.batch_size, **where)
            if cfg.get("states")
            else None
        )
    except DataValidationError as err:  # say which data the checkpoint reads: a file of another family?
        raise DataValidationError(
            f"{err} ({cfg.ckpt_path} holds a model of {family(predictor.model)}, which reads the input as "
            "that family's data.)"
        ) from None
    if states is not None:
        chosen_learner(states, cfg.get("states_learner"))  # a wrong learner is refused before any file
    path = write_table(predictions, output)
    log.info("wrote %d predictions -> %s", len(predictions), path)
    if states is not None:
        table, heatmap = write_states(states, cfg.paths.output_dir, cfg.get("states_learner"))
        log.info("wrote the knowledge states -> %s%s", table, f" and {heatmap}" if heatmap else "")
    return path
