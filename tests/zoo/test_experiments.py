"""The benchmark runner: a tiny suite over two seeds on the fixture slices writes the table and the JSON."""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, recomputed_test_auc
from tests.zoo.conftest import KT, PID


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "experiments" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _runner():
    return _load("run_benchmarks")


def test_every_suite_arm_names_existing_configs() -> None:
    suites = yaml.safe_load((ROOT / "experiments" / "suites.yaml").read_text())
    for suite in ("benchmarks", "ablation"):
        for arm in suites[suite]:
            for override in arm["overrides"]:
                group, _, option = override.partition("=")
                if group in ("data", "model", "experiment"):
                    assert (ROOT / "conf" / group / f"{option}.yaml").exists(), override


@pytest.mark.slow  # the experiments script, end to end
def test_tiny_suite_over_two_seeds_writes_results(tmp_path: Path, capsys) -> None:
    suites = tmp_path / "suites.yaml"
    suites.write_text(
        yaml.safe_dump(
            {
                "benchmarks": [
                    {
                        "name": "dkt",
                        "data": "synthetic5",
                        "overrides": ["experiment=benchmark", "data=synthetic5", "model=dkt"],
                    },
                    {
                        "name": "sakt",
                        "data": "synthetic5",
                        "overrides": ["experiment=benchmark", "data=synthetic5", "model=sakt"],
                    },
                ],
                "published": {"synthetic5": [{"model": "DKT", "auc": 0.8034, "source": "Zhang et al. 2017"}]},
            }
        )
    )
    runner = _runner()
    small = ["model.net.embed_dim=8", "model.net.hidden_dim=8"]
    args = ["--suites", str(suites), "--seeds", "1", "2", "--data-dir", str(KT), "--max-epochs", "1"]
    args += ["--log-dir", str(tmp_path / "logs"), "--out", str(tmp_path / "out"), "--only", "dkt:synthetic5"]
    assert runner.main([*args, "--dry-run"]) == 0
    planned = capsys.readouterr().out.strip().splitlines()
    assert len(planned) == 2 and all("model=dkt" in line and "data=synthetic5" in line for line in planned)
    assert not (tmp_path / "out").exists()
    assert runner.main([*args, "--set", *small]) == 0
    result = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [r["seed"] for r in result["runs"]] == [1, 2] and all("error" not in r for r in result["runs"])
    for run in result["runs"]:
        folder = tmp_path / "logs" / "benchmarks" / "dkt__synthetic5" / f"seed_{run['seed']}"
        assert run["auc"] == pytest.approx(recomputed_test_auc(folder), abs=1e-6)  # that seed's checkpoint
        assert 0.0 < run["ece"] < 0.5 and run["epoch_seconds"] > 0
        assert run["auc"] == run["test_auc_logged"] or abs(run["auc"] - run["test_auc_logged"]) < 1e-4
    table = (tmp_path / "out" / "RESULTS.md").read_text()
    assert "Protocol:" in table and "| synthetic5 | dkt | 1, 2 |" in table and "±" in table
    assert "| synthetic5 | sakt | not run |" in table and "DKT 0.8034" in table


@pytest.mark.slow  # starts a wandb service process (4-10 s)
def test_final_table_goes_to_wandb_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    table = _load("results_table")
    row = {"data": "assist2009", "arm": "dkt", "seeds": [1, 2], "auc": 0.82, "auc_std": 0.001, "acc": 0.77,
           "brier": 0.157, "ece": 0.01, "epoch_seconds": 7.0, "params": 388311}  # fmt: skip
    folder = Path(table.log_table_to_wandb([row], "benchmarks", "ktlab-test", tmp_path / "wandb"))
    tables = list(folder.glob("media/table/**/*.table.json"))
    assert len(tables) == 1
    logged = json.loads(tables[0].read_text())
    assert logged["columns"] == list(table.WANDB_COLUMNS)
    assert logged["data"] == [["assist2009", "dkt", "1, 2", 0.82, 0.001, 0.77, 0.157, 0.01, 7.0, 388311]]


def _problems(path: Path) -> list[list[str]]:
    """The problem-id line of every learner of a 4-line file."""
    lines = path.read_text().strip().splitlines()
    return [lines[i + 1].strip().strip(",").split(",") for i in range(0, len(lines), 4)]


