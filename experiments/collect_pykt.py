"""Tabulate pyKT-protocol runs (``experiment=pykt``, one run per fold) beside pyKT's leaderboard.

    python experiments/collect_pykt.py logs/train/multiruns/<time> [more run folders ...]
    python experiments/collect_pykt.py logs/train/multiruns/<time> --out experiments   # the committed table
    python experiments/collect_pykt.py <new runs> --merge experiments/results_pykt.json --out experiments

Reads every ``metrics.json`` below the folders given (each run's ``.hydra/config.yaml`` says its data set,
as ``data.name`` or the name of ``data.dir`` without a ``_pykt`` suffix, its fold, seed, model and checkpoint
selection) and writes ``RESULTS_pykt.md`` and ``results_pykt.json``:
per data set and model, the mean ± standard deviation over the runs (folds, and seeds where several) of
the leaderboard's metric, ``test/windowauclate_mean`` on data with question ids and
``test/window_testauc`` on ASSISTments 2015, Statics 2011 and POJ (and on any data without question
ids), beside the leaderboard's figure for the same model and its source
(``experiments/pykt_leaderboard.yaml``; an entry's ``caveat`` is printed under the figures, and the count of
entries a ktlab arm beats is also given without the entries that carry one). The JSON holds every run and
the means of all of pyKT's keys.
Runs of a network with early fusion (``ktlab.evaluation.pykt``) also carry its four keys,
``{ori,window}{auc,acc}early_preds``, into the JSON (per run and in the means), and the table shows
``windowaucearly_preds`` in a column of its own ("—" for runs without it).

The files go to ``logs/pykt/`` unless ``--out`` names a folder; the committed table in ``experiments/``
is rewritten only with ``--out experiments``. ``--merge FILE`` also tabulates the runs an earlier
``results_pykt.json`` recorded (their folders need not exist any more); a run found again in the folders
(same data set, arm, fold and seed) replaces its record. A folder without a finished run, a run whose
config or metrics cannot be read, or a merge file that is not such a JSON stops with one paragraph and
exit status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ktlab.cli import report_user_errors
from ktlab.errors import KtlabError

log = logging.getLogger("collect_pykt")

ROOT = Path(__file__).resolve().parents[1]

#: pyKT's 20 test keys, as a run writes them (under ``test/``) in ``metrics.json``.
KEYS: tuple[str, ...] = (
    "testauc", "testacc", "window_testauc", "window_testacc",
    *(f"{w}{m}{k}" for w in ("ori", "window") for m in ("auc", "acc")
      for k in ("concepts", "late_mean", "late_vote", "late_all")),
)  # fmt: skip
#: pyKT's early-fusion test keys (``ktlab.evaluation.pykt.EARLY``), written only by networks that have it.
EARLY_KEYS: tuple[str, ...] = tuple(f"{w}{m}early_preds" for w in ("ori", "window") for m in ("auc", "acc"))
#: The early-fusion key shown in the table, beside the leaderboard metric.
EARLY_COLUMN = "windowaucearly_preds"
#: The data sets whose leaderboard figure is the skill-level window AUC (no question ids, or pyKT's choice).
WINDOW_TESTAUC_DATA = frozenset({"assist2015", "statics2011", "poj"})
#: Overrides that vary between the runs of one arm, or only say where things go: not part of its name.
#: A time cap is a resource limit, not a setting: a run it stopped says so in its epochs, not in its arm.
PER_RUN = ("data.fold=", "seed=", "paths.", "hydra.", "data.dir=", "experiment=", "data=", "model=", "callbacks.progress_bar=", "+data.fold=",
           "data.cache_dir=", "trainer.max_time=", "+trainer.max_time=", "logger=", "cpu_threads=")  # fmt: skip

PROTOCOL = (
    "Protocol: pyKT's (Liu et al. 2022). Learners with fewer than 3 answers dropped; a question of k "
    "skills becomes k rows; learners shuffled with seed 1024, the last 20% are the test set, the rest "
    "shuffled again with seed 1024 into 5 folds, one fold validating each run; sequences of 200 rows; "
    "test windows of at most 200 rows scoring one answer each after the first 200; question-level AUC "
    "by late fusion (mean of the skill rows' predictions, rounded to 4 decimals). One run per fold, each "
    "tested on the same test learners; mean ± sample standard deviation over the runs listed."
)


@dataclass
class Run:
    """One finished run: where it is, what it was, what it measured."""

    path: Path
    data: str
    model: str
    arm: str
    fold: int | None
    seed: int | None
    selection: str
    metrics: dict[str, float | None] = field(default_factory=dict)


def _get(config: dict[str, Any], dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def selection_rule(config: dict[str, Any]) -> str:
    """How the run chose its tested checkpoint, from its callbacks' config."""
    monitor = _get(config, "callbacks.model_checkpoint.monitor")
    if monitor is None:
        return "final weights (no checkpoint selection in the config)"
    rule = f"best {monitor}"
    patience = _get(config, "callbacks.early_stopping.patience")
    if patience is not None:
        gain = _get(config, "callbacks.early_stopping.min_delta") or 0.0
        rule += f", stopped {patience} epochs after the last gain > {gain:g}"
    epochs = _get(config, "trainer.max_epochs")
    return rule + (f", at most {epochs} epochs" if epochs is not None else "")


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text()) if path.exists() else None
    except yaml.YAMLError as err:
        raise KtlabError(f"{path}: not readable as YAML ({str(err).splitlines()[0]}).") from None


