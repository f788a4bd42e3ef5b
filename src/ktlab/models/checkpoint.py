"""Loading ktlab checkpoints: the model class, its network and its fitted encoder, from one file."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from hydra.utils import get_class
from lightning import LightningModule

from ktlab.data.encoding import InteractionEncoder
from ktlab.errors import CheckpointError

log = logging.getLogger(__name__)

MODULE_KEY = "ktlab_module"


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint file written by ``train.py`` (trusted: it is unpickled)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(
            f"{path}: no such checkpoint file. Pass ckpt_path=<run dir>/checkpoints/best.ckpt (or last.ckpt) "
            "of a finished training run."
        )
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # torch raises many types for a corrupt or foreign file
        raise CheckpointError(
            f"{path}: cannot be read as a PyTorch checkpoint ({type(err).__name__}: {err})."
        ) from None
    hparams = checkpoint.get("hyper_parameters", {}) if isinstance(checkpoint, dict) else {}
    if MODULE_KEY not in checkpoint or "encoder" not in hparams:
        raise CheckpointError(
            f"{path}: is not a ktlab checkpoint (it lacks the model class and the fitted encoder); use a "
            "checkpoint written by `python train.py`."
        )
    return checkpoint


def load_model(path: str | Path) -> tuple[LightningModule, InteractionEncoder]:
    """Rebuild the trained module (in eval mode, on CPU) and its encoder from a checkpoint."""
    checkpoint = read_checkpoint(path)
    module_class = get_class(checkpoint[MODULE_KEY])
    model = module_class(**checkpoint["hyper_parameters"])
    model.load_state_dict(checkpoint["state_dict"])
    model.eval()
    encoder = InteractionEncoder.from_state_dict(checkpoint["hyper_parameters"]["encoder"])
    log.info("loaded %s (epoch %s) from %s", checkpoint[MODULE_KEY], checkpoint.get("epoch"), path)
    return model, encoder
