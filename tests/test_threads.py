"""``cpu_threads``: one torch thread for a CPU run by default, unless the user chose a number of threads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from ktlab.config_checks import check_config
from ktlab.errors import ConfigError
from ktlab.train import train
from ktlab.utils.threads import THREAD_VARIABLES, cpu_threads, set_cpu_threads


@pytest.fixture
def two_threads(monkeypatch) -> Iterator[None]:
    """torch on 2 threads with no thread variable set, as a fresh shell on a 2-core machine; restored after."""
    before = torch.get_num_threads()
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_a_default_cpu_run_trains_on_one_thread(make_cfg, two_threads) -> None:
    cfg = make_cfg("train", "trainer.max_epochs=1")
    assert cfg.cpu_threads == "auto" and cfg.trainer.accelerator == "cpu"
    train(cfg)
    assert torch.get_num_threads() == 1


def test_a_number_of_threads_is_honoured(make_cfg, two_threads) -> None:
    set_cpu_threads(make_cfg("train", "cpu_threads=3"))
    assert torch.get_num_threads() == 3


def test_omp_num_threads_set_by_the_user_is_honoured(make_cfg, two_threads, monkeypatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    set_cpu_threads(make_cfg("train"))
    assert torch.get_num_threads() == 2


def test_null_keeps_torchs_choice_and_a_gpu_run_keeps_it_under_auto(make_cfg, two_threads) -> None:
    set_cpu_threads(make_cfg("train", "cpu_threads=null"))
    assert torch.get_num_threads() == 2
    assert cpu_threads("auto", "gpu") is None and cpu_threads("auto", "cpu") == 1


@pytest.mark.parametrize("value", ["0", "many", "true", "1.5"])
def test_a_bad_thread_count_is_refused_up_front(make_cfg, value) -> None:
    with pytest.raises(ConfigError, match=r"cpu_threads=.*: must be auto .* a number of threads >= 1"):
        check_config(make_cfg("train", f"cpu_threads={value}"))
