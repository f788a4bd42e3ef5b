"""The ``ktlab`` command: ``ktlab COMMAND [ARGS ...]`` (also ``python -m ktlab COMMAND ...``).

Each command lives in its own module and is imported only when asked for, so ``ktlab train`` needs none
of the optional extras and ``ktlab --help`` starts at once. A command whose extra is not installed stops
with one paragraph naming the extra to install.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from ktlab import __version__
from ktlab.cli import report_user_errors
from ktlab.errors import ConfigError


@dataclass(frozen=True)
class Command:
    """One ``ktlab`` command.

    Attributes:
        module: the module whose ``main(argv)`` runs it.
        summary: one line for ``ktlab --help``.
        extra: the optional dependency group it needs (``pip install 'ktlab[extra]'``), if any.
        needs: the top-level modules of that extra it cannot start without.
    """

    module: str
    summary: str
    extra: str | None = None
    needs: tuple[str, ...] = ()


_TEXT = ("transformers", "tokenizers")
_TABULAR = ("xgboost", "shap", "imblearn", "fairlearn")
_DB = ("sqlalchemy", "alembic", "dotenv")

COMMANDS: dict[str, Command] = {
    "train": Command("ktlab.commands.train", "train a model: ktlab train [model=dkt] [trainer.max_epochs=2]"),
    "eval": Command("ktlab.commands.eval", "evaluate a checkpoint: ktlab eval ckpt_path=RUN/checkpoints/best.ckpt"),
    "predict": Command("ktlab.commands.predict", "next-step success per skill: ktlab predict ckpt_path=... input=..."),
    "estimate-difficulty": Command(
        "ktlab.commands.estimate_difficulty", "difficulty of new questions from trained synthetic students",
        "text", _TEXT,
    ),
    "train-tabular": Command(
        "ktlab.commands.train_tabular", "train a tabular model: ktlab train-tabular [model=performance_rf]",
        "tabular", _TABULAR + _DB,
    ),
    "pykt-prepare": Command(
        "ktlab.data.pykt.raw.__main__", "pyKT's data.txt from a raw release: ktlab pykt-prepare assist2009 FILE --out DIR",
    ),
    "db": Command("ktlab.db.__main__", "learner database: ktlab db check | ktlab db init", "db", _DB),
    "tabular": Command(
        "ktlab.tabular.__main__", "at-risk lists, mastery timelines, next levels: ktlab tabular at-risk ...",
        "tabular", _TABULAR + _DB,
    ),
}  # fmt: skip


def usage() -> str:
    """The text of ``ktlab --help``."""
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {command.summary}" for name, command in COMMANDS.items()]
    return "\n".join(
        [
            "usage: ktlab COMMAND [ARGS ...]",
            "",
            "Knowledge tracing with Hydra-configured PyTorch Lightning. Commands:",
            *lines,
            "",
            "The Hydra commands (train, eval, predict, estimate-difficulty, train-tabular) take overrides",
            "(key=value, group=option), -m for a sweep and --help for their own help; configs ship inside the",
            "package. Runs go to logs/ and data to data/ under KTLAB_ROOT, else the current directory.",
        ]
    )


def _missing(command: Command) -> list[str]:
    return [name for name in command.needs if importlib.util.find_spec(name) is None]


@report_user_errors
def main(argv: Sequence[str] | None = None) -> None:
    """Run ``ktlab COMMAND ARGS`` (``argv`` None: ``sys.argv[1:]``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        raise SystemExit(0 if args else 2)
    if args[0] == "--version":
        print(f"ktlab {__version__}")
        return
    name, rest = args[0], args[1:]
    command = COMMANDS.get(name)
    if command is None:
        raise ConfigError(
            f"ktlab {name}: no such command; choose one of {', '.join(COMMANDS)} (see ktlab --help)."
        )
    missing = _missing(command)
    if missing:
        raise ConfigError(
            f"ktlab {name} needs the optional dependencies of ktlab[{command.extra}] ({', '.join(missing)} "
            f"not installed); install them with `pip install 'ktlab[{command.extra}]'`."
        )
    importlib.import_module(command.module).main(rest)


if __name__ == "__main__":
    main()
