"""Loading ktlab checkpoints safely: the module, its network and its data's fitted state, from one file.

A checkpoint written by ``train.py`` holds only tensors and plain data (numbers, strings, lists, dicts):
the weights, the optimizer and loop state, and under ``hyper_parameters`` the network, optimizer and data
configs and the data's ``inputs`` (sizes and fitted state). It is read with ``torch.load(weights_only=True)``,
which refuses to run code, so a crafted file cannot execute anything; one that holds any other object
is refused before anything from it is used.

The data config stored with the model names the DataModule it was trained on (its ``_target_``): that
class is the model's family (interaction sequences, question text...). A checkpoint used with the data
of another family is refused by :func:`check_family` before anything is built from it.
"""

from __future__ import annotations

import logging
import math
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from hydra.utils import get_class, instantiate
from lightning import LightningDataModule, LightningModule
from torchmetrics import Metric

from ktlab.errors import CheckpointError

log = logging.getLogger(__name__)

MODULE_KEY = "ktlab_module"
INPUTS_KEY = "inputs"
#: The best validation AUC of the run so far, for a resumed fit's ``val/auc_best``.
BEST_KEY = "ktlab_val_auc_best"


def mark_checkpoint(checkpoint: dict[str, Any], module: LightningModule) -> None:
    """Record the module's class in a checkpoint being saved (call it from ``on_save_checkpoint``)."""
    checkpoint[MODULE_KEY] = f"{type(module).__module__}.{type(module).__qualname__}"


def save_running_best(checkpoint: dict[str, Any], best: Metric) -> None:
    """Store a running-best metric (``val/auc_best``'s ``MaxMetric``) in a checkpoint being saved.

    torchmetrics leaves a metric's state out of the module's ``state_dict``, so without this a resumed fit
    would report the best of the epochs after the resume only.
    """
    if best.update_called:
        checkpoint[BEST_KEY] = float(best.compute())


def load_running_best(checkpoint: Mapping[str, Any], best: Metric) -> None:
    """Take back the running best stored by :func:`save_running_best` (call from ``on_load_checkpoint``)."""
    value = checkpoint.get(BEST_KEY)
    if isinstance(value, float) and math.isfinite(value):
        best.update(torch.tensor(value))


