"""Lightning wrapper shared by every next-step knowledge-tracing network.

The wrapped network is built from config inside the module, so a checkpoint alone rebuilds it: the
checkpoint's hyperparameters hold the network config, the data dimensions and the fitted encoder.
A network takes the batch dict of :class:`~ktlab.data.batching.WindowCollator` and returns logits
``[B, T]`` where position ``t`` predicts step ``t`` from the steps before it.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from hydra.utils import instantiate
from lightning import LightningModule
from lightning.pytorch.plugins.precision import MixedPrecision
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torchmetrics import MaxMetric

from ktlab.errors import ConfigError
from ktlab.models.losses import masked_bce_with_logits
from ktlab.models.metrics import ExactAUC, LogitAccuracy, MeanLoss
from ktlab.models.optim import build_optimizer

log = logging.getLogger(__name__)

STAGES = ("train", "val", "test")


def _plain(value: Any) -> Any:
    return OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig) else value


class KTLitModule(LightningModule):
    """Trains and evaluates a next-step correctness network.

    Args:
        net: config of the network (``_target_`` plus its arguments, without the data dimensions).
        optimizer: partial optimizer config (``_partial_: true``); gets the parameters here.
        dims: data dimensions passed to the network (from the fitted encoder).
        encoder: the fitted encoder's state, stored for ``eval.py`` / ``predict.py``.
        scheduler: optional partial LR scheduler config; ``monitor`` names the metric it reads.
        name: the model's name, for logs and the model registry.
        data: the data config the model was trained with, so evaluation can reuse it.
        shortcuts: model-level copies of network settings that ``net`` reads by interpolation
            (``hidden_dim: 128`` beside ``net.hidden_dim: ${model.hidden_dim}``), so a sweep can say
            ``model.hidden_dim=64,128``. They act only through ``net``; each must name a key of ``net``.
    """

    def __init__(
        self,
        net: dict[str, Any],
        optimizer: dict[str, Any],
        dims: dict[str, Any],
        encoder: dict[str, Any],
        scheduler: dict[str, Any] | None = None,
        name: str = "kt",
        data: dict[str, Any] | None = None,
        **shortcuts: Any,
    ) -> None:
        super().__init__()
        stray = sorted(key for key in shortcuts if key not in net)
        if stray:
            raise ConfigError(
                f"model.{stray[0]}={shortcuts[stray[0]]}: the model config has no such setting "
                f"(the network's settings are {', '.join(k for k in net if not k.startswith('_'))}); "
                f"set model.net.<setting> or one of the model's short names."
            )
        self.save_hyperparameters(
            {
                "net": _plain(net),
                "optimizer": _plain(optimizer),
                "dims": dict(dims),
                "encoder": encoder,
                "scheduler": _plain(scheduler),
                "name": name,
                "data": _plain(data),
            }
        )
        self.net: nn.Module = instantiate(self.hparams.net, **self.hparams.dims)
        for stage in STAGES:
            setattr(self, f"{stage}_loss", MeanLoss())
            setattr(self, f"{stage}_auc", ExactAUC())
            setattr(self, f"{stage}_acc", LogitAccuracy())
        self.val_oracle_auc = ExactAUC()
        self.test_oracle_auc = ExactAUC()
        self.val_auc_best = MaxMetric()
        self._logged: set[str] = set()

    def __setattr__(self, name: str, value: Any) -> None:
        # Lightning records the running hook's name at every hook call, about 40 times per training step;
        # nn.Module.__setattr__ first checks the value against parameters, buffers and submodules, which a
        # hook name (a string or None) never is.
        if name == "_current_fx_name":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.net(batch)

    # ------------------------------------------------------------------ steps
    def _step(self, batch: dict[str, torch.Tensor], stage: str) -> torch.Tensor:
        logits = self.net(batch)  # [B, T]
        target = batch["correct"]
        scored = batch["mask"].clone()
        scored[:, 0] = False  # the first step of a window has no history to predict from
        loss, count = masked_bce_with_logits(logits, target, scored)
        logit = logits.detach()
        getattr(self, f"{stage}_loss").update(loss, count)
        getattr(self, f"{stage}_auc").update(logit, target, scored)
        getattr(self, f"{stage}_acc").update(logit, target, scored)
        self._log_metric(stage, "loss", prog_bar=True)
        self._log_metric(stage, "auc", prog_bar=stage != "train")
        self._log_metric(stage, "acc")
        if stage in ("val", "test"):
            p_true = batch["p_true"]
            known = scored & torch.isfinite(p_true)
            if known.any():
                getattr(self, f"{stage}_oracle_auc").update(p_true, target, known)
                self._log_metric(stage, "oracle_auc")
        return loss

    def _log_metric(self, stage: str, name: str, prog_bar: bool = False) -> None:
        """Log ``<stage>/<name>`` once per epoch; its value is computed at epoch end from every update.

        Each ``self.log`` call costs Lightning a pass over the logged entry (about 2 ms on a CPU, whatever
        the value), and for a metric object also a move of its whole state: AUROC keeps every prediction
        of the epoch, so logging it at every step would cost time quadratic in the number of steps. The
        metrics (the loss included, as a mean weighted by scored answers) are updated at every step and
        registered with one call per epoch; the epoch values are the same.
        """
        key = f"{stage}/{name}"
        if key in self._logged:
            return
        self._logged.add(key)
        self.log(key, getattr(self, f"{stage}_{name}"), on_step=False, on_epoch=True, prog_bar=prog_bar)

    def _forget_logged(self, stage: str) -> None:
        self._logged = {key for key in self._logged if not key.startswith(f"{stage}/")}

    def on_train_epoch_start(self) -> None:
        self._forget_logged("train")

    def on_validation_epoch_start(self) -> None:
        self._forget_logged("val")

    def on_test_epoch_start(self) -> None:
        self._forget_logged("test")

    def on_train_start(self) -> None:
        # The sanity check must not count towards the first epoch's metrics or the best score.
        for metric in (self.val_auc, self.val_acc, self.val_oracle_auc, self.val_auc_best):
            metric.reset()

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            return
        self.val_auc_best(self.val_auc.compute())
        self.log("val/auc_best", self.val_auc_best.compute(), sync_dist=True, prog_bar=True)

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "test")

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["ktlab_module"] = f"{type(self).__module__}.{type(self).__qualname__}"

    # ------------------------------------------------------------------ optimization
    def configure_optimizers(self) -> Any:
        # Lightning refuses to clip the gradients of a fused optimizer under mixed precision.
        mixed = isinstance(self.trainer.precision_plugin, MixedPrecision)
        allow_fused = not (mixed and self.trainer.gradient_clip_val)
        optimizer = build_optimizer(instantiate(self.hparams.optimizer), self.parameters(), allow_fused)
        scheduler_cfg = self.hparams.scheduler
        if not scheduler_cfg:
            return optimizer
        scheduler_cfg = dict(scheduler_cfg)
        monitor = scheduler_cfg.pop("monitor", "val/auc")
        interval = scheduler_cfg.pop("interval", "epoch")
        scheduler = instantiate(scheduler_cfg)(optimizer=optimizer)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {
                "scheduler": scheduler,
                "monitor": monitor,
                "interval": interval,
                "frequency": 1,
            },
        }
