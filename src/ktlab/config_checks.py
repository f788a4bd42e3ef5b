"""Up-front checks of a composed config: every problem reported at once, each with its key and fix.

The objects built from config check their own arguments (``check_args``, see :mod:`ktlab.checks`); this
module walks the config, asks every node's class for its problems and puts the node's key in front of
each (``hidden_dim`` of ``model.net`` becomes ``model.net.hidden_dim``). Only the objects ktlab does not
own (the Lightning Trainer, torch optimizers) and the machine (is the asked-for device there?) are checked
here directly.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any, get_args

from hydra.utils import get_class
from lightning.pytorch.accelerators import AcceleratorRegistry
from omegaconf import DictConfig, OmegaConf

from ktlab.checks import Checks
from ktlab.errors import ConfigError
from ktlab.utils.threads import threads_problems

try:  # the values Lightning's Trainer takes, as Lightning types them (a union of Literals)
    from lightning.fabric.plugins.precision.precision import _PRECISION_INPUT as PRECISION_INPUT
except ImportError:  # another Lightning version: its Trainer checks the value itself
    PRECISION_INPUT = None


def _foreign_problems(cfg: DictConfig) -> list[str]:
    """Checks of the objects from other libraries (trainer, optimizer) and of the asked-for device."""
    out = []
    trainer = _values(cfg.get("trainer"))
    checks = Checks(trainer)
    checks.require(
        "max_epochs",
        lambda v: isinstance(v, int) and (v == -1 or v >= 1),
        "must be >= 1 (or -1 for no limit)",
    )
    checks.at_least("gradient_clip_val", 0)
    out += [p.describe("trainer.") for p in checks.problems]
    optimizer = _values(OmegaConf.select(cfg, "model.optimizer", default=None))
    checks = Checks(optimizer)
    checks.require("lr", lambda v: v > 0, "must be > 0")
    out += [p.describe("model.optimizer.") for p in checks.problems]
    out += _device_problems(trainer.get("accelerator"))
    out += _precision_problems(trainer.get("precision"))
    out += threads_problems(cfg.get("cpu_threads", "auto"))
    return out


def _device_problems(accelerator: Any) -> list[str]:
    """An accelerator name Lightning does not know, or one this machine does not have.

    The names are Lightning's own (its accelerator registry, plus ``auto`` and ``gpu``); an accelerator
    given as an object (a ``_target_`` node) is left to Lightning.
    """
    if not isinstance(accelerator, str) or accelerator == "auto":
        return []
    registered = {name: AcceleratorRegistry[name]["accelerator"] for name in AcceleratorRegistry}
    if accelerator not in registered and accelerator != "gpu":
        names = ", ".join(sorted({"auto", "gpu", *registered}))
        return [
            f"trainer.accelerator={accelerator}: Lightning has no such accelerator; choose one of {names}"
        ]
    available = {name: cls.is_available() for name, cls in registered.items()}
    if available.get(accelerator, False) or (
        accelerator == "gpu" and (available.get("cuda") or available.get("mps"))
    ):
        return []
    found = ", ".join(name for name, ok in sorted(available.items()) if ok)
    return [
        f"trainer.accelerator={accelerator}: this machine has no {accelerator.upper()} device (it has: "
        f"{found}); use trainer=default for the CPU"
    ]


def _precision_problems(precision: Any) -> list[str]:
    """A precision outside the values Lightning's ``Trainer(precision=...)`` takes (its own list)."""
    accepted = [value for group in get_args(PRECISION_INPUT) for value in get_args(group)]
    if precision is None or not accepted or precision in accepted:
        return []
    names = [str(v) for v in accepted if isinstance(v, str) and "-" in v]  # 32-true..., not the aliases
    aliases = [str(v) for v in accepted if str(v) not in names]
    return [
        f"trainer.precision={precision}: Lightning takes one of {', '.join(names)} "
        f"(or the short forms {', '.join(dict.fromkeys(aliases))})"
    ]


def _values(node: Any) -> dict[str, Any]:
    """The node's resolvable values (an interpolation that cannot resolve yet is left out)."""
    if not isinstance(node, DictConfig):
        return {}
    out = {}
    for key in node:
        if str(key).startswith("_") or OmegaConf.is_missing(node, key):
            continue
        try:
            value = node[key]
        except Exception:  # an interpolation into the run's Hydra state, unset outside a run
            continue
        out[str(key)] = (
            OmegaConf.to_container(value, resolve=True)
            if isinstance(value, DictConfig)
            else (list(value) if OmegaConf.is_list(value) else value)
        )
    return out


def _targets(node: Any, prefix: str) -> Iterator[tuple[str, DictConfig]]:
    """Every node with a ``_target_`` below ``node``, with its key prefix (``"model.net."``)."""
    if not isinstance(node, DictConfig):
        return
    if "_target_" in node:
        yield prefix, node
    for key in node:
        if not str(key).startswith("_") and not OmegaConf.is_missing(node, key):
            try:
                child = node[key]
            except Exception:
                continue
            yield from _targets(child, f"{prefix}{key}.")


def owner_problems(cfg: DictConfig, roots: tuple[str, ...] = ("data", "model", "callbacks")) -> list[str]:
    """The problems that the classes of the config's ``_target_`` nodes find in their own arguments."""
    out = []
    for root in roots:
        for prefix, node in _targets(cfg.get(root), f"{root}."):
            try:
                cls = get_class(node._target_)
            except Exception:
                out.append(f"{prefix}_target_={node._target_}: no such class; check the spelling")
                continue
            check = getattr(cls, "check_args", None)
            if check is None:
                continue
            values = _values(node)
            out += [problem.describe(prefix) for problem in check(values)]
            out += _unknown_args(cls, node, values, prefix)
    return out


def _unknown_args(cls: type, node: DictConfig, values: dict[str, Any], prefix: str) -> list[str]:
    """Arguments the class does not take (a misspelt key would otherwise fail later, inside Hydra)."""
    params = inspect.signature(cls).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return []
    nested = {str(k) for k in node if isinstance(node.get(k), DictConfig)}
    unknown = sorted(k for k in set(values) | nested if k not in params)
    return [
        f"{prefix}{key}: {cls.__name__} takes no such argument (it takes "
        f"{', '.join(p for p in params if p != 'self')}); remove it or fix its spelling"
        for key in unknown
    ]


def check_config(cfg: DictConfig) -> None:
    """Raise :class:`ConfigError` naming every bad key, its value and the fix."""
    problems = owner_problems(cfg) + _foreign_problems(cfg)
    if problems:
        raise ConfigError("Invalid configuration: " + "; ".join(problems) + ".")
