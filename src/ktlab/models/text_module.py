"""Lightning module of the question-text students: one student's model, or all students pooled.

The network is picked by its class (``model.net._target_``), as for the sequence models:
``PerStudentNet`` (``model=modernbert_per_student``) trains one sequence classifier for the student that
``data.student_rank`` selects (a multirun over the rank trains the top N, each in its own folder);
``PooledNet`` (``model=modernbert``) one model for all students (see
:mod:`ktlab.models.components.text_encoder`). The checkpoint holds plain data
only: the encoder's Hugging Face config (``hf_config``), the tokenizer's JSON and the student vocabulary
(``inputs``), the data config; so ``load_model`` rebuilds the module without downloading anything.

Metrics per stage: ``<stage>/loss``, ``/auc``, ``/acc``, ``/f1_weighted`` (the support-weighted F1 over
both classes, as scikit-learn's ``f1_score(average="weighted")``) and, where the data knows the true
success probabilities, ``/oracle_auc``; ``val/auc_best`` is the best validation AUC so far.

Direct difficulty regression: when the data's targets are success rates, not answers
(``model_inputs()["dims"]["target"] == "success_rate"``, as ``data=item_difficulty`` serves them: one row
per question, its observed rate in ``correct``, no students), the same network and loss (binary
cross-entropy against the rate, a soft label) train a regression of each question's success rate, and the
metrics are those of :class:`~ktlab.evaluation.rate_metrics.RateMetrics` (``/rmse``, ``/spearman``, and
``/auc`` of the rates against the answers they stand for).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from hydra.utils import get_class
from lightning import LightningModule
from torchmetrics import MaxMetric

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.errors import ConfigError
from ktlab.evaluation.epoch_metrics import StageMetrics
from ktlab.evaluation.rate_metrics import RateMetrics
from ktlab.models.checkpoint import load_running_best, mark_checkpoint, save_running_best
from ktlab.models.components.text_encoder import encoder_config
from ktlab.models.kt_module import plain
from ktlab.models.optim import configure_optimization

log = logging.getLogger(__name__)


class TextStudentModule(LightningModule):
    """Trains and evaluates question-text students.

    Args:
        net: the network's config: ``_target_`` (``PooledNet`` or ``PerStudentNet`` of
            :mod:`ktlab.models.components.text_encoder`) and its own settings (``student_dim``).
        optimizer: partial optimizer config (``_partial_: true``).
        inputs: the DataModule's ``model_inputs()`` (tokenizer sizes and ids, students; the fitted state).
        encoder: settings of the small ModernBERT built from config (ignored with ``pretrained``).
        pretrained: a hub name or a local directory to load the encoder's weights from (null: from config).
        scheduler: optional partial LR scheduler config.
        name: the model's name, for logs and the registry.
        data: the data config the model was trained with.
        hf_config: the resolved encoder config; a checkpoint stores it so that it rebuilds offline.
        export_dir: after testing, save the model here with ``save_pretrained`` (with its tokenizer).
        hub_repo_id: also push the export to this Hugging Face hub repository (null: never).
    """

    def __init__(
        self,
        net: Mapping[str, Any],
        optimizer: Mapping[str, Any],
        inputs: Mapping[str, Any],
        encoder: Mapping[str, Any] | None = None,
        pretrained: str | None = None,
        scheduler: Mapping[str, Any] | None = None,
        name: str = "modernbert",
        data: Mapping[str, Any] | None = None,
        hf_config: Mapping[str, Any] | None = None,
        export_dir: str | None = None,
        hub_repo_id: str | None = None,
    ) -> None:
        super().__init__()
        raise_problems("model", self.check_args({"net": net}))
        net = plain(net)
        network = get_class(net["_target_"])
        if (
            getattr(network, "one_student", False)
            and data is not None
            and data.get("student_rank", 0) is None
        ):
            raise ConfigError(
                f"model.net._target_={net['_target_']} trains one model per student, and data.student_rank is "
                "not set; pass data.student_rank=K (0: the most active student), or train the top N students "
                "with `python train.py -m experiment=text_per_student`; use model=modernbert for one model of all."
            )
        dims = inputs["dims"]
        stored = bool(hf_config)  # rebuilt from a checkpoint, whose weights replace these
        hf_config = plain(hf_config) if hf_config else encoder_config(plain(encoder) or {}, pretrained, dims)
        self.save_hyperparameters({
            "net": net, "optimizer": plain(optimizer), "inputs": plain(inputs), "encoder": plain(encoder),
            "pretrained": pretrained, "scheduler": plain(scheduler), "name": name, "data": plain(data),
            "hf_config": hf_config,
        })  # fmt: skip
        # a checkpoint rebuilds from hf_config (loading the weights it holds), a training run loads `pretrained`
        settings = {key: value for key, value in net.items() if key != "_target_"}
        self.net = network(hf_config, n_students=int(dims["n_students"]),
                           pretrained=None if stored else pretrained, **settings)  # fmt: skip
        self.export_dir, self.hub_repo_id = export_dir, hub_repo_id
        #: what the data's ``correct`` holds: ``answer`` (0/1) or ``success_rate`` (a question's observed rate)
        self.target = str(dims.get("target", "answer"))
        metrics = RateMetrics if self.target == "success_rate" else StageMetrics
        self.train_stage, self.val_stage, self.test_stage = (metrics(s) for s in ("train", "val", "test"))
        self.stages = {"train": self.train_stage, "val": self.val_stage, "test": self.test_stage}
        self.val_auc_best = MaxMetric()

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The module's own problems (the network checks its settings itself)."""
        checks = Checks(args)
        checks.require(
            "net",
            lambda v: isinstance(v, Mapping) and "_target_" in v,
            "must name the network's class in _target_ (PooledNet or PerStudentNet of "
            "ktlab.models.components.text_encoder)",
        )
        return checks.problems

    def forward(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Success logits of the batch's answers ``[B]``."""
        return self.net(batch)

    @torch.no_grad()
    def success_probability(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Predicted success probability of each answer of the batch ``[B]``."""
        return torch.sigmoid(self.net(batch).float())

    # ------------------------------------------------------------------ steps
    def _step(self, batch: Mapping[str, torch.Tensor], stage: str) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch's loss and its success logits ``[B]`` (detached)."""
        logits = self.net(batch).float()  # [B]
        target = batch["correct"]  # [B] 0/1 answers, or success rates in [0, 1]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
        observed = target if self.target == "success_rate" else target.long()
        p = torch.sigmoid(logits.detach())
        self.stages[stage].update(loss.detach(), p, observed, batch["p_true"])
        return loss, logits.detach()

    def training_step(self, batch: Mapping[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")[0]

    def validation_step(self, batch: Mapping[str, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: Mapping[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        """Scores the batch; returns its success logits ``[B]`` for callbacks that keep per-answer
        predictions (:class:`~ktlab.evaluation.answers.AnswerRecorder`)."""
        return self._step(batch, "test")[1]

    # ------------------------------------------------------------------ epoch ends
    def _log_epoch(self, stage: str) -> dict[str, torch.Tensor]:
        values = self.stages[stage].compute()
        self.log_dict(values, prog_bar=stage != "train")
        self.stages[stage].reset()
        return values

    def on_train_epoch_end(self) -> None:
        self._log_epoch("train")

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            self.val_stage.reset()
            return
        values = self._log_epoch("val")
        if torch.isfinite(values["val/auc"]):
            self.val_auc_best.update(values["val/auc"])
        if self.val_auc_best.update_called:
            self.log("val/auc_best", self.val_auc_best.compute(), prog_bar=True)

    def on_test_epoch_end(self) -> None:
        self._log_epoch("test")

    def on_test_end(self) -> None:
        if self.export_dir and self.trainer.is_global_zero:
            self.export(self.export_dir)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        mark_checkpoint(checkpoint, self)
        save_running_best(checkpoint, self.val_auc_best)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        load_running_best(checkpoint, self.val_auc_best)

    def configure_optimizers(self) -> Any:
        return configure_optimization(self, self.hparams.optimizer, self.hparams.scheduler)

    # ------------------------------------------------------------------ export
    def export(self, directory: str | Path) -> Path:
        """Save the network with ``save_pretrained`` and its tokenizer; push to the hub only if asked."""
        from ktlab.data.text.tokenizer import hf_tokenizer

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.net.export(directory)
        tokenizer = hf_tokenizer(self.hparams.inputs["state"]["tokenizer"])
        tokenizer.save_pretrained(directory)
        log.info("exported the %s model with its tokenizer to %s", self.hparams.name, directory)
        if self.hub_repo_id:
            from huggingface_hub import upload_folder

            upload_folder(repo_id=self.hub_repo_id, folder_path=str(directory))
            log.info("pushed %s to the hub repository %s", directory, self.hub_repo_id)
        return directory