def read_checkpoint(path: str | Path, data: Mapping[str, Any] | None = None, fix: str = "") -> dict[str, Any]:
    """Read a checkpoint written by ``train.py`` without running code from it.

    Args:
        path: the checkpoint file.
        data: the data config it is to be used with (its ``_target_`` is checked by :func:`check_family`).
        fix: what else the user may do when the family differs (ends the message).

    Raises:
        CheckpointError: the file is missing, unreadable, holds objects other than tensors and plain data,
            was not written by ktlab's ``train.py``, or holds a model of another family than ``data``.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(
            f"{path}: no such checkpoint file. Pass ckpt_path=<run dir>/checkpoints/best.ckpt (or last.ckpt) "
            "of a finished training run."
        )
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        found = (
            str(err).split("Unsupported global: GLOBAL ")[-1].split(" ")[0] if "GLOBAL" in str(err) else ""
        )
        what = f" (it holds a {found} object)" if found else ""
        raise CheckpointError(
            f"{path}: refused: a ktlab checkpoint holds only tensors and plain data, and this file holds "
            f"other objects{what}, which could run code when loaded. It was not written by this version "
            "of `python train.py` (checkpoints of earlier versions must be retrained)."
        ) from None
    except Exception as err:  # torch raises many types for a corrupt or foreign file
        raise CheckpointError(
            f"{path}: cannot be read as a PyTorch checkpoint ({type(err).__name__}: {str(err)[:200]})."
        ) from None
    hparams = checkpoint.get("hyper_parameters", {}) if isinstance(checkpoint, dict) else {}
    if not isinstance(checkpoint, dict) or MODULE_KEY not in checkpoint or INPUTS_KEY not in hparams:
        raise CheckpointError(
            f"{path}: is not a ktlab checkpoint (it lacks the model class and the data's fitted state); use "
            "a checkpoint written by `python train.py`."
        )
    if data is not None:
        check_family(checkpoint, path, data, fix)
    return checkpoint


def _class_name(target: Any) -> str:
    return str(target).rsplit(".", 1)[-1]


def family(model: LightningModule) -> str:
    """The family of a loaded model in words: "the KTDataModule family (model 'dkt', KTLitModule)"."""
    data = model.hparams.get("data") or {}
    name = model.hparams.get("name") or type(model).__name__
    return (
        f"the {_class_name(data.get('_target_', 'unknown'))} family (model '{name}', {type(model).__name__})"
    )


def check_family(
    checkpoint: Mapping[str, Any], path: str | Path, data: Mapping[str, Any], fix: str = ""
) -> None:
    """Refuse a checkpoint whose model was trained on another DataModule class than ``data`` builds.

    Raises:
        CheckpointError: naming the file, the family it holds and the family asked for.
    """
    hparams = checkpoint["hyper_parameters"]
    stored = (hparams.get("data") or {}).get("_target_")
    wanted = data.get("_target_")
    if not stored or not wanted or stored == wanted:
        return
    module = _class_name(checkpoint[MODULE_KEY])
    name = hparams.get("name") or module
    raise CheckpointError(
        f"{path}: holds a model of the {_class_name(stored)} family (model '{name}', {module}), and the "
        f"data asked for is of the {_class_name(wanted)} family "
        f"({wanted}); a model reads only the data of its own family. Use a checkpoint trained on "
        f"{_class_name(wanted)} data{', ' + fix if fix else ''}."
    )


def _module_class(checkpoint: Mapping[str, Any], path: str | Path) -> type[LightningModule]:
    name = checkpoint[MODULE_KEY]
    try:
        cls = get_class(name) if isinstance(name, str) else None
    except Exception:
        cls = None
    if not (isinstance(cls, type) and issubclass(cls, LightningModule)):
        raise CheckpointError(
            f"{path}: names the module class {name!r}, which is not an installed LightningModule."
        )
    return cls


def shape_mismatches(model: torch.nn.Module, state_dict: Mapping[str, torch.Tensor]) -> list[str]:
    """Parameters whose names or shapes differ between a module and a saved state, in words."""
    own = model.state_dict()
    out = []
    for key in sorted(set(own) | set(state_dict)):
        if key not in state_dict:
            out.append(f"{key} is not in the checkpoint")
        elif key not in own:
            out.append(f"{key} is in the checkpoint only")
        elif tuple(own[key].shape) != tuple(state_dict[key].shape):
            out.append(f"{key} is {tuple(state_dict[key].shape)} there, {tuple(own[key].shape)} here")
    return out


def load_model(path: str | Path, data: Mapping[str, Any] | None = None, fix: str = "") -> LightningModule:
    """Rebuild the trained module (in eval mode, on CPU) from a checkpoint.

    ``data`` and ``fix``: the data config it is to be used with, checked as by :func:`read_checkpoint`.
    """
    checkpoint = read_checkpoint(path, data, fix)
    model = _module_class(checkpoint, path)(**checkpoint["hyper_parameters"])
    problems = shape_mismatches(model, checkpoint["state_dict"])
    if problems:
        raise CheckpointError(
            f"{path}: its weights do not fit the model its own config builds ({'; '.join(problems[:3])}); "
            "the file is damaged or was edited."
        )
    model.load_state_dict(checkpoint["state_dict"])
    model.eval()
    log.info("loaded %s (epoch %s) from %s", checkpoint[MODULE_KEY], checkpoint.get("epoch"), path)
    return model


def fitted_state(model: LightningModule) -> Any:
    """The data's fitted state stored with a model (an encoder, a tokenizer...)."""
    return model.hparams[INPUTS_KEY]["state"]


def restore_datamodule(
    model: LightningModule, data: Mapping[str, Any] | None = None, **overrides: Any
) -> LightningDataModule:
    """The model's DataModule, rebuilt with its fitted state, from ``data`` or the stored data config.

    Raises:
        CheckpointError: no data config was given and the checkpoint stores none.
    """
    config = data if data is not None else model.hparams.get("data")
    if not config:
        raise CheckpointError(
            "the checkpoint stores no data config; pass one, e.g. `data=csv data.path=FILE`."
        )
    return instantiate(config, fitted_state=fitted_state(model), **overrides)
