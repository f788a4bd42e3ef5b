"""The epoch timer: each training epoch's seconds, logged and (for benchmark scripts) written as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ktlab.train import train


def test_epoch_seconds_are_logged_and_written(make_cfg, tmp_path: Path) -> None:
    path = tmp_path / "times" / "epochs.json"
    cfg = make_cfg(
        "train",
        "+callbacks.epoch_time._target_=ktlab.callbacks.epoch_time.EpochTime",
        f"+callbacks.epoch_time.path={path}",
        "trainer.max_epochs=3",
        "test=false",
    )
    train(cfg)
    seconds = json.loads(path.read_text())
    assert len(seconds) == 3 and all(s > 0 for s in seconds)
    logged = pd.read_csv(Path(cfg.paths.output_dir) / "csv" / "metrics.csv")["time/train_epoch_s"].dropna()
    assert logged.round(6).tolist() == [round(s, 6) for s in seconds]
