"""Up-front checks of a composed config: every problem reported at once, each with its key and fix.

The same rules serve the objects built from config (the DataModule, the networks) through
:func:`problems_in`, so a value is judged alike whether it comes from a YAML file or a Python call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ktlab.data.schema import required_columns
from ktlab.errors import ConfigError

# (key, test that must hold, what is required); a key that is absent or null is not checked.
RULES: list[tuple[str, Callable[[Any], bool], str]] = [
    ("data.max_len", lambda v: v >= 2, "must be >= 2"),
    ("data.batch_size", lambda v: v >= 1, "must be >= 1"),
    ("data.val_fraction", lambda v: 0 <= v < 1, "must be in [0, 1)"),
    ("data.test_fraction", lambda v: 0 <= v < 1, "must be in [0, 1)"),
    ("data.num_workers", lambda v: v >= 0, "must be >= 0"),
    ("model.net.hidden_dim", lambda v: v >= 1, "must be >= 1"),
    ("model.net.embed_dim", lambda v: v >= 1, "must be >= 1"),
    ("model.net.num_layers", lambda v: v >= 1, "must be >= 1"),
    ("model.net.head_dim", lambda v: v >= 1, "must be >= 1"),
    ("model.net.dropout", lambda v: 0 <= v < 1, "must be in [0, 1)"),
    ("model.optimizer.lr", lambda v: v > 0, "must be > 0"),
    ("trainer.max_epochs", lambda v: v == -1 or v >= 1, "must be >= 1 (or -1 for no limit)"),
    ("trainer.gradient_clip_val", lambda v: v >= 0, "must be >= 0 or null"),
]


def problems_in(values: Mapping[str, Any]) -> list[str]:
    """One message per value, keyed by its config key (``"data.max_len"``...), that breaks its rule."""
    problems = []
    for key, ok, requirement in RULES:
        value = values.get(key)
        if value is None:
            continue
        try:
            good = bool(ok(value))
        except TypeError:
            good = False
        if not good:
            problems.append(f"{key}={value}: {requirement}; set {key}")
    return problems


def check_config(cfg: DictConfig) -> None:
    """Raise :class:`ConfigError` naming every bad key, its value and the fix."""
    problems = problems_in(
        {key: OmegaConf.select(cfg, key, default=None, throw_on_missing=False) for key, _, _ in RULES}
    )
    if cfg.get("data") is not None and "context_features" in cfg.data:
        try:
            required_columns(list(cfg.data.context_features), list(cfg.data.get("query_features", [])))
        except ConfigError as err:
            problems.append(str(err).removeprefix("Invalid feature configuration: ").rstrip("."))
    if problems:
        raise ConfigError("Invalid configuration: " + "; ".join(problems) + ".")
