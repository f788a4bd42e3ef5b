"""Tabulate the metrics.json of every run below a folder (a sweep, or logs/train/runs).

    python scripts/summarize_runs.py logs/train/multiruns/2026-11-22_10-00-00 [--metrics test/auc test/oracle_auc]

Prints a Markdown table: the run's overrides (from .hydra/overrides.yaml), then the metrics, and the
ratio test/auc / test/oracle_auc when both exist.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from ktlab.cli import report_user_errors
from ktlab.errors import KtlabError

DEFAULT_METRICS = ["test/auc", "test/oracle_auc", "test/acc", "test/loss", "val/auc_best"]


def collect(root: Path, metrics: list[str]) -> list[dict[str, str]]:
    rows = []
    for path in sorted(root.rglob("metrics.json")):
        values = json.loads(path.read_text())
        overrides_file = path.parent / ".hydra" / "overrides.yaml"
        overrides = yaml.safe_load(overrides_file.read_text()) if overrides_file.exists() else []
        shown = [o for o in overrides if not o.startswith(("paths.", "callbacks.progress_bar"))]
        row = {"run": " ".join(shown) or path.parent.name}
        for key in metrics:
            row[key] = f"{values[key]:.4f}" if isinstance(values.get(key), float) else "-"
        if isinstance(values.get("test/auc"), float) and isinstance(values.get("test/oracle_auc"), float):
            row["auc / oracle"] = f"{values['test/auc'] / values['test/oracle_auc']:.3f}"
        rows.append(row)
    return rows


@report_user_errors
def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("root", type=Path)
    parser.add_argument("--metrics", nargs="+", default=DEFAULT_METRICS)
    args = parser.parse_args()
    if not args.root.is_dir():
        raise KtlabError(f"{args.root}: no such folder; pass a run or sweep folder under logs/.")
    rows = collect(args.root, args.metrics)
    if not rows:
        raise KtlabError(f"{args.root}: holds no metrics.json; has a run finished there?")
    columns = list(dict.fromkeys(key for row in rows for key in row))
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(row.get(c, "-") for c in columns) + " |")


if __name__ == "__main__":
    main()
