"""Saving and loading tabular models with their metadata (features, library versions, training metrics).

A model file (``model.joblib``) holds the estimator and its metadata; ``model.json`` beside it holds the
same metadata for people and tools. Loading checks the file and warns when a library version differs
from the one that trained the model. Only load model files you trust: joblib runs code from the file.
"""

from __future__ import annotations

import json
import logging
import platform
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import joblib

from ktlab.tabular.errors import ModelFileError

log = logging.getLogger(__name__)

FORMAT = "ktlab-tabular/1"
LIBRARIES = ("ktlab", "scikit-learn", "xgboost", "shap", "imbalanced-learn", "numpy", "pandas")


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a model depends on."""
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def save_model(model: Any, path: str | Path, metrics: dict[str, float] | None = None, **extra: Any) -> Path:
    """Write ``model`` and its metadata to ``path`` (and ``path`` with suffix ``.json``).

    Raises:
        ModelFileError: the model is not trained.
    """
    if not hasattr(model, "model_"):
        raise ModelFileError(f"Cannot save an untrained {type(model).__name__}: fit it first.")
    metadata = {
        "format": FORMAT,
        "kind": type(model).__name__,
        "feature_names": [str(n) for n in model.feature_names_in_],
        "params": {k: v for k, v in model.get_params(deep=False).items() if k != "features"},
        "versions": library_versions(),
        "metrics": metrics or {},
        "saved_at": datetime.now(timezone.utc).isoformat(),
        **extra,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({"format": FORMAT, "model": model, "metadata": metadata}, path)
    path.with_suffix(".json").write_text(json.dumps(metadata, indent=2, default=str) + "\n")
    log.info("saved %s to %s", metadata["kind"], path)
    return path


def load_model(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """Read a model file written by :func:`save_model`; returns the model and its metadata.

    Raises:
        ModelFileError: missing, unreadable, or not a ktlab tabular model file.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelFileError(
            f"{path}: no such model file. Train one with `python train_tabular.py model=...` (it writes "
            "<run dir>/model.joblib) or pass the path of an existing one."
        )
    try:
        content = joblib.load(path)
    except Exception as err:  # joblib raises many types for a foreign or damaged file
        raise ModelFileError(
            f"{path}: cannot be read as a model file ({type(err).__name__}: {err})."
        ) from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a ktlab tabular model file (no '{FORMAT}' header).")
    metadata = content["metadata"]
    current = library_versions()
    for name, saved in metadata.get("versions", {}).items():
        if name != "ktlab" and current.get(name) != saved:
            log.warning("%s was saved with %s %s; %s is installed", path, name, saved, current.get(name))
    return content["model"], metadata
