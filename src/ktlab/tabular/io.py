"""Saving and loading tabular models in a format that runs no code on load, with their metadata.

A model file (``model.skops``) is a ``skops.io`` archive: a JSON description of the objects, NumPy arrays
stored without pickles and XGBoost's own serialization of its trees. Loading builds only the types that
skops trusts by default (Python, NumPy, SciPy and scikit-learn types) and those of :data:`TRUSTED_TYPES`;
a file naming any other type is refused before a single object is built. A pickle or joblib file (such as
the ``model.joblib`` of earlier versions, which ran whatever code it held when loaded) is not a skops
archive and is refused unread.

``model.json`` beside the file holds the metadata (features, library versions, parameters, training
metrics) and the file's sha256; the model registry (``ml_models``) records the same sha256 in the row's
``config`` (``artifact_sha256``), and :func:`load_model` checks it before reading the file when given.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import platform
import zipfile
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import skops.io as sio

from ktlab.tabular.errors import ModelFileError

log = logging.getLogger(__name__)

FORMAT = "ktlab-tabular/2"
SUFFIX = ".skops"
LIBRARIES = ("ktlab", "scikit-learn", "xgboost", "shap", "imbalanced-learn", "skops", "numpy", "pandas")
#: The types of a tabular model beyond those skops trusts by default; nothing else is ever built on load.
TRUSTED_TYPES: tuple[str, ...] = (
    "ktlab.tabular.difficulty.DifficultyOptimizer",
    "ktlab.tabular.performance.PerformancePredictor",
    "ktlab.tabular.features.FeatureEngineering",
    "sklearn.tree._tree.Tree",
    "xgboost.sklearn.XGBClassifier",
    "xgboost.core.Booster",
    "imblearn.pipeline.Pipeline",
    "imblearn.over_sampling._smote.base.SMOTE",
)
#: The key of an ``ml_models`` row's ``config`` that holds the sha256 of its model file.
SHA256_KEY = "artifact_sha256"


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a model depends on."""
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def sha256_of(path: str | Path) -> str:
    """The sha256 of a file, as hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_model(model: Any, path: str | Path, metrics: dict[str, Any] | None = None, **extra: Any) -> Path:
    """Write ``model`` and its metadata to ``path`` (a ``.skops`` archive) and ``path`` with suffix ``.json``.

    Raises:
        ModelFileError: the model is not trained, or ``path`` does not end in ``.skops``.
    """
    if not hasattr(model, "model_"):
        raise ModelFileError(f"Cannot save an untrained {type(model).__name__}: fit it first.")
    path = Path(path)
    if path.suffix != SUFFIX:
        raise ModelFileError(f"{path}: a tabular model file is a skops archive; name it *{SUFFIX}.")
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
    metadata = json.loads(json.dumps(metadata, default=str))  # plain values only: no type to trust
    content = sio.dumps({"format": FORMAT, "model": model, "metadata": metadata})
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)
    digest = hashlib.sha256(content).hexdigest()
    path.with_suffix(".json").write_text(json.dumps({**metadata, "sha256": digest}, indent=2) + "\n")
    log.info("saved %s to %s (sha256 %s)", metadata["kind"], path, digest)
    return path


def load_model(
    path: str | Path, sha256: str | None = None, recorded_by: str = "the registry"
) -> tuple[Any, dict[str, Any]]:
    """Read a model file written by :func:`save_model`; returns the model and its metadata.

    Args:
        path: the ``.skops`` file.
        sha256: the hash the file must have (the registry's record), checked before anything is read.
        recorded_by: who recorded ``sha256``, for messages.

    Raises:
        ModelFileError: missing, changed since it was recorded, not a skops archive (a pickle or joblib
            file is never read), naming a type a tabular model does not hold, or not a ktlab model file.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelFileError(
            f"{path}: no such model file. Train one with `python train_tabular.py model=...` (it writes "
            f"<run dir>/model{SUFFIX}) or pass the path of an existing one."
        )
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None and digest != sha256:
        raise ModelFileError(
            f"{path}: its sha256 is {digest}, not the {sha256} that {recorded_by} records: the file changed "
            "after it was registered. Nothing was loaded; retrain the model, or restore the file."
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ModelFileError(
            f"{path}: not a skops model archive. Pickle and joblib files (such as a model.joblib of earlier "
            "versions) can run code when loaded and are never read; retrain with `python train_tabular.py`, "
            f"which writes model{SUFFIX}."
        )
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as err:  # skops raises many types for a damaged archive
        raise ModelFileError(
            f"{path}: cannot be read as a model file ({type(err).__name__}: {err})."
        ) from None
    foreign = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if foreign:
        raise ModelFileError(
            f"{path}: names type(s) that a ktlab tabular model never holds ({', '.join(foreign)}); it was not "
            "loaded, and nothing in it was built or run. Use a model file written by train_tabular.py."
        )
    try:
        content = sio.loads(data, trusted=[t for t in TRUSTED_TYPES if t in untrusted])
    except Exception as err:
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