def test_scores_without_the_rows_that_repeat_the_problem_before(tiny_run) -> None:
    from ktlab.train import train

    cfg = tiny_run("model=dkt_gru")  # data.max_len=32: windows of 32 steps
    train(cfg)
    scores = _runner().score_checkpoint(Path(cfg.paths.output_dir) / "checkpoints" / "best.ckpt")
    seen = {p for learner in _problems(PID / "assist2009_pid_train1.csv") for p in learner}
    scored = repeats = 0
    for learner in _problems(PID / "assist2009_pid_test1.csv"):
        for start in range(0, len(learner), 32):
            window = learner[start : start + 32]
            if len(window) < 2:
                continue
            scored += len(window) - 1  # every answer of a window but its first
            repeats += sum(b == a and b in seen for a, b in itertools.pairwise(window))
    assert repeats > 0 and scores["answers"] == scored
    assert scores["repeat_share"] == pytest.approx(repeats / scored)
    assert 0.0 <= scores["auc_first_rows"] <= 1.0 and 0.0 <= scores["auc_copy_repeats"] <= 1.0


def test_only_runs_exactly_the_arms_named(capsys) -> None:
    runner = _runner()
    runner.main(["--only", "dkt:statics2011", "--seeds", "1", "--dry-run"])
    planned = capsys.readouterr().out.strip().splitlines()
    assert len(planned) == 1 and "model=dkt " in planned[0] + " " and "data.batch_size" not in planned[0]
    runner.main(["--only", "dkt_batches_of_32:statics2011", "dkt (batches of 32):statics2011", "--dry-run",
                 "--seeds", "1"])  # fmt: skip
    planned = capsys.readouterr().out.strip().splitlines()
    assert len(planned) == 1 and "data.batch_size=32" in planned[0] and "ema" not in planned[0]
    with pytest.raises(SystemExit) as exit_info:
        runner.main(["--only", "dkt:nowhere", "--dry-run"])
    assert exit_info.value.code == 2
    assert "--only dkt:nowhere: no such arm" in capsys.readouterr().err


def test_a_failed_run_exits_1_naming_it_and_leaves_the_committed_results(tmp_path: Path, capsys) -> None:
    committed = {p: p.read_bytes() for p in (ROOT / "experiments").glob("*") if p.is_file()}
    suites = tmp_path / "suites.yaml"
    arm = {"name": "broken arm", "data": "synthetic5", "overrides": ["data=synthetic5", "model=nope"]}
    suites.write_text(yaml.safe_dump({"benchmarks": [arm]}))
    args = ["--suites", str(suites), "--seeds", "1", "--log-dir", str(tmp_path / "logs")]
    assert _runner().main(args) == 1
    err = capsys.readouterr().err
    assert "1 run(s) failed: broken arm on synthetic5, seed 1 (exit 2" in err
    result = json.loads((tmp_path / "logs" / "benchmarks" / "results.json").read_text())
    assert [r["seed"] for r in result["runs"]] == [1] and "error" in result["runs"][0]
    assert (
        "| synthetic5 | broken arm | failed: exit 2"
        in (tmp_path / "logs" / "benchmarks" / "RESULTS.md").read_text()
    )
    assert {p: p.read_bytes() for p in (ROOT / "experiments").glob("*") if p.is_file()} == committed
    # a results file given with --out keeps the result it holds for a run that fails now
    good = {"arm": "broken arm", "data": "synthetic5", "seed": 1, "auc": 0.8, "acc": 0.7, "brier": 0.2,
            "ece": 0.01, "epoch_seconds": 1.0, "epochs": 3, "params": 10, "overrides": []}  # fmt: skip
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text(json.dumps({"runs": [good]}))
    assert _runner().main([*args, "--out", str(out)]) == 1
    assert json.loads((out / "results.json").read_text())["runs"] == [good]
    assert "| synthetic5 | broken arm | 1 | 0.8000 |" in (out / "RESULTS.md").read_text()


def test_collecting_some_arms_keeps_the_seeds_planned_for_the_others(tmp_path: Path) -> None:
    suites = tmp_path / "suites.yaml"
    broken = {"name": "broken arm", "data": "synthetic5", "overrides": ["data=synthetic5", "model=nope"]}
    other = {"name": "other arm", "data": "synthetic5", "overrides": ["data=synthetic5", "model=dkt"]}
    suites.write_text(yaml.safe_dump({"benchmarks": [broken, other]}))
    out = tmp_path / "out"
    out.mkdir()
    earlier = [{"arm": "other arm", "data": "synthetic5", "planned_seeds": [1, 2, 3]}]
    (out / "results.json").write_text(json.dumps({"runs": [], "table": earlier}))
    args = ["--suites", str(suites), "--seeds", "4", "--log-dir", str(tmp_path / "logs"), "--out", str(out)]
    assert _runner().main([*args, "--only", "broken arm:synthetic5"]) == 1  # writes the table once more
    table = {
        row["arm"]: row["planned_seeds"] for row in json.loads((out / "results.json").read_text())["table"]
    }
    assert table == {"broken arm": [4], "other arm": [1, 2, 3]}
    # the command the table quotes can be pasted back into a shell
    assert "--only 'broken arm:synthetic5'" in (out / "RESULTS.md").read_text()
