"""Lightning wrapper shared by every next-step knowledge-tracing network.

The wrapped network is built from config inside the module, so a checkpoint alone rebuilds it: the
checkpoint's hyperparameters hold the network config, the data's ``inputs`` (sizes and fitted state, see
:meth:`ktlab.data.datamodule.KTDataModule.model_inputs`) and the data config. A network takes the batch
dict of :class:`~ktlab.data.batching.WindowCollator` and returns logits ``[B, T]`` where position ``t``
predicts step ``t`` from the steps before it, or a :class:`~ktlab.models.output.NetOutput` whose
``aux_loss`` is added to the training loss.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from typing import Any

import torch
from hydra.utils import get_class, instantiate
from lightning import LightningModule
from omegaconf import DictConfig, ListConfig, OmegaConf
from torch import nn
from torchmetrics import MaxMetric, MeanMetric, MetricCollection

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.errors import ConfigError
from ktlab.evaluation.epoch_metrics import DefinedAUROC, stage_metrics
from ktlab.evaluation.protocols import NextStepProtocol
from ktlab.models.checkpoint import load_running_best, mark_checkpoint, save_running_best
from ktlab.models.length_groups import run_grouped
from ktlab.models.losses import masked_bce_with_logits, per_answer_scale
from ktlab.models.optim import configure_optimization
from ktlab.models.output import split_output

log = logging.getLogger(__name__)


def plain(value: Any) -> Any:
    """A config node as plain Python containers (what a checkpoint may hold)."""
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=True)
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


#: How the training loss is scaled (see ``KTLitModule``).
LOSS_SCALES = ("batch", "answers")


def build_network(net: Mapping[str, Any], dims: Mapping[str, Any]) -> nn.Module:
    """Instantiate the network config with the data sizes its constructor takes (all of them for ``**kwargs``)."""
    params = inspect.signature(get_class(net["_target_"])).parameters
    if dims.get("item_vec_dim") and "item_vec_dim" not in params:
        raise ConfigError(
            f"{net['_target_']} does not read question texts (its constructor takes no item_vec_dim), but "
            "data.item_features names question_text; drop question_text or choose a model that reads it "
            "(dkt, dkt_gru, akt)."
        )
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        dims = {key: value for key, value in dims.items() if key in params}
    return instantiate(dict(net), **dims)


class KTLitModule(LightningModule):
    """Trains and evaluates a next-step correctness network.

    Args:
        net: config of the network (``_target_`` plus its arguments, without the data sizes).
        optimizer: partial optimizer config (``_partial_: true``); gets the parameters here.
        inputs: what the DataModule hands the model (``model_inputs()``): ``dims``, the sizes passed to the
            network, ``state``, the fitted encoder, stored for ``eval.py`` / ``predict.py``, and
            ``answers_per_batch`` (see ``loss_scale``).
        scheduler: optional partial LR scheduler config; ``monitor`` names the metric it reads.
        name: the model's name, for logs and the model registry.
        data: the data config the model was trained with, so evaluation can reuse it.
        loss_scale: ``"answers"`` (default): the training loss is the sum over the batch's scored
            answers divided by the mean number of scored answers per training batch
            (``inputs["answers_per_batch"]``), so an answer weighs the same in a batch of short windows as
            in one of long windows. Length-bucketed batches hold windows of similar lengths: under
            ``"batch"`` (the mean over the batch's scored answers) the few answers of a batch of short
            windows weigh as much as the many of a batch of long ones. Measured with DKT on ASSISTments
            2009: test AUC 0.8113 under ``"batch"``, 0.8215 under ``"answers"``, at the same speed.
            Validation and test losses are means over answers either way.
        protocol: config (``_target_``) of the :class:`~ktlab.evaluation.Protocol` that decides which answers
            are scored and trained on; None: :class:`~ktlab.evaluation.NextStepProtocol`
            (``+model.protocol._target_=...`` sets another).
        length_groups: run each batch in up to this many groups of windows of similar length, each cut to
            its longest window (:mod:`ktlab.models.length_groups`): the same logits and gradients with less
            padding, for batches that mix long and short windows (pyKT's file-order batches; 8 under
            ``experiment=pykt``). 1: the batch runs whole.
    """

    def __init__(
        self,
        net: Mapping[str, Any],
        optimizer: Mapping[str, Any],
        inputs: Mapping[str, Any],
        scheduler: Mapping[str, Any] | None = None,
        name: str = "kt",
        data: Mapping[str, Any] | None = None,
        loss_scale: str = "answers",
        protocol: Mapping[str, Any] | None = None,
        length_groups: int = 1,
    ) -> None:
        super().__init__()
        raise_problems("model", self.check_args({"loss_scale": loss_scale, "length_groups": length_groups}))
        self.save_hyperparameters(
            {
                "net": plain(net),
                "optimizer": plain(optimizer),
                "inputs": plain(inputs),
                "scheduler": plain(scheduler),
                "name": name,
                "data": plain(data),
                "loss_scale": loss_scale,
                "protocol": plain(protocol),
                "length_groups": length_groups,
            }
        )
        self.net = build_network(self.hparams.net, self.hparams.inputs["dims"])
        # which answers are scored and trained on, in training as in evaluation (a ktlab.evaluation protocol)
        self.protocol = instantiate(protocol) if protocol else NextStepProtocol()
        self.train_metrics = stage_metrics("train")
        self.val_metrics = stage_metrics("val")
        self.test_metrics = stage_metrics("test")
        self.train_loss, self.val_loss, self.test_loss = MeanMetric(), MeanMetric(), MeanMetric()
        self.train_aux_loss = MeanMetric()
        self.val_oracle_auc, self.test_oracle_auc = DefinedAUROC(), DefinedAUROC()
        self.val_auc_best = MaxMetric()

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the module's own arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.one_of("loss_scale", LOSS_SCALES)
        checks.integer("length_groups", 1)
        return checks.problems

    def on_fit_start(self) -> None:
        if self.hparams.loss_scale == "answers" and not self.hparams.inputs.get("answers_per_batch"):
            raise ConfigError(
                "model.loss_scale=answers needs the mean number of answers per training batch "
                "(inputs['answers_per_batch']), which this data module does not give; set model.loss_scale=batch"
            )

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits ``[B, T]`` of a batch."""
        logits, _ = split_output(self.run_net(self.net, batch))
        return logits

    def run_net(self, fn: Any, batch: dict[str, torch.Tensor]) -> Any:
        """``fn(batch)`` (the network, or a part of it returning ``[B, T, ...]``) in length groups."""
        return run_grouped(fn, batch, self.hparams.length_groups)

    # ------------------------------------------------------------------ steps
    def _step(
        self,
        batch: dict[str, torch.Tensor],
        metrics: MetricCollection,
        loss_metric: MeanMetric,
        oracle: DefinedAUROC | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        logits, aux_loss = split_output(self.run_net(self.net, batch))  # [B, T]
        target = batch["correct"]
        scored = self.protocol.scored(batch)
        loss, count = masked_bce_with_logits(logits, target, scored)
        loss_metric.update(loss.detach(), weight=count)
        if self.training and self.hparams.loss_scale == "answers":
            loss = per_answer_scale(loss, count, self.hparams.inputs["answers_per_batch"])
        answers = target[scored].long()
        metrics.update(torch.sigmoid(logits.detach()[scored].float()), answers)
        if oracle is not None:
            p_true = batch["p_true"][scored]
            known = torch.isfinite(p_true)
            if bool(known.any()):
                oracle.update(p_true[known], answers[known])
        return loss, aux_loss, logits.detach()

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, aux_loss, _ = self._step(batch, self.train_metrics, self.train_loss)
        if aux_loss is None:
            return loss
        self.train_aux_loss.update(aux_loss.detach())
        return loss + aux_loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, self.val_metrics, self.val_loss, self.val_oracle_auc)

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        """Scores the batch; returns its logits ``[B, T]`` for callbacks that keep per-answer predictions
        (:class:`~ktlab.evaluation.answers.AnswerRecorder`)."""
        return self._step(batch, self.test_metrics, self.test_loss, self.test_oracle_auc)[2]

    # ------------------------------------------------------------------ epoch ends
    def _log_epoch(
        self, stage: str, metrics: MetricCollection, loss: MeanMetric, extra: dict[str, Any]
    ) -> dict[str, torch.Tensor]:
        """Compute, log and reset a stage's metrics (torchmetrics' documented epoch-end pattern)."""
        values = {**metrics.compute(), f"{stage}/loss": loss.compute()}
        for key, metric in extra.items():
            if metric.update_called:
                values[key] = metric.compute()
            metric.reset()
        self.log_dict(values, prog_bar=stage != "train")
        metrics.reset()
        loss.reset()
        return values

    def on_train_epoch_end(self) -> None:
        self._log_epoch("train", self.train_metrics, self.train_loss, {"train/aux_loss": self.train_aux_loss})

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:  # the sanity check counts towards no metric
            for metric in (self.val_metrics, self.val_loss, self.val_oracle_auc):
                metric.reset()
            return
        values = self._log_epoch(
            "val", self.val_metrics, self.val_loss, {"val/oracle_auc": self.val_oracle_auc}
        )
        if torch.isfinite(values["val/auc"]):
            self.val_auc_best.update(values["val/auc"])
        if self.val_auc_best.update_called:
            self.log("val/auc_best", self.val_auc_best.compute(), prog_bar=True)

    def on_test_epoch_end(self) -> None:
        self._log_epoch("test", self.test_metrics, self.test_loss, {"test/oracle_auc": self.test_oracle_auc})

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        mark_checkpoint(checkpoint, self)
        save_running_best(checkpoint, self.val_auc_best)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        load_running_best(checkpoint, self.val_auc_best)

    # ------------------------------------------------------------------ optimization
    def configure_optimizers(self) -> Any:
        return configure_optimization(self, self.hparams.optimizer, self.hparams.scheduler)
