"""Checks of the tabular training config: the command line before Hydra runs, the composed config after.

Kept apart from :mod:`ktlab.tabular.train` so that a mistake on the command line is answered before the
training libraries are imported.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import OverrideParseException
from omegaconf import DictConfig, OmegaConf

from ktlab.checks import Checks
from ktlab.cli import check_command_line, report_user_errors
from ktlab.errors import ConfigError

CONF_DIR_VAR = "KTLAB_CONF_DIR"


def use_conf_dir(conf_dir: Path) -> None:
    """Point the search path of ``conf/tabular/train.yaml`` at ``conf_dir`` (for paths, hydra, db, registry).

    Called by the root ``train_tabular.py`` before Hydra starts, unless ``KTLAB_CONF_DIR`` is set.
    """
    os.environ.setdefault(CONF_DIR_VAR, str(conf_dir))


#: The config groups of ``conf/tabular`` whose names ``conf/`` also has (for ``train.py``): the search path
#: that brings ``paths``, ``hydra``, ``db`` and ``registry`` from ``conf/`` brings its options of these too.
OWN_GROUPS = ("model", "data")


def group_options(conf_dir: Path, group: str) -> list[str]:
    """The options of one of the tabular config groups (``conf/tabular/<group>/*.yaml``)."""
    return sorted(path.stem for path in (Path(conf_dir) / "tabular" / group).glob("*.yaml"))


def _default_option(conf_dir: Path, group: str) -> str:
    """The option of ``group`` that ``conf/tabular/train.yaml``'s defaults list picks."""
    for entry in OmegaConf.load(Path(conf_dir) / "tabular" / "train.yaml").defaults:
        if isinstance(entry, DictConfig) and group in entry:
            return str(entry[group])
    raise AssertionError(f"conf/tabular/train.yaml has no default {group}")


def _estimator_args(conf_dir: Path, model: str) -> tuple[str, list[str]]:
    """The estimator class of a tabular model option and its arguments (the option lists them all)."""
    node = OmegaConf.load(Path(conf_dir) / "tabular" / "model" / f"{model}.yaml").estimator
    return str(node._target_).rsplit(".", 1)[-1], [str(key) for key in node if key != "_target_"]


def check_choices(conf_dir: Path, argv: Sequence[str]) -> None:
    """Refuse a ``model=`` or ``data=`` option that is not one of ``conf/tabular``'s, or an estimator key
    that the chosen model does not take.

    ``conf/`` has groups of the same names (sequence models and data for ``train.py``); Hydra would compose
    ``model=dkt`` from there and list those options beside the tabular ones when one is misspelt.

    Raises:
        ConfigError: naming the key, the value and the choices.
    """
    parser = OverridesParser.create()
    problems, chosen, estimator_keys = [], {}, []
    for line in argv:
        if line.startswith("-"):
            continue
        try:
            (override,) = parser.parse_overrides([line])
        except (OverrideParseException, ValueError):
            continue  # ktlab.cli.check_command_line explains a malformed override
        if override.is_hydra_override() or override.package is not None:
            continue
        key = override.key_or_group
        if key.startswith("model.estimator.") and not override.is_add():
            estimator_keys.append((key, line.split("=", 1)[-1]))
        if key not in OWN_GROUPS:
            continue
        values = list(override.sweep_string_iterator()) if override.is_discrete_sweep() else []
        if not override.is_sweep_override():
            values = [str(override.value())]
        options = group_options(conf_dir, key)
        chosen[key] = [v for v in values if v in options]
        for value in values:
            if value in options:
                continue
            why = (
                f"conf/{key}/{value}.yaml is a {key} option of train.py (the sequence models), not of "
                "train_tabular.py"
                if (Path(conf_dir) / key / f"{value}.yaml").is_file()
                else f"there is no conf/tabular/{key}/{value}.yaml"
            )
            problems.append(f"{key}={value}: {why}; choose one of {', '.join(options)}")
    for model in chosen.get("model") or [_default_option(conf_dir, "model")]:
        name, takes = _estimator_args(conf_dir, model)
        for key, value in estimator_keys:
            arg = key.removeprefix("model.estimator.").split(".")[0]
            if arg not in takes:
                close = difflib.get_close_matches(arg, takes, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                problems.append(
                    f"{key}={value}: {name} (model={model}) takes no argument {arg}{hint}; choose one of "
                    f"{', '.join(takes)}"
                )
    if problems:
        raise ConfigError("Invalid command line of train_tabular.py: " + "; ".join(problems) + ".")


@report_user_errors
def check_tabular_command_line(conf_dir: Path, argv: Sequence[str] | None = None) -> None:
    """Answer a mistake on ``train_tabular.py``'s command line in one paragraph, exit status 2.

    The tabular groups first (:func:`check_choices`), then the composition of the whole config
    (:func:`ktlab.cli.check_command_line`: unknown keys, malformed overrides).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    check_choices(conf_dir, args)
    check_command_line(Path(conf_dir) / "tabular", "train", args)


def check_config(cfg: DictConfig) -> None:
    """Refuse impossible settings, all at once."""
    if "estimator" not in cfg.model or "labels" not in cfg.model:
        raise ConfigError(
            "model: this is not a tabular model config (it has no model.estimator and model.labels); "
            "choose model=difficulty_xgb or model=performance_rf (sequence models train with train.py)."
        )
    from ktlab.config_checks import owner_problems  # imports torch: only once Hydra has composed

    problems = owner_problems(cfg, roots=("model",))
    checks = Checks({"test_fraction": cfg.test_fraction})
    checks.require("test_fraction", lambda v: 0.0 < v < 1.0, "must be between 0 and 1")
    problems += [problem.describe() for problem in checks.problems]
    attributes = list(cfg.fairness.attributes)
    unknown = [a for a in attributes if a not in ("grade_level", "learning_style")]
    if unknown:
        problems.append(f"fairness.attributes={attributes}: only grade_level and learning_style are known")
    if problems:
        raise ConfigError("Invalid configuration: " + "; ".join(problems) + ".")
