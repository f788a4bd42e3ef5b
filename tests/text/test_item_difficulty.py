"""Direct difficulty regression: questions with observed success rates train the text model (``data=item_difficulty``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from ktlab.difficulty import estimate_difficulty, held_out, load_students, validate
from ktlab.errors import DataValidationError
from ktlab.evaluation.rate_metrics import rate_auc
from ktlab.train import train
from tests.conftest import ASSETS

ITEMS = ASSETS / "dbe_kt22_sample" / "items_difficulty.csv"


def test_rate_auc_is_the_auc_of_the_answers_the_rates_stand_for() -> None:
    observed = np.array([0.9, 0.5, 0.2, 0.7])
    n = np.array([10, 4, 5, 10])
    predicted = np.array([0.8, 0.6, 0.3, 0.5])
    right, wrong = np.round(observed * n).astype(int), np.round((1 - observed) * n).astype(int)
    labels = np.concatenate([np.r_[np.ones(r), np.zeros(w)] for r, w in zip(right, wrong, strict=True)])
    scores = np.repeat(predicted, right + wrong)
    assert rate_auc(predicted, observed, n) == pytest.approx(roc_auc_score(labels, scores))
    assert rate_auc(np.full(4, 0.5), observed) == pytest.approx(0.5)  # a constant ranks nothing
    assert np.isnan(rate_auc(predicted, np.ones(4)))


def test_a_bad_rate_or_column_is_named(make_cfg, tmp_path: Path) -> None:
    from ktlab.data.text.items import ItemFileSource

    items = pd.read_csv(ITEMS, dtype=str, keep_default_na=False)
    items.loc[3, "success_rate"] = "1.5"
    items.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(
        DataValidationError,
        match=r"row 4 \(line \d+\), column 'success_rate': value '1.5' is not a success rate",
    ):
        ItemFileSource(tmp_path / "bad.csv").load()
    items.loc[3, "success_rate"] = "0.5"
    items.rename(columns={"success_rate": "p"}).to_csv(tmp_path / "renamed.csv", index=False)
    with pytest.raises(
        DataValidationError, match="lacks the column\\(s\\) success_rate; has unknown column\\(s\\) p"
    ):
        ItemFileSource(tmp_path / "renamed.csv").load()
    log = ItemFileSource(tmp_path / "renamed.csv", rate_column="p").load()
    assert log.target == "success_rate" and log.answers["correct"].iloc[3] == pytest.approx(0.5)


def test_regression_trains_on_rates_and_estimate_difficulty_serves_it(make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg("train", "model=modernbert", "data=item_difficulty", f"data.path={ITEMS}", "data.val_fraction=0.2",
                   "trainer.max_epochs=1", "model.export_dir=null", "callbacks.progress_bar=null")  # fmt: skip
    metrics = train(cfg)
    for key in ("test/rmse", "test/spearman", "test/auc", "val/auc"):
        assert metrics[key] is not None
    assert 0 < metrics["test/rmse"] < 1
    best = Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt"
    hparams = torch.load(best, map_location="cpu", weights_only=True)["hyper_parameters"]
    assert (
        hparams["inputs"]["state"]["students"] == [] and hparams["inputs"]["dims"]["target"] == "success_rate"
    )

    from ktlab.evaluate import evaluate
    from tests.conftest import compose_config

    evaluated = evaluate(compose_config("eval", [f"ckpt_path={best}"], tmp_path / "eval"))
    assert evaluated["test/rmse"] == pytest.approx(metrics["test/rmse"], abs=1e-5)
    answers = pd.read_csv(tmp_path / "eval" / "run" / "predictions.csv")
    rates = answers["correct"]  # the observed rates, kept as rates
    assert not rates.isin([0, 1]).all() and rates.between(0, 1).all()
    assert np.sqrt(((answers["p_correct"] - rates) ** 2).mean()) == pytest.approx(
        metrics["test/rmse"], abs=1e-4
    )

    models = load_students(best)
    new = pd.read_csv(ITEMS).drop(columns=["success_rate", "n_answers"]).head(5)  # questions without rates
    estimates = estimate_difficulty(models, new)
    assert list(estimates["problem_id"]) == [str(q) for q in new["question_id"]]  # the file's ids
    assert estimates["success_rate"].between(0, 1).all() and (estimates["n_students"] == 1).all()
    assert np.allclose(
        estimates["difficulty"],
        -np.log(estimates["success_rate"] / (1 - estimates["success_rate"])),
        atol=1e-3,
    )

    datamodule, questions = held_out(models[0])  # the fold held out in training
    assert not set(questions["problem_id"]) & set(datamodule.parts["train"]["problem_id"])
    figures, table = validate(estimate_difficulty(models, questions), datamodule, questions)
    observed = pd.read_csv(ITEMS, dtype={"question_id": str}).set_index("question_id")["success_rate"]
    assert table.set_index("problem_id")["observed_success"].to_dict() == pytest.approx(
        observed[table["problem_id"]].to_dict()
    )
    assert figures["n_questions"] == len(questions)
