"""Every option of every config group composes, and the CPU-side ones instantiate."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from lightning import Callback, Trainer
from lightning.pytorch.loggers import Logger

from ktlab.config_checks import check_config
from ktlab.errors import ConfigError
from ktlab.utils.instantiate import instantiate_group
from tests.conftest import CONF_DIR, model_family

GROUPS = [
    "data",
    "model",
    "trainer",
    "logger",
    "callbacks",
    "debug",
    "experiment",
    "hparams_search",
    "db",
    "registry",
]


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml") if not p.stem.startswith("_"))


CASES = [(group, option) for group in GROUPS for option in options(group)]
ASSETS = Path(__file__).parent / "assets"
#: Options of the question-text family, composed with the family's other half and tiny data.
TEXT_TINY = ["data.source.bank.n_questions=40", "data.source.students.n_students=20",
             "data.source.students.median_answers=12", "data.source.students.min_answers=8"]  # fmt: skip
PARTNERS: dict[tuple[str, str], list[str]] = {
    ("data", "questions_synthetic"): ["model=modernbert", *TEXT_TINY],
    ("data", "questions_eedi"): ["model=modernbert", f"data.source.bank.path={ASSETS / 'eedi_questions_sample.csv'}",
                                 "data.source.students.n_students=20"],
    ("data", "answers_csv"): ["model=modernbert", f"data.path={ASSETS / 'text_answers_sample.csv'}",
                              "data.val_fraction=0.2", "data.test_fraction=0.2"],
    ("data", "dbe_kt22_text"): ["model=modernbert", f"data.data_dir={ASSETS / 'dbe_kt22_sample'}"],
    ("data", "item_difficulty"): ["model=modernbert", f"data.path={ASSETS / 'dbe_kt22_sample' / 'items_difficulty.csv'}"],
}  # fmt: skip


def test_every_group_has_options() -> None:
    for group in ("data", "model", "trainer", "logger", "callbacks", "debug", "experiment", "hparams_search"):
        assert options(group), group


@pytest.mark.parametrize(("group", "option"), CASES, ids=[f"{g}={o}" for g, o in CASES])
def test_option_composes_and_instantiates(make_cfg, tmp_path: Path, group: str, option: str) -> None:
    overrides = [f"{group}={option}"]
    if group == "data" and option == "csv":
        sample = Path(__file__).parent / "assets" / "assist2009_sample.csv"
        overrides += [f"data.path={sample}", "data.context_features=[time_spent]", "data.query_features=[]"]
    if group == "data":  # the released-format sets read slices laid out like the released folders
        kt = Path(__file__).parent / "assets" / "kt"
        shutil.copytree(kt, tmp_path / "data", dirs_exist_ok=True)  # paths.data_dir of the composed config
        if option == "kt_lines":
            overrides += [f"data.train={kt / 'synthetic5' / 'naive_c5_q50_s4000_v0_train.csv'}"]
            overrides += [f"data.test={kt / 'synthetic5' / 'naive_c5_q50_s4000_v0_test.csv'}"]
    overrides += PARTNERS.get((group, option), [])
    if (
        group == "model" and model_family(option) == "text"
    ):  # composed with the family's data, tiny, one student
        overrides += ["data=questions_synthetic", *TEXT_TINY, "data.student_rank=0"]
    if group == "experiment" and option.startswith("text_"):
        overrides += TEXT_TINY
    cfg = make_cfg("train", *overrides)
    if group == "trainer" and option in ("gpu", "mps"):
        assert cfg.trainer.accelerator == option and cfg.trainer.precision == "bf16-mixed"
        present = torch.cuda.is_available() if option == "gpu" else torch.backends.mps.is_available()
        if not present:  # refused up front, naming the device asked for and those there are
            with pytest.raises(ConfigError, match=f"trainer.accelerator={option}: this machine has no"):
                check_config(cfg)
        return  # instantiating needs the hardware: see test_gpu.py
    check_config(cfg)
    if group == "data" and option == "db":
        return  # needs a database with answers: see tests/db
    datamodule = instantiate(cfg.data)
    if group in ("data", "model", "experiment"):
        datamodule.prepare_data()
        datamodule.setup("fit")
        model = instantiate(cfg.model, inputs=datamodule.model_inputs())
        assert model.net is not None
    if group == "trainer" and option == "ddp":
        assert cfg.trainer.strategy == "ddp" and cfg.trainer.devices == 2
        return  # spawning processes is the slow DDP test's job
    for callback in instantiate_group(cfg.get("callbacks"), "callback"):
        assert isinstance(callback, Callback)
    for logger in instantiate_group(cfg.get("logger"), "logger"):
        assert isinstance(logger, Logger)
    assert isinstance(instantiate(cfg.trainer, logger=False), Trainer)


def test_eval_and_predict_configs_compose(make_cfg) -> None:
    cfg = make_cfg("eval", "ckpt_path=x.ckpt", tiny=False)
    assert cfg.split == "test" and cfg.get("data") is None
    cfg = make_cfg("predict", "ckpt_path=x.ckpt", "input=h.csv", tiny=False)
    assert cfg.output.endswith("predictions.csv")


def test_check_config_reports_every_problem(make_cfg) -> None:
    cfg = make_cfg("train", "data.max_len=0", "model.net.dropout=1.5", "model.optimizer.lr=-1")
    with pytest.raises(ConfigError) as info:
        check_config(cfg)
    message = str(info.value)
    for part in (
        "data.max_len=0: must be >= 2; set data.max_len",
        "model.net.dropout=1.5",
        "model.optimizer.lr=-1",
    ):
        assert part in message


def test_network_settings_have_one_name(make_cfg) -> None:
    """`model.net.hidden_dim=...` (as in a sweep) sets the network's setting; a stray key is refused."""
    cfg = make_cfg("train", "model.net.hidden_dim=24", "model.net.dropout=0.1", tiny=False)
    module = instantiate(cfg.model, inputs={"dims": {"n_skills": 3}, "state": {}})
    assert module.net.rnn.hidden_size == 24 and module.hparams.net["hidden_dim"] == 24
    assert "hidden_dim" not in cfg.model  # no second spelling at model level
    cfg = make_cfg("train", "+model.net.hiden_dim=24", tiny=False)
    with pytest.raises(ConfigError) as info:
        check_config(cfg)
    assert "model.net.hiden_dim: RecurrentTracer takes no such argument" in str(info.value)
