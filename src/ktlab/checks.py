"""Argument checks that an object runs on its own arguments.

A component (a network, a DataModule, a source) checks its arguments in plain Python and knows nothing of
where they come from. It lists its problems with a :class:`Checks` collector in a static
``check_args(args)`` method, which its constructor calls; :func:`ktlab.config_checks.check_config` calls
the same method on every config node before anything is built, and puts the node's config key in front
of each argument (``hidden_dim`` becomes ``model.net.hidden_dim``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ktlab.errors import ConfigError
from ktlab.utils.text import shorten


@dataclass(frozen=True)
class Problem:
    """An argument value that cannot work, and what it must be instead."""

    arg: str
    value: Any
    requirement: str

    def describe(self, prefix: str = "") -> str:
        key = f"{prefix}{self.arg}"
        shown = repr(self.value) if isinstance(self.value, str) else str(self.value)
        return f"{key}={shorten(shown)}: {self.requirement}; set {key}"


class Checks:
    """Collects the problems of the arguments in ``args``; an argument absent from ``args`` is not checked.

    Example::

        checks = Checks(args)
        checks.at_least("hidden_dim", 1)
        checks.in_range("dropout", 0.0, 1.0)
        return checks.problems
    """

    def __init__(self, args: Mapping[str, Any]) -> None:
        self.args = args
        self.problems: list[Problem] = []

    def require(self, arg: str, ok: Callable[[Any], bool], requirement: str) -> None:
        """Record a problem unless ``ok(value)`` holds; a value ``ok`` cannot compare is a problem too."""
        if arg not in self.args or self.args[arg] is None:
            return
        value = self.args[arg]
        try:
            good = bool(ok(value))
        except (TypeError, ValueError):
            good = False
        if not good:
            self.problems.append(Problem(arg, value, requirement))

    def integer(self, arg: str, low: int | None = None) -> None:
        """An integer (not a bool, not 2.5), at least ``low`` when given."""
        value = self.args.get(arg)
        if value is None:
            return
        bound = f" >= {low}" if low is not None else ""
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append(Problem(arg, value, f"must be an integer{bound}"))
        elif low is not None and value < low:
            self.problems.append(Problem(arg, value, f"must be >= {low}"))

    def at_least(self, arg: str, low: float) -> None:
        self.require(arg, lambda v: not isinstance(v, bool) and v >= low, f"must be >= {low}")

    def in_range(self, arg: str, low: float, high: float, high_open: bool = True) -> None:
        """A number in ``[low, high)`` (or ``[low, high]`` when ``high_open`` is False)."""
        close = ")" if high_open else "]"
        self.require(
            arg,
            lambda v: not isinstance(v, bool) and low <= v and (v < high if high_open else v <= high),
            f"must be in [{low}, {high}{close}",
        )

    def one_of(self, arg: str, choices: Collection[Any]) -> None:
        self.require(arg, lambda v: v in choices, f"choose one of {', '.join(map(str, choices))}")


def raise_problems(what: str, problems: list[Problem]) -> None:
    """Raise one :class:`ConfigError` listing every problem of ``what``'s arguments, if there are any."""
    if problems:
        raise ConfigError(f"Invalid {what} arguments: " + "; ".join(p.describe() for p in problems) + ".")