def read_run(metrics_path: Path) -> Run:
    """The run whose ``metrics.json`` is ``metrics_path`` (its config beside it in ``.hydra/``).

    Raises:
        KtlabError: the metrics or config cannot be read, or the config does not say the data set.
    """
    try:
        metrics = json.loads(metrics_path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise KtlabError(f"{metrics_path}: not readable as JSON ({err}); is the run complete?") from None
    hydra = metrics_path.parent / ".hydra"
    config = _read_yaml(hydra / "config.yaml") or {}
    overrides = [str(o) for o in (_read_yaml(hydra / "overrides.yaml") or [])]
    data_dir = _get(config, "data.dir")
    data = _get(config, "data.name") or (Path(str(data_dir)).name.removesuffix("_pykt") if data_dir else None)
    if not data:
        raise KtlabError(
            f"{metrics_path}: its run's config ({hydra / 'config.yaml'}) names no data set (data.name or "
            "data.dir); collect runs of experiment=pykt, which write it."
        )
    model = str(metrics.get("model") or _get(config, "model.name") or "model")
    extra = [o for o in overrides if not o.startswith(PER_RUN)]
    fold, seed = _get(config, "data.fold"), _get(config, "seed")
    return Run(
        path=metrics_path.parent,
        data=str(data),
        model=model,
        arm=model + (f" ({', '.join(extra)})" if extra else ""),
        fold=None if fold is None else int(fold),
        seed=None if seed is None else int(seed),
        selection=selection_rule(config),
        metrics={
            **{key: metrics.get(f"test/{key}") for key in KEYS},
            **{key: metrics[f"test/{key}"] for key in EARLY_KEYS if f"test/{key}" in metrics},
        },
    )


def find_runs(folders: list[Path]) -> list[Run]:
    """Every run below ``folders``; of two runs of one arm, fold and seed, the later one is kept."""
    latest: dict[tuple[str, str, int | None, int | None], Run] = {}
    for folder in folders:
        if not folder.is_dir():
            raise KtlabError(f"{folder}: no such folder; pass a run or multirun folder of experiment=pykt.")
        for path in sorted(folder.rglob("metrics.json")):
            run = read_run(path)
            key = (run.data, run.arm, run.fold, run.seed)
            if key in latest:
                older, newer = sorted(
                    [latest[key], run], key=lambda r: (r.path / "metrics.json").stat().st_mtime
                )
                log.warning(
                    "%s and %s are the same run (%s); keeping %s", older.path, newer.path, key, newer.path
                )
                run = newer
            latest[key] = run
    if not latest:
        raise KtlabError(f"{', '.join(map(str, folders))}: holds no metrics.json; has a run finished there?")
    return list(latest.values())


def recorded_runs(path: Path) -> list[Run]:
    """The runs an earlier ``results_pykt.json`` recorded (its ``runs``), as :class:`Run` objects.

    Raises:
        KtlabError: the file cannot be read or is not such a JSON.
    """
    try:
        records = json.loads(path.read_text())["runs"]
        return [Run(**{**record, "path": Path(record["path"])}) for record in records]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as err:
        raise KtlabError(
            f"{path}: not a results_pykt.json this script wrote (a JSON object whose 'runs' list holds "
            f"path, data, model, arm, fold, seed, selection and metrics per run): {err!r}."
        ) from None


def merge_runs(recorded: list[Run], found: list[Run]) -> list[Run]:
    """``recorded`` without the runs ``found`` again (same data set, arm, fold and seed), then ``found``."""

    def key(run: Run) -> tuple[str, str, int | None, int | None]:
        return run.data, run.arm, run.fold, run.seed

    again = {key(run) for run in found}
    return [run for run in recorded if key(run) not in again] + found


def leaderboard_metric(data: str, runs: list[Run]) -> str:
    """pyKT's leaderboard metric for ``data``: question-level fused AUC where the runs report one."""
    if data in WINDOW_TESTAUC_DATA or all(r.metrics.get("windowauclate_mean") is None for r in runs):
        return "window_testauc"
    return "windowauclate_mean"


def mean_std(values: list[float]) -> tuple[float | None, float | None, str]:
    if not values:
        return None, None, "—"
    if len(values) == 1:
        return values[0], None, f"{values[0]:.4f}"
    mean, std = statistics.mean(values), statistics.stdev(values)
    return mean, std, f"{mean:.4f} ± {std:.4f}"


def summarize(runs: list[Run], board: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per data set and arm: the leaderboard metric over its runs, beside the leaderboard."""
    rows = []
    for data in dict.fromkeys(r.data for r in runs):
        mine = [r for r in runs if r.data == data]
        entry = board.get("datasets", {}).get(data, {})
        metric = leaderboard_metric(data, mine)
        for arm in dict.fromkeys(r.arm for r in mine):
            arm_runs = sorted((r for r in mine if r.arm == arm), key=lambda r: (r.fold or 0, r.seed or 0))
            values = [float(v) for r in arm_runs if (v := r.metrics.get(metric)) is not None]
            mean, std, text = mean_std(values)
            keys = (*KEYS, *(k for k in EARLY_KEYS if any(k in r.metrics for r in arm_runs)))
            name = board.get("ktlab", {}).get(arm_runs[0].model)
            published = entry.get("models", {}).get(name) if name else None
            rows.append(
                {
                    "data": data,
                    "arm": arm,
                    "model": arm_runs[0].model,
                    "metric": metric,
                    "folds": sorted({r.fold for r in arm_runs if r.fold is not None}),
                    "seeds": sorted({r.seed for r in arm_runs if r.seed is not None}),
                    "runs": len(arm_runs),
                    "scored_runs": len(values),
                    "mean": mean,
                    "std": std,
                    "text": text,
                    "selection": sorted({r.selection for r in arm_runs}),
                    "all_keys": {
                        k: mean_std([float(v) for r in arm_runs if (v := r.metrics.get(k)) is not None])[0]
                        for k in keys
                    },
                    "early_fusion": early_fusion(arm_runs),
                    "leaderboard_model": name,
                    "leaderboard": published,
                    "leaderboard_metric": entry.get("metric"),
                    "leaderboard_source": entry.get("source", board.get("source")) if entry else None,
                }
            )
    return rows


def early_fusion(runs: list[Run]) -> dict[str, Any] | None:
    """The table's early-fusion figure of one arm's runs (:data:`EARLY_COLUMN`); None when none has it."""
    values = [float(v) for r in runs if (v := r.metrics.get(EARLY_COLUMN)) is not None]
    if not values:
        return None
    mean, std, text = mean_std(values)
    return {"metric": EARLY_COLUMN, "scored_runs": len(values), "mean": mean, "std": std, "text": text}


def _folds(folds: list[int]) -> str:
    shown = ", ".join(map(str, folds)) or "—"
    return shown if len(folds) == 5 else f"{shown} (of 5)"


def _published(row: dict[str, Any]) -> str:
    found = row["leaderboard"]
    if not found:
        return "—"
    std = f" ± {found['std']:.4f}" if found.get("std") is not None else ""
    return f"{row['leaderboard_model']} {found['auc']:.4f}{std}"


def markdown(rows: list[dict[str, Any]], board: dict[str, Any], command: str) -> str:
    lines = [
        "# Results: pyKT's protocol",
        "",
        f"Generated by `{command}` on {time.strftime('%Y-%m-%d %H:%M')}.",
        "",
        PROTOCOL,
        "",
        "Metric: pyKT's leaderboard metric per data set, `windowauclate_mean` (question-level AUC, late fusion "
        "by mean, on the test windows) on data with question ids, `window_testauc` (skill-level AUC on the "
        "test windows) on ASSISTments 2015, Statics 2011 and POJ. The early-fusion column is "
        f"`{EARLY_COLUMN}` (a question's row features averaged before the output layer), for the networks "
        "that have it, on data with question ids; the leaderboard reports late fusion.",
        "",
        "| data set | model | metric | folds | seeds | test AUC | early fusion AUC | leaderboard (same model) "
        "| checkpoint selection |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        seeds = ", ".join(map(str, row["seeds"])) or "—"
        selection = "; ".join(row["selection"])
        lines.append(
            f"| {row['data']} | {row['arm']} | {row['metric']} | {_folds(row['folds'])} | {seeds} | "
            f"{row['text']} | {row['early_fusion']['text'] if row['early_fusion'] else '—'} | "
            f"{_published(row)} | {selection} |"
        )
    lines += ["", "Leaderboard figures (5-fold means) and their sources:", ""]
    for data in dict.fromkeys(r["data"] for r in rows):
        entry = board.get("datasets", {}).get(data)
        if not entry:
            lines.append(f"- {data}: no leaderboard figure recorded in experiments/pykt_leaderboard.yaml.")
            continue
        models = "; ".join(
            f"{name} {v['auc']:.4f}"
            + (f" ± {v['std']:.4f}" if v.get("std") is not None else "")
            + (" (caveat below)" if v.get("caveat") else "")
            for name, v in sorted(entry["models"].items(), key=lambda kv: -kv[1]["auc"])
        )
        caveats = {name: v["caveat"] for name, v in entry["models"].items() if v.get("caveat")}
        ours = max(
            (r for r in rows if r["data"] == data and r["mean"] is not None),
            key=lambda r: r["mean"],
            default=None,
        )
        lines.append(
            f"- {data} ({entry['metric']}): {models}. Source: {entry.get('source', board['source'])}."
        )
        lines += [f"  Caveat, {name}: {text}" for name, text in caveats.items()]
        if ours is not None:
            better = [n for n, v in entry["models"].items() if ours["mean"] > v["auc"]]
            uncaveated = len([n for n in better if n not in caveats])
            lines.append(
                f"  Best ktlab arm: {ours['arm']} {ours['text']}, above {len(better)} of "
                f"{len(entry['models'])} leaderboard entries"
                + (
                    f" ({uncaveated} of the {len(entry['models']) - len(caveats)} without a caveat)."
                    if caveats
                    else "."
                )
            )
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", nargs="+", type=Path, help="run or multirun folders of experiment=pykt")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "logs" / "pykt",
        help="folder for RESULTS_pykt.md and results_pykt.json (default: logs/pykt; the committed table: "
        "--out experiments)",
    )
    parser.add_argument("--leaderboard", type=Path, default=ROOT / "experiments" / "pykt_leaderboard.yaml")
    parser.add_argument(
        "--merge",
        type=Path,
        default=None,
        metavar="FILE",
        help="also tabulate the runs this earlier results_pykt.json recorded (a run found again replaces it)",
    )
    return parser


@report_user_errors
def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    args = _parser().parse_args(argv)
    board = _read_yaml(args.leaderboard)
    if not isinstance(board, dict) or "datasets" not in board:
        raise KtlabError(
            f"{args.leaderboard}: not a leaderboard file (a mapping with source, ktlab, datasets)."
        )
    runs = find_runs(args.folders)
    if args.merge is not None:
        runs = merge_runs(recorded_runs(args.merge), runs)
    rows = summarize(runs, board)
    command = "python experiments/collect_pykt.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    args.out.mkdir(parents=True, exist_ok=True)
    md_path, json_path = args.out / "RESULTS_pykt.md", args.out / "results_pykt.json"
    md_path.write_text(markdown(rows, board, command))
    records = [{**run.__dict__, "path": str(run.path)} for run in runs]
    json_path.write_text(
        json.dumps(
            {"protocol": PROTOCOL, "leaderboard_source": board.get("source"), "table": rows, "runs": records},
            indent=2,
        )
        + "\n"
    )
    print(f"results: {md_path}, {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
