"""The import floors of the package: a module imports only from its own floor or those below.

Read with ``ast`` from the sources (every import, those inside functions too: a lazy import is an arrow
all the same), so nothing is imported to check it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: Lowest first. errors and utils are the ground floor (utils imports nothing above it); data never
#: imports models or an entry point; the commands and the package's front door stand on everything.
FLOORS: dict[str, int] = {
    "ktlab.errors": 0,
    "ktlab.utils": 1,
    "ktlab.checks": 2,
    "ktlab.data": 3,
    "ktlab.cli": 3,
    "ktlab.db": 4,
    "ktlab.config_checks": 4,
    "ktlab.models": 5,
    "ktlab.evaluation": 5,
    "ktlab.callbacks": 5,
    "ktlab.train": 6,
    "ktlab.resume": 6,
    "ktlab.evaluate": 6,
    "ktlab.predict": 6,
    "ktlab.difficulty": 6,
    "ktlab.text_report": 6,
    "ktlab.benchmark": 6,
    "ktlab.inference": 6,
    "ktlab.tabular": 6,
    "ktlab.commands": 7,
    "ktlab.__main__": 7,
    "ktlab": 7,  # the package's own __init__ (its public names)
}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted((SRC / "ktlab").rglob("*.py"))}


def floor_of(module: str) -> tuple[str, int] | None:
    """The FLOORS entry ``module`` belongs to (its longest dotted prefix; ``ktlab`` itself only exactly)."""
    parts = module.split(".")
    for n in range(len(parts), 1, -1):
        key = ".".join(parts[:n])
        if key in FLOORS:
            return key, FLOORS[key]
    return ("ktlab", FLOORS["ktlab"]) if module == "ktlab" else None


def imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """The ktlab modules ``tree`` imports (``from ktlab.x import y`` names ``ktlab.x.y`` when that is a module)."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else base)
    return {name for name in found if name == "ktlab" or name.startswith("ktlab.")}


def upward_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    """``module imports target (floor a < b)`` for every import of ``source`` that points up a floor."""
    here = floor_of(module)
    assert here is not None, f"{module}: on no floor; add its package to FLOORS in tests/test_layers.py"
    problems = []
    for target in sorted(imported(ast.parse(source), module, is_package)):
        there = floor_of(target)
        if there is not None and there[1] > here[1]:
            problems.append(
                f"{module} imports {target} ({here[0]} is floor {here[1]} < {there[0]} {there[1]})"
            )
    return problems


def test_every_module_stands_on_a_floor() -> None:
    unplaced = [name for name in MODULES if floor_of(name) is None]
    assert not unplaced, f"add these packages to FLOORS in tests/test_layers.py: {unplaced}"


def test_no_import_points_up_a_floor() -> None:
    problems = []
    for name, path in MODULES.items():
        problems += upward_imports(path.read_text(), name, path.name == "__init__.py")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("ktlab.utils.timing", "from ktlab.train import train", ["ktlab.utils.timing imports ktlab.train"]),
        ("ktlab.data.batching", "def f():\n    from ktlab.models import kt_module", ["imports ktlab.models.kt_module"]),
        ("ktlab.data.batching", "from ..predict import run", ["ktlab.data.batching imports ktlab.predict"]),
        ("ktlab.data.batching", "from ktlab import Predictor", ["ktlab.data.batching imports ktlab "]),
        ("ktlab.models.dkt", "from ktlab.data import schema\nfrom ktlab import errors", []),
    ],
)  # fmt: skip
def test_an_upward_import_is_found(module: str, source: str, expected: list[str]) -> None:
    problems = upward_imports(source, module)
    assert len(problems) == len(expected)
    for problem, part in zip(problems, expected, strict=True):
        assert part in problem
