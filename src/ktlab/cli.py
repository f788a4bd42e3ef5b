"""Shared plumbing for command-line entry points: logging set-up and user-error reporting.

User mistakes (:class:`~ktlab.errors.KtlabError`) become one paragraph on stderr and exit status 2,
without a traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
import functools
import logging
import os
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from omegaconf.errors import InterpolationToMissingValueError, MissingMandatoryValue, OmegaConfBaseException

from ktlab.errors import ConfigError, KtlabError

F = TypeVar("F", bound=Callable[..., Any])


def user_error_in(err: BaseException) -> KtlabError | None:
    """The :class:`KtlabError` that ``err`` is or wraps, if any.

    Hydra's ``instantiate`` wraps what a constructor raises (once per level of nesting) in an
    ``InstantiationException`` raised ``from`` it, so a user error found while building an object from
    config is followed down the chain of causes. A required value left ``???`` (met directly or through
    an interpolation such as ``data.source.path: ${..path}``) becomes a :class:`ConfigError` naming the key
    to pass.
    """
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, KtlabError):
            return current
        if isinstance(current, MissingMandatoryValue | InterpolationToMissingValueError):
            # An interpolation (data.source.path: ${..path}) names the key it reached in its message.
            reached = re.search(r"Missing mandatory value: (\S+)", str(current))
            key = reached.group(1) if reached else (current.full_key or "a required value")
            last = key.rsplit(".", 1)[-1]
            value = (
                "FILE" if last in ("path", "train", "valid", "test") or last.endswith("_path") else "VALUE"
            )
            return ConfigError(
                f"{key} is missing: pass {key}={value} on the command line (the config leaves it '???')."
            )
        seen.add(id(current))
        current = current.__cause__
    return None


def report_user_errors(func: F) -> F:
    """Decorate an entry point so a :class:`KtlabError` (also one raised while instantiating from
    config) exits with its message and code, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as err:
            user_error = user_error_in(err)
            if user_error is None:
                raise
            _exit_with(user_error)

    return wrapper  # type: ignore[return-value]


def _exit_with(error: KtlabError) -> None:
    # The prefix as an indent keeps "error:" and the first word on one line, however long that word.
    message = textwrap.fill(
        str(error), width=100, initial_indent="error: ", break_long_words=False, break_on_hyphens=False
    )
    print(message, file=sys.stderr)
    raise SystemExit(error.exit_code) from None


#: Command-line flags after which Hydra does something other than run the task (help, printing the config).
_HYDRA_INFO_FLAGS = (
    "-h",
    "--help",
    "--hydra-help",
    "-i",
    "--info",
    "-c",
    "--cfg",
    "-sc",
    "--shell-completion",
    "-p",
    "--package",
)


