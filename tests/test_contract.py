"""The data-to-model contract: a second family through train -> checkpoint -> eval, safe checkpoints,
checks that live with their owners, the released split and problem ids, and one name per setting."""

from __future__ import annotations

import inspect
import pickle
import re
import shlex
import typing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hydra.utils import get_class
from omegaconf import OmegaConf, open_dict

from ktlab.data.datamodule import KTDataModule
from ktlab.data.sources import FileSource
from ktlab.data.synthetic import ClassroomConfig, generate_classroom
from ktlab.errors import CheckpointError, ConfigError, DataValidationError
from ktlab.evaluate import evaluate
from ktlab.models.checkpoint import load_model, read_checkpoint
from ktlab.train import train
from tests.conftest import CONF_DIR, ROOT

TOY_DATA = {"_target_": "tests.families.toy.PointsDataModule", "n_points": 400, "batch_size": 50}
TOY_MODEL = {
    "_target_": "tests.families.toy.PointsModule",
    "_recursive_": False,
    "name": "points",
    "optimizer": {"_target_": "torch.optim.SGD", "_partial_": True, "lr": 0.5},
}


def test_another_family_trains_checkpoints_and_evaluates(make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg("train", "trainer.max_epochs=3")
    with open_dict(cfg):
        cfg.data = OmegaConf.create(TOY_DATA)
        cfg.model = OmegaConf.create(TOY_MODEL)
    trained = train(cfg)
    assert trained["test/auc"] > 0.8
    ckpt = Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt"
    assert read_checkpoint(ckpt)["hyper_parameters"]["inputs"]["state"]["mean"]  # the fitted state, stored
    evaluated = evaluate(make_cfg("eval", f"ckpt_path={ckpt}", tiny=False))
    assert evaluated["test/auc"] == pytest.approx(trained["test/auc"], abs=1e-6)


def test_a_checkpoint_that_would_run_code_is_refused_unrun(tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    crafted = tmp_path / "crafted.ckpt"
    crafted.write_bytes(pickle.dumps({"state_dict": Payload()}))
    with pytest.raises(CheckpointError, match="refused"):
        load_model(crafted)
    assert not marker.exists()
    torch.save({"state_dict": {}}, tmp_path / "foreign.ckpt")
    with pytest.raises(CheckpointError, match="not a ktlab checkpoint"):
        read_checkpoint(tmp_path / "foreign.ckpt")


def _numeric_params(cls: type) -> list[str]:
    hints = typing.get_type_hints(cls.__init__)
    return [
        name
        for name in inspect.signature(cls).parameters
        if (hints.get(name) in (int, float, int | None, float | None) and not name.startswith("n_"))
        or name.startswith("n_")
    ]


def _targets(node: object) -> list[str]:
    """Every ``_target_`` of a config node and the nodes below it."""
    if isinstance(node, dict):
        own = [node["_target_"]] if isinstance(node.get("_target_"), str) else []
        return own + [t for value in node.values() for t in _targets(value)]
    if isinstance(node, list):
        return [t for value in node for t in _targets(value)]
    return []


def _option(group: str, name: str) -> dict:
    """``conf/<group>/<name>.yaml`` merged over the options of its group it lists in ``defaults``."""
    node = OmegaConf.to_container(OmegaConf.load(CONF_DIR / group / f"{name}.yaml"))
    merged = OmegaConf.create()
    for entry in node.pop("defaults", []):
        if isinstance(entry, str) and entry != "_self_":
            merged = OmegaConf.merge(merged, _option(group, entry))
    return OmegaConf.to_container(OmegaConf.merge(merged, node))


def _configured_classes(group: str) -> dict[str, list[type]]:
    """The ktlab classes each option of ``conf/<group>/`` builds (modules, networks, DataModules, sources)."""
    options = {
        p.stem: _targets(_option(group, p.stem)) for p in sorted((CONF_DIR / group).glob("[!_]*.yaml"))
    }
    return {
        name: [get_class(t) for t in targets if t.startswith("ktlab.")] for name, targets in options.items()
    }


def _component_classes() -> list[type]:
    """The classes with numeric arguments among those ``conf/model/`` and ``conf/data/`` build."""
    found = {
        cls
        for group in ("model", "data")
        for classes in _configured_classes(group).values()
        for cls in classes
    }
    return sorted(
        (c for c in found if hasattr(c, "check_args") and _numeric_params(c)), key=lambda c: c.__name__
    )


def test_every_model_option_checks_its_own_arguments() -> None:
    """A new ``conf/model/*.yaml`` enters the argument checks below by itself: its classes check their own."""
    options = _configured_classes("model")
    assert len(options) >= 7
    for option, classes in options.items():
        assert classes, f"model={option} builds no ktlab class"
        unchecked = [c.__name__ for c in classes if not hasattr(c, "check_args")]
        assert not unchecked, f"model={option}: {unchecked} have no check_args"


@pytest.mark.parametrize("cls", _component_classes(), ids=lambda c: c.__name__)
def test_every_numeric_argument_has_its_own_check(cls: type) -> None:
    """-1 is wrong for every size, count, rate and fraction: each must be refused, naming the argument."""
    for name in _numeric_params(cls):
        problems = cls.check_args({name: -1})
        assert [p.arg for p in problems] == [name], f"{cls.__name__}.{name} lost its check"
        assert "-1" in problems[0].describe()


def _frame(n_students: int = 30) -> pd.DataFrame:
    return generate_classroom(ClassroomConfig(n_students=n_students, min_len=6, max_len=12, seed=3))


def _datamodule(path: Path, **kwargs) -> KTDataModule:
    features = {"context_features": ["difficulty"], "query_features": ["difficulty"]}
    return KTDataModule(FileSource(path), **{**features, "max_len": 8, **kwargs})


def test_released_split_column_is_followed(tmp_path: Path) -> None:
    frame = _frame()
    learners = sorted(frame["student_id"].unique())
    split = {s: ("test" if i < 4 else "val" if i < 9 else "train") for i, s in enumerate(learners)}
    frame["split"] = frame["student_id"].map(split)
    path = tmp_path / "split.csv"
    frame.to_csv(path, index=False)
    datamodule = _datamodule(path)
    datamodule.setup()
    for name, expected in (("test", 4), ("val", 5), ("train", 21)):
        assert datamodule.parts[name]["student_id"].nunique() == expected
        assert set(datamodule.parts[name]["student_id"]) == {s for s, v in split.items() if v == name}
    frame.loc[frame.index[0], "split"] = "test" if frame.loc[frame.index[0], "split"] != "test" else "val"
    frame.to_csv(path, index=False)
    with pytest.raises(DataValidationError, match="has answers in the splits"):
        _datamodule(path).setup()


def test_problem_ids_are_encoded_when_asked_for(tmp_path: Path) -> None:
    frame = _frame()
    frame["problem_id"] = "p" + (frame["t"].astype(int) % 7).astype(str)
    path = tmp_path / "problems.csv"
    frame.to_csv(path, index=False)
    datamodule = _datamodule(path, item_features=["skill_id", "problem_id"])
    datamodule.setup()
    assert datamodule.model_inputs()["dims"]["n_problems"] == 7
    batch = next(iter(datamodule.dataloader("train")))
    assert batch["problem"].shape == batch["skill"].shape and batch["problem"].max() <= 7
    assert (batch["problem"][batch["mask"]] >= 1).all()
    without = _datamodule(path)
    without.setup()
    assert without.model_inputs()["dims"]["n_problems"] == 0
    assert "problem" not in next(iter(without.dataloader("train")))


def test_too_few_learners_for_a_split_is_one_paragraph(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    _frame(2).to_csv(path, index=False)
    with pytest.raises(ConfigError, match=r"2 learner\(s\): too few for a validation split"):
        _datamodule(path).setup()


def _documented_commands() -> list[list[str]]:
    """Every ``python train.py ...`` line of the README, as override lists (sweep values: the first)."""
    text = (ROOT / "README.md").read_text()
    out = []
    for line in re.findall(r"^python train\.py(.*?)(?:\s+#.*)?$", text, flags=re.MULTILINE):
        args = [a for a in shlex.split(line) if not a.startswith("-")]
        if any("<" in a or "my_answers" in a for a in args):
            continue
        out.append([re.sub(r"=([^,=\[]+),.*$", r"=\1", a) for a in args])
    return out


def test_every_documented_train_command_composes(make_cfg) -> None:
    from ktlab.config_checks import check_config

    commands = _documented_commands()
    assert len(commands) >= 5
    for overrides in commands:
        if any(o.startswith("trainer=") and o != "trainer=ddp" for o in overrides):
            overrides = [o for o in overrides if not o.startswith("trainer=")]  # no device here
        cfg = make_cfg("train", *overrides, tiny=False)
        check_config(cfg)


def test_a_network_setting_has_one_name() -> None:
    for path in sorted((CONF_DIR / "model").glob("*.yaml")):
        node = OmegaConf.to_container(OmegaConf.load(path))
        net = node.get("net", {})
        doubled = [key for key in net if key in node and not key.startswith("_")]
        assert not doubled, f"{path.name}: {doubled} stand both at model level and under net"


def test_metrics_json_writes_null_for_an_undefined_value(tmp_path: Path) -> None:
    from ktlab.utils.metrics_io import write_metrics

    path = write_metrics(tmp_path / "m.json", {"test/auc": float("nan"), "test/acc": 0.5})
    assert '"test/auc": null' in path.read_text() and np.isnan(float("nan"))
