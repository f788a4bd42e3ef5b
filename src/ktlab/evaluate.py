"""Evaluation entry point: score a checkpoint on a split of a data set and write ``metrics.json``.

Beside it, ``predictions.csv`` holds one row per scored answer with its label and probability
(``student_id, t, problem_id, skill_id, correct, p_correct`` for the sequence models; ``student_id,
problem_id, correct, p_correct`` for the question-text students), from which every metric can be
recomputed without the model (see :mod:`ktlab.evaluation.answers`). Without a ``data`` override, the data config stored in the checkpoint is used, with the checkpoint's
fitted state, so ``eval.py`` on the test split reproduces the test metrics of ``train.py``.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from ktlab.checks import Checks, raise_problems
from ktlab.cli import report_user_errors
from ktlab.config_checks import check_config
from ktlab.data.io import write_table
from ktlab.evaluation.answers import AnswerRecorder
from ktlab.evaluation.suites import protocol_record, protocol_test_metrics
from ktlab.models.checkpoint import load_model, restore_datamodule
from ktlab.utils.instantiate import instantiate_group
from ktlab.utils.logging import get_logger
from ktlab.utils.metrics_io import to_floats, write_metrics
from ktlab.utils.quiet import quiet_libraries, terminal_progress_bar

log = get_logger(__name__)

EVAL_SPLITS = ("test", "val", "train", "all")


def evaluate(cfg: DictConfig) -> dict[str, float | None]:
    """Score ``cfg.ckpt_path`` on ``cfg.split`` and return metrics named ``<split>/auc`` etc."""
    split = cfg.get("split", "test")
    checks = Checks({"split": split})
    checks.one_of("split", EVAL_SPLITS)
    raise_problems("evaluation", checks.problems)
    quiet_libraries()
    check_config(cfg)
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True, verbose=False)
    data_cfg = cfg.get("data")
    if data_cfg is not None:
        data_cfg = OmegaConf.to_container(data_cfg, resolve=True)
    model = load_model(cfg.ckpt_path, data_cfg, "or leave the data override out to use the checkpoint's own")
    if data_cfg is None:
        log.info("Evaluating on the checkpoint's own data config <%s>", model.hparams.data["_target_"])
    datamodule = restore_datamodule(model, data_cfg, **own_output(model, data_cfg, cfg.paths.output_dir))
    datamodule.prepare_data()
    datamodule.setup("test")
    loader = datamodule.dataloader(split, shuffle=False)

    loggers = instantiate_group(cfg.get("logger"), "logger")
    recorder = AnswerRecorder()  # keeps the per-answer predictions of the same test pass
    callbacks, progress = terminal_progress_bar([recorder])  # Lightning's own bar, on a terminal only
    trainer: L.Trainer = instantiate(cfg.trainer, logger=loggers or False, callbacks=callbacks, **progress)
    trainer.test(model=model, dataloaders=loader)
    metrics = {
        key.replace("test/", f"{split}/", 1): value
        for key, value in to_floats(trainer.callback_metrics).items()
    }
    if split == "test":  # a data protocol's own test metrics (pyKT's)
        metrics.update(to_floats(protocol_test_metrics(model, datamodule)))
    path = write_metrics(
        Path(cfg.paths.output_dir) / "metrics.json",
        metrics,
        checkpoint=str(cfg.ckpt_path),
        split=split,
        **protocol_record(datamodule),
    )
    log.info("Metrics written to %s", path)
    answers = recorder.table(datamodule, split)
    if answers is not None:
        table = write_table(answers, Path(cfg.paths.output_dir) / "predictions.csv")
        log.info("%d scored answers and their predictions written to %s", len(answers), table)
    return metrics


def own_output(model: L.LightningModule, data_cfg: dict | None, output_dir: str | Path) -> dict[str, str]:
    """Where the checkpoint's own data config writes its built files, moved into this run's folder.

    A stored data config holds its ``cache_dir`` resolved to the training run's folder (``data=pykt``
    writes its split and sequence files there); evaluation writes them into its own output folder under
    the same name instead, so the training run's files are never modified. A ``data`` override resolves
    ``cache_dir`` against this run already and is left as it is.
    """
    if data_cfg is not None:
        return {}
    cache_dir = (model.hparams.get("data") or {}).get("cache_dir")
    return {"cache_dir": str(Path(output_dir) / Path(str(cache_dir)).name)} if cache_dir else {}


@report_user_errors
def run(cfg: DictConfig) -> dict[str, float | None]:
    return evaluate(cfg)
