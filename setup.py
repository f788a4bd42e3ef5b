"""Package layout for setuptools (the metadata is in pyproject.toml).

The Hydra configs (top-level ``conf/``) and the Alembic migrations (``migrations/``) stay where a checkout
keeps them and ship inside the package as ``ktlab/conf`` and ``ktlab/migrations``: each of their folders is
mapped as a package of data files, found by walking the folder so a new config group needs no edit here.
``ktlab.utils.resources`` finds them in either place.
"""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
SHIPPED = {"ktlab.conf": "conf", "ktlab.migrations": "migrations"}


def _folders(package: str, folder: str) -> dict[str, str]:
    """``package`` and one package per sub-folder of ``folder`` (no caches), mapped to their folders."""
    root = HERE / folder
    found = {package: folder}
    for path in sorted(p for p in root.rglob("*") if p.is_dir() and p.name != "__pycache__"):
        relative = path.relative_to(root)
        found[".".join((package, *relative.parts))] = "/".join((folder, *relative.parts))
    return found


shipped = {
    name: path for package, folder in SHIPPED.items() for name, path in _folders(package, folder).items()
}
setup(
    packages=[*find_packages("src"), *shipped],
    package_dir={"": "src", **shipped},
    package_data={"ktlab": ["py.typed"], **{name: ["*.yaml", "*.py", "*.mako"] for name in shipped}},
)