def _composable(overrides: Sequence[str], limit: int = 20) -> list[list[str]]:
    """Override lists covering what a run or sweep asks for, without Hydra's own keys.

    The first list takes the first value of every listed sweep (``model=a,b``); each further list
    changes one sweep to one of its other values, so every listed value is composed once (at most
    ``limit`` lists). ``interval(...)`` and other sweeps drawn by a sweeper are left out.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    parsed = []
    for line in overrides:
        try:
            parsed += parser.parse_overrides([line])
        except OverrideParseException as err:
            raise ConfigError(
                f"Invalid command line: {line}: not a valid override ({str(err).splitlines()[0]}); write "
                "key=value, group=option, or key=a,b,c for a sweep with -m."
            ) from None
    base: list[str] = []
    sweeps: list[tuple[int, str, list[str]]] = []
    for override in parsed:
        if override.is_hydra_override():
            continue
        if not override.is_sweep_override():
            base.append(override.input_line)
            continue
        if not override.is_discrete_sweep():
            continue  # interval(...) is drawn by the sweeper
        values = list(override.sweep_string_iterator())
        if values:
            sweeps.append((len(base), override.get_key_element(), values))
            base.append(f"{override.get_key_element()}={values[0]}")
    runs = [base]
    for position, key, values in sweeps:
        for value in values[1:]:
            runs.append([*base[:position], f"{key}={value}", *base[position + 1 :]])
    return runs[:limit]


def _composition_message(err: Exception) -> str:
    """One paragraph for a Hydra composition error (unknown option, unknown key), from the error's fields.

    Hydra's ``MissingConfigException`` names the missing config (``model/nope``) and the group's options;
    an override of a key the config lacks fails on omegaconf's ``ConfigKeyError`` (or its attribute twin),
    which carries the key's full path and the node it was looked up in.
    """
    from hydra.errors import MissingConfigException
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError

    if isinstance(err, MissingConfigException):
        missing = err.missing_cfg_file or "that config"
        group, _, option = missing.rpartition("/")
        choose = f"; choose one of {', '.join(err.options)}" if err.options else ""
        if group:
            return f"{group}={option}: no such option of the '{group}' config group{choose}."
        return f"no config named '{missing}'{choose}."
    cause = err.__cause__
    if isinstance(cause, ConfigKeyError | ConfigAttributeError) and cause.full_key:
        key = cause.full_key
        return (
            f"{key}: the config has no such key{_near_keys(cause)}; check its spelling, e.g. with `--cfg job`, "
            f"or add a new key with +{key}=VALUE."
        )
    if isinstance(cause, OmegaConfBaseException) and cause.full_key:
        return f"{cause.full_key}: {str(cause).splitlines()[0]}."
    detail = f" ({str(cause).splitlines()[0]})" if cause is not None and str(cause) else ""
    return str(err).strip().splitlines()[0] + detail


def _near_keys(error: OmegaConfBaseException) -> str:
    """`` (did you mean a.b?)`` for keys beside the unknown one that are spelled alike, else ``""``."""
    from omegaconf import DictConfig

    parent = error.parent_node
    keys = [str(key) for key in parent] if isinstance(parent, DictConfig) else []
    near = difflib.get_close_matches(str(error.key), keys, n=3)
    if not near:
        return ""
    prefix = error.full_key.rpartition(".")[0]
    return " (did you mean " + " or ".join(f"{prefix}.{k}" if prefix else k for k in near) + "?)"


def check_command_line(config_dir: str | Path, config_name: str, argv: Sequence[str] | None = None) -> None:
    """Compose the config the command line asks for, and answer a mistake in one paragraph with exit 2.

    Hydra reports an unknown config option (``model=nope``), an unknown key (``trainer.max_epoch=2``) or a
    malformed override with its own multi-line message and exit status 1, the status of a crash. The
    commands call this first, so such mistakes read like every other user error. A sweep is checked with
    the first value of each list.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException

    args = list(sys.argv[1:] if argv is None else argv)
    if any(arg in _HYDRA_INFO_FLAGS for arg in args):
        return
    try:
        runs = _composable([arg for arg in args if not arg.startswith("-")])
        with initialize_config_dir(config_dir=str(Path(config_dir).resolve()), version_base="1.3"):
            for overrides in runs:
                compose(config_name=config_name, overrides=overrides)
    except ConfigError as err:
        _exit_with(err)
    except HydraException as err:
        _exit_with(ConfigError(f"Invalid command line: {_composition_message(err)}"))
    except Exception as err:  # composition may resolve nothing else here; Hydra itself reports the rest
        logging.getLogger(__name__).debug("command-line check skipped: %s", err)
    finally:
        GlobalHydra.instance().clear()


def use_launch_dir_as_root() -> None:
    """Make the launch directory the project root (``paths.root_dir``) unless ``KTLAB_ROOT`` is set.

    Called by every command (ktlab.commands) before Hydra starts. The root cannot come from Hydra's
    ``hydra:runtime.cwd``: a multirun sweeper names its sweep folder (under the root) before that is
    set. An environment variable also reaches the worker processes of DDP.
    """
    os.environ.setdefault("KTLAB_ROOT", os.getcwd())


def setup_logging(level: int = logging.INFO) -> None:
    """Plain console logging for scripts that do not run under Hydra (which configures its own)."""
    logging.basicConfig(level=level, format="[%(asctime)s][%(name)s][%(levelname)s] - %(message)s")
