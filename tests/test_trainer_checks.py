"""Trainer values Lightning would refuse (or a device the machine lacks) are refused up front: exit 2, one
paragraph naming the key, the value and the values Lightning takes."""

from __future__ import annotations

from pathlib import Path

import pytest
from lightning.pytorch.accelerators import AcceleratorRegistry

from ktlab.config_checks import check_config
from ktlab.errors import ConfigError
from tests.conftest import run_cli


def test_a_bad_precision_and_a_missing_tpu_exit_2_in_one_paragraph(tmp_path: Path) -> None:
    result = run_cli(
        "train.py", "trainer.precision=64x", "trainer.accelerator=tpu", f"paths.root_dir={tmp_path}"
    )
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "Error in call to target" not in result.stderr
    message = " ".join(result.stderr.split())
    assert "trainer.precision=64x: Lightning takes one of" in message
    assert all(value in message for value in ("32-true", "bf16-mixed", "16-mixed", "64-true", "bf16"))
    if not AcceleratorRegistry["tpu"]["accelerator"].is_available():  # checked, not assumed
        assert "trainer.accelerator=tpu: this machine has no TPU device (it has: cpu" in message


@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed", "bf16", 32, "64"])
def test_every_precision_lightning_takes_passes(make_cfg, precision) -> None:
    check_config(make_cfg("train", f"trainer.precision={precision}"))


@pytest.mark.parametrize(
    ("accelerator", "expected"),
    [
        (
            "tpuu",
            "trainer.accelerator=tpuu: Lightning has no such accelerator; choose one of auto, cpu, cuda, ",
        ),
        ("xla", "trainer.accelerator=xla: Lightning has no such accelerator"),
    ],
)
def test_an_accelerator_lightning_does_not_know_is_named_with_the_choices(
    make_cfg, accelerator, expected
) -> None:
    with pytest.raises(ConfigError) as info:
        check_config(make_cfg("train", f"trainer.accelerator={accelerator}"))
    assert expected in str(info.value) and "tpu" in str(info.value)


@pytest.mark.parametrize("accelerator", ["cpu", "auto"])
def test_the_cpu_and_auto_pass_on_any_machine(make_cfg, accelerator) -> None:
    check_config(make_cfg("train", f"trainer.accelerator={accelerator}"))
