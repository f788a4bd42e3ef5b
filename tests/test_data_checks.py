"""Data a run cannot learn or be judged from, and a data path left out: one paragraph, exit status 2."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hydra.utils import instantiate

from ktlab.data.template import template_frame
from ktlab.train import run


def _exit_message(capsys, cfg) -> str:
    with pytest.raises(SystemExit) as info:
        run(cfg)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    return " ".join(err.split())


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (["data=csv"], "data.path"),
        (["data=kt_lines", "data.test=t.csv"], "data.train"),
        (["data=kt_lines", "data.train=t.csv"], "data.test"),
        (["data=answers_csv", "model=modernbert"], "data.path"),
    ],
)
def test_a_missing_data_path_is_named_with_its_fix(make_cfg, capsys, overrides: list[str], key: str) -> None:
    cfg = make_cfg("train", *overrides)
    message = _exit_message(capsys, cfg)
    assert message.startswith(f"error: {key} is missing: pass {key}=FILE on the command line")


def test_tiny_splits_train_with_a_warning_naming_their_answers(make_cfg, tmp_path: Path, caplog) -> None:
    path = tmp_path / "template.csv"
    template_frame().to_csv(path, index=False)
    cfg = make_cfg("train", "data=csv", f"data.path={path}")
    datamodule = instantiate(cfg.data)
    with caplog.at_level(logging.WARNING):
        datamodule.setup("fit")
    message = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "the validation and test split(s) hold fewer than 200 scored answers" in message
    assert "training 3 scored answer(s) (2 right, 1 wrong) from 1 learner(s)" in message
    assert "validation 3 scored answer(s) (1 right, 2 wrong)" in message
    assert "test 2 scored answer(s) (1 right, 1 wrong)" in message
    assert "validation about ±0.41, test about ±0.50" in message


def test_a_split_with_one_kind_of_answer_is_refused(make_cfg, tmp_path: Path, capsys) -> None:
    frame = template_frame()
    frame.loc[frame["split"] == "test", "correct"] = 1
    path = tmp_path / "one_kind.csv"
    frame.to_csv(path, index=False)
    message = _exit_message(capsys, make_cfg("train", "data=csv", f"data.path={path}"))
    assert f"{path}: the test split(s) hold only one kind of scored answer (or none)" in message
    assert "test 2 scored answer(s) (2 right, 0 wrong) from 1 learner(s)" in message
    assert "nothing was trained" in message
    assert not (Path(make_cfg("train").paths.output_dir) / "metrics.json").exists()
