"""Every numeric argument of the text family refuses -1, naming itself; the CLI answers in one paragraph."""

from __future__ import annotations

import pytest

from ktlab.data.text.bank import BankConfig
from ktlab.data.text.datamodule import TextDataModule
from ktlab.data.text.students import StudentConfig
from ktlab.difficulty import run
from ktlab.models.components.text_encoder import PooledNet

NUMERIC = {
    TextDataModule: ["max_length", "pad_to", "val_fraction", "test_fraction", "split_seed", "top_students",
                     "student_rank", "batch_size", "bucket_batches", "num_workers"],
    PooledNet: ["student_dim"],
    BankConfig: ["n_questions", "hidden_share", "word_share", "close_share", "five_option_share", "seed"],
    StudentConfig: ["n_students", "median_answers", "min_answers", "max_answers", "activity_sd", "ability_sd",
                    "axis_sd", "discrimination", "guessing", "seed"],
}  # fmt: skip


@pytest.mark.parametrize("cls", list(NUMERIC), ids=lambda c: c.__name__)
def test_every_numeric_argument_refuses_minus_one(cls) -> None:
    for name in NUMERIC[cls]:
        problems = cls.check_args({name: -1})
        assert [p.arg for p in problems] == [name], f"{cls.__name__}.{name}"
        assert "-1" in problems[0].describe()
    assert TextDataModule.check_args({"tokenizer": {"vocab_size": -1}})[0].arg == "tokenizer.vocab_size"


def test_estimate_difficulty_reports_a_bad_question_file_in_one_paragraph(tmp_path, capsys) -> None:
    from omegaconf import OmegaConf

    (tmp_path / "q.csv").write_text("question_title\nWhat is 2 + 2?\n")
    cfg = OmegaConf.create({"ckpt_path": str(tmp_path / "missing.ckpt"), "questions": str(tmp_path / "q.csv"),
                            "output": str(tmp_path / "d.csv"), "batch_size": 8})  # fmt: skip
    with pytest.raises(SystemExit) as info:
        run(cfg)
    assert info.value.code == 2
    assert "missing.ckpt: no such checkpoint file" in " ".join(capsys.readouterr().err.split())
    cfg.batch_size = 0
    with pytest.raises(SystemExit):
        run(cfg)
    assert "batch_size=0: must be an integer >= 1" in " ".join(capsys.readouterr().err.split())
