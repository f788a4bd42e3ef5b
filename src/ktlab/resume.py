"""Resuming a run in its own folder with the config it was started with.

``python train.py ckpt_path=last hydra.run.dir=<run dir> [key=value ...]`` goes on from the run's
``checkpoints/last.ckpt``. The run was started with overrides (``model=dkt trainer.max_epochs=4``) that Hydra
saved in ``<run dir>/.hydra/overrides.yaml``; :func:`resume_command_line` puts them in front of the new
command line (a key given again takes its new value), so nothing has to be retyped. Hydra rewrites the
folder's ``.hydra/*.yaml`` as soon as the job starts, so everything here runs before it does: a change of
the model, the data or the experiment is refused up front, and :func:`kept_on_refusal` puts the saved files
back when a later check refuses the resumed run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf

from ktlab.errors import ConfigError
from ktlab.utils.secrets import MASK

#: Config groups that decide what the checkpoint holds: a resumed run cannot change them.
FIXED_GROUPS = ("model", "data", "experiment")
#: Groups of a sweep only (an Optuna search turns on Hydra's multirun): a job of a sweep resumes alone.
SWEEP_GROUPS = ("hparams_search",)
_RUN_DIR_KEYS = ("hydra.run.dir", "+hydra.run.dir", "++hydra.run.dir")
_LAST = ("ckpt_path=last", "+ckpt_path=last", "++ckpt_path=last")
_MULTIRUN = ("-m", "--multirun")


@dataclass
class Resumed:
    """A command line with the resumed run's saved overrides in front.

    Attributes:
        args: the command line to run (saved overrides first, then the given ones).
        run_dir: the resumed run's folder, None when the command line resumes no run folder.
        reused: the saved overrides taken into ``args``.
    """

    args: list[str]
    run_dir: Path | None = None
    reused: list[str] = field(default_factory=list)


def resumed_run_dir(args: Sequence[str]) -> Path | None:
    """The run folder a ``ckpt_path=last hydra.run.dir=<dir>`` command line resumes, if it has a saved config."""
    if any(arg in _MULTIRUN for arg in args) or not any(arg in _LAST for arg in args):
        return None
    for arg in args:
        key, _, value = arg.partition("=")
        if key in _RUN_DIR_KEYS and value and "${" not in value:
            folder = Path(value.strip("'\"")).expanduser()
            return folder if (folder / ".hydra" / "overrides.yaml").is_file() else None
    return None


def _key(override: str) -> str:
    """The config key or group an override sets, without its ``+``/``++``/``~`` prefix."""
    return override.partition("=")[0].lstrip("+~")


def _saved_choices(run_dir: Path) -> dict[str, str]:
    """The config group options the run was composed with (``hydra.runtime.choices`` of ``hydra.yaml``)."""
    path = run_dir / ".hydra" / "hydra.yaml"
    if not path.is_file():
        return {}
    choices = OmegaConf.select(OmegaConf.load(path), "hydra.runtime.choices", default=None)
    if choices is None:
        return {}
    return {str(k): "null" if v is None else str(v) for k, v in OmegaConf.to_container(choices).items()}


def _group_value(override: str) -> str:
    value = override.partition("=")[2].strip().strip("'\"")
    return "null" if value in ("", "None") else value


def resume_command_line(args: Sequence[str]) -> Resumed:
    """Put the saved overrides of the run that ``args`` resumes in front of ``args``.

    Args:
        args: the command line after the script's name.

    Returns:
        The command line to run; ``args`` unchanged when it resumes no run folder with a saved config.

    Raises:
        ConfigError: the command line changes the model, the data or the experiment of the run, or a saved
            override holds a masked password that the command line does not give again.
    """
    run_dir = resumed_run_dir(args)
    if run_dir is None:
        return Resumed(list(args))
    overrides_file = run_dir / ".hydra" / "overrides.yaml"
    saved = [str(item) for item in OmegaConf.to_container(OmegaConf.load(overrides_file))]
    given = [arg for arg in args if not arg.startswith("-")]
    choices = _saved_choices(run_dir)
    changed = [
        f"{arg} (the run has {_key(arg)}={choices[_key(arg)]})"
        for arg in given
        if _key(arg) in FIXED_GROUPS and _key(arg) in choices and _group_value(arg) != choices[_key(arg)]
    ]
    if changed:
        raise ConfigError(
            f"{run_dir}: cannot resume this run with {', '.join(changed)}: a resumed run keeps the model, "
            "data and experiment it was started with (from its .hydra/hydra.yaml). Drop those overrides to "
            "resume it, or start a new run without hydra.run.dir."
        )
    new_keys = {_key(arg) for arg in given}
    reused = [item for item in saved if _key(item) not in new_keys and _key(item) not in SWEEP_GROUPS]
    masked = [_key(item) for item in reused if MASK in item]
    if masked:
        raise ConfigError(
            f"{overrides_file}: the run was started with {', '.join(masked)} holding a password, which is "
            f"stored masked ({MASK}); to resume, pass {', '.join(f'{k}=...' for k in masked)} again."
        )
    # A key the run added (+key=v) and the command line sets again keeps its `+`: it is new to the config.
    added = {_key(item) for item in saved if item.startswith("+") and _key(item) in new_keys}
    merged = [f"+{arg}" if _key(arg) in added and not arg.startswith("+") else arg for arg in args]
    return Resumed([*reused, *merged], run_dir, reused)


@contextlib.contextmanager
def kept_on_refusal(run_dir: Path | None) -> Iterator[None]:
    """Put a resumed run's ``.hydra/*.yaml`` back as they were when the job exits with an error status.

    Hydra writes the new command line's config into the run folder when the job starts, before ktlab's
    checks of it (a checkpoint that does not fit the model, say) can refuse it; the refused command must
    not replace the config the run was trained with.
    """
    folder = run_dir / ".hydra" if run_dir is not None else None
    saved = {path: path.read_bytes() for path in folder.glob("*.yaml")} if folder and folder.is_dir() else {}
    try:
        yield
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            for path, content in saved.items():
                path.write_bytes(content)
        raise
