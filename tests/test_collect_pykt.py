"""The pyKT results collector, on run folders laid out as a 5-fold multirun of experiment=pykt writes them."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _collector():
    spec = importlib.util.spec_from_file_location("collect_pykt", ROOT / "experiments" / "collect_pykt.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


collect = _collector()


def fake_run(
    folder: Path,
    data_dir: str,
    fold: int,
    metrics: dict[str, float],
    model: str = "dkt",
    seed: int = 42,
    overrides: tuple[str, ...] = (),
) -> None:
    """A finished run's files: metrics.json (pyKT's keys under test/) and .hydra/config.yaml, overrides.yaml."""
    (folder / ".hydra").mkdir(parents=True)
    (folder / "metrics.json").write_text(
        json.dumps({**{f"test/{k}": v for k, v in metrics.items()}, "val/auc_best": 0.7, "model": model})
    )
    config = {
        "seed": seed,
        "data": {"dir": data_dir, "fold": fold, "max_len": 200},
        "model": {"name": model},
        "trainer": {"max_epochs": 200},
        "callbacks": {
            "model_checkpoint": {"monitor": "val/auc"},
            "early_stopping": {"monitor": "val/auc", "patience": 10, "min_delta": 0.001},
        },
    }
    (folder / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    launched = ["experiment=pykt", f"data.dir={data_dir}", f"data.fold={fold}", f"model={model}", *overrides]
    (folder / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(launched))


AUC_2015 = [0.7262, 0.7270, 0.7281, 0.7266, 0.7276]


@pytest.fixture
def multiruns(tmp_path: Path) -> list[Path]:
    sweep = tmp_path / "multiruns" / "2026-12-05_10-00-00"
    for fold, auc in enumerate(AUC_2015):
        fake_run(
            sweep / str(fold), "/data/assist2015_pykt", fold, {"window_testauc": auc, "testauc": auc + 0.01}
        )
    other = tmp_path / "multiruns" / "2026-12-05_11-00-00"
    for fold in range(4):  # a fold short, and a data set with question ids
        metrics = {"window_testauc": 0.74, "windowauclate_mean": 0.75 + fold / 100, "oriauclate_mean": 0.7}
        fake_run(
            other / str(fold),
            "/data/assist2009",
            fold,
            metrics,
            model="dkt_gru",
            overrides=("model.inputs=answers",),
        )
    return [sweep, other]


def test_table_states_protocol_and_sits_beside_the_leaderboard(
    multiruns: list[Path], tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    assert collect.main([*map(str, multiruns), "--out", str(out)]) == 0
    text = (out / "RESULTS_pykt.md").read_text()
    assert "seed 1024" in text and "last 20% are the test set" in text
    # ASSISTments 2015: window_testauc, mean ± sample std of the five folds, beside DKT 0.7271 ± 0.0005.
    assert (
        "| assist2015 | dkt | window_testauc | 0, 1, 2, 3, 4 | 42 | 0.7271 ± 0.0008 | — | DKT 0.7271 ± 0.0005 | "
        "best val/auc, stopped 10 epochs after the last gain > 0.001, at most 200 epochs |"
    ) in text
    # Data with question ids: the fused AUC; the missing fold is shown.
    assert (
        "| assist2009 | dkt_gru (model.inputs=answers) | windowauclate_mean | 0, 1, 2, 3 (of 5) | 42 | 0.7650 ± 0.0129 "
        "| — |" in text
    )
    assert "sparseKT-topK 0.7502 (caveat below); sparseKT-soft 0.7379 (caveat below); DKT+ 0.7285;" in text
    assert '  Caveat, sparseKT-topK: until pykt-toolkit\'s "fix sparsekt" change' in text
    assert "DKT 0.7271 ± 0.0005;" in text and "Caveat, DKT" not in text
    # DKT 0.7271 beats SAKT, SAINT, DKVMN and simpleKT: 4 of 9, all of them among the 7 without a caveat.
    assert (
        "Best ktlab arm: dkt 0.7271 ± 0.0008, above 4 of 9 leaderboard entries (4 of the 7 without a caveat)."
        in text
    )
    assert "RingoTC KnowledgeTracingLeaderboard" in text

    saved = json.loads((out / "results_pykt.json").read_text())
    row = next(r for r in saved["table"] if r["data"] == "assist2015")
    assert row["mean"] == pytest.approx(sum(AUC_2015) / 5) and row["folds"] == [0, 1, 2, 3, 4]
    assert row["all_keys"]["testauc"] == pytest.approx(sum(AUC_2015) / 5 + 0.01)
    assert row["leaderboard"] == {"auc": 0.7271, "std": 0.0005}
    assert len(saved["runs"]) == 9
    assert row["early_fusion"] is None and not any(k.endswith("early_preds") for k in row["all_keys"])


def test_early_fusion_keys_are_carried_when_present(multiruns: list[Path], tmp_path: Path) -> None:
    sweep = tmp_path / "multiruns" / "2026-12-05_12-00-00"
    early = [0.761, 0.765, 0.770]
    for fold, auc in enumerate(early):
        metrics = {"window_testauc": 0.74, "windowauclate_mean": 0.75, "oriauclate_mean": 0.7}
        metrics |= {"windowaucearly_preds": auc, "windowaccearly_preds": 0.71}
        metrics |= {"oriaucearly_preds": auc - 0.01, "oriaccearly_preds": 0.70}
        fake_run(sweep / str(fold), "/data/assist2009", fold, metrics, model="akt")
    out = tmp_path / "out"
    assert collect.main([*map(str, multiruns), str(sweep), "--out", str(out)]) == 0
    saved = json.loads((out / "results_pykt.json").read_text())
    row = next(r for r in saved["table"] if r["model"] == "akt")
    assert set(collect.EARLY_KEYS) <= set(row["all_keys"])
    assert row["all_keys"]["windowaucearly_preds"] == pytest.approx(sum(early) / 3)
    assert row["all_keys"]["oriaccearly_preds"] == pytest.approx(0.70)
    assert row["early_fusion"]["scored_runs"] == 3
    assert row["early_fusion"]["text"] == "0.7653 ± 0.0045"
    akt_runs = [r for r in saved["runs"] if r["model"] == "akt"]
    assert len(akt_runs) == 3 and all(r["metrics"]["windowaucearly_preds"] in early for r in akt_runs)
    dkt_run = next(r for r in saved["runs"] if r["model"] == "dkt")
    assert not set(collect.EARLY_KEYS) & set(dkt_run["metrics"])  # absent, not null, without early fusion
    text = (out / "RESULTS_pykt.md").read_text()
    assert (
        "| assist2009 | akt | windowauclate_mean | 0, 1, 2 (of 5) | 42 | 0.7500 ± 0.0000 | 0.7653 ± 0.0045 |"
        in text
    )


def test_the_early_keys_are_the_evaluators() -> None:
    from ktlab.evaluation.pykt import EARLY

    assert tuple(f"{w}{m}{EARLY}" for w in ("ori", "window") for m in ("auc", "acc")) == collect.EARLY_KEYS


def test_writes_nothing_committed_by_default() -> None:
    default = collect._parser().parse_args(["somewhere"]).out
    assert default == ROOT / "logs" / "pykt"


def test_a_folder_without_runs_exits_2(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        collect.main([str(tmp_path), "--out", str(tmp_path / "out")])
    assert done.value.code == 2
    assert "holds no metrics.json" in " ".join(capsys.readouterr().err.split())  # the message is wrapped
    assert not (tmp_path / "out").exists()


def test_a_time_cap_or_a_cache_folder_does_not_split_an_arm(tmp_path: Path) -> None:
    sweep = tmp_path / "runs"
    for fold, auc in enumerate(AUC_2015):
        extra = ("+trainer.max_time=00:02:00:00", f"data.cache_dir=/tmp/c{fold}") if fold % 2 else ()
        fake_run(sweep / str(fold), "/data/assist2015_pykt", fold, {"window_testauc": auc}, overrides=extra)
    fake_run(sweep / "5", "/data/assist2015_pykt", 0, {"window_testauc": 0.7}, overrides=("model.net.dim=8",))
    runs = collect.find_runs([sweep])
    assert sorted({r.arm for r in runs}) == ["dkt", "dkt (model.net.dim=8)"]
    assert len([r for r in runs if r.arm == "dkt"]) == 5


def test_merge_keeps_the_recorded_runs_and_replaces_a_run_found_again(
    multiruns: list[Path], tmp_path: Path, capsys
) -> None:
    first = tmp_path / "first"
    assert collect.main([str(multiruns[0]), "--out", str(first)]) == 0
    later = tmp_path / "later"
    fake_run(later / "0", "/data/assist2015_pykt", 0, {"window_testauc": 0.7000})  # dkt fold 0 again
    fake_run(later / "1", "/data/assist2015_pykt", 0, {"window_testauc": 0.7100}, model="sakt")
    shutil.rmtree(multiruns[0])  # the recorded runs' folders are gone: the JSON is all there is
    out = tmp_path / "out"
    merged = str(first / "results_pykt.json")
    assert collect.main([str(later), "--merge", merged, "--out", str(out)]) == 0
    saved = json.loads((out / "results_pykt.json").read_text())
    assert len(saved["runs"]) == 6
    dkt = next(r for r in saved["table"] if r["model"] == "dkt")
    assert dkt["folds"] == [0, 1, 2, 3, 4]
    assert dkt["mean"] == pytest.approx((0.7000 + sum(AUC_2015[1:])) / 5)  # fold 0 replaced
    assert any(r["model"] == "sakt" for r in saved["table"])

    (tmp_path / "bad.json").write_text('{"table": []}')
    with pytest.raises(SystemExit) as done:
        collect.main([str(later), "--merge", str(tmp_path / "bad.json"), "--out", str(tmp_path / "o2")])
    assert done.value.code == 2
    assert "not a results_pykt.json" in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "o2").exists()
