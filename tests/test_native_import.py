"""Importing pyengine from a source tree without its own build (a script run from the repository
root while the package is installed): the installed extension stands in when it has the source's
version and interface, else the import error says how to install the source in place."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pyengine import _native

REPO = Path(__file__).resolve().parent.parent
SCRIPT = (
    "import pyengine, pyengine._native as n\n"
    "from pyengine.graph import nb201\n"
    "nb201.parse_arch_strs(['|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|'])\n"
    "print(n.core.__file__)\n"
    "print(pyengine.__version__)\n"
)


@pytest.fixture(scope="module")
def source_root(tmp_path_factory) -> Path:
    """A copy of the source tree (package and pyproject.toml) with no built extension."""
    root = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("_core.*.so", "_core*.pyd", "__pycache__")
    shutil.copytree(REPO / "pyengine", root / "pyengine", ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    assert not [p for p in (root / "pyengine").iterdir() if p.name.startswith("_core.") and p.suffix != ".pyi"]
    return root


def fake_install(site: Path, version: str, stub: bytes) -> Path:
    """An installed distribution in ``site`` holding the extension (this process's own build) and
    ``stub`` as its ``_core.pyi``; returns the extension's path."""
    pkg = site / "pyengine"
    pkg.mkdir(parents=True)
    ext = pkg / Path(_native.core.__file__).name
    shutil.copy(_native.core.__file__, ext)
    (pkg / "_core.pyi").write_bytes(stub)
    info = site / f"{_native.DISTRIBUTION.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {_native.DISTRIBUTION}\nVersion: {version}\n")
    (info / "RECORD").write_text(f"pyengine/{ext.name},,\npyengine/_core.pyi,,\n{info.name}/METADATA,,\n")
    return ext


def run_from(root: Path, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


def source_version() -> str:
    v = _native._source_version(REPO / "pyproject.toml")
    assert v is not None
    return v


def test_source_version_reads_the_project_table(tmp_path):
    toml = tmp_path / "pyproject.toml"
    toml.write_text('[tool.x]\nversion = "9"\n\n[project]\nname = "a"\nversion = "1.2.3"\n[tool.y]\nversion = "7"\n')
    assert _native._source_version(toml) == "1.2.3"
    toml.write_text('[project]\nname = "a"\n')
    assert _native._source_version(toml) is None


def test_source_root_uses_the_matching_installed_extension(source_root, tmp_path):
    ext = fake_install(tmp_path / "site", source_version(), (REPO / "pyengine" / "_core.pyi").read_bytes())
    r = run_from(source_root, tmp_path / "site")
    assert r.returncode == 0, r.stderr
    core_file, version = r.stdout.split()
    assert Path(core_file).resolve() == ext.resolve()
    assert version == source_version()


@pytest.mark.parametrize("what", ["version", "interface"])
def test_source_root_refuses_another_build(source_root, tmp_path, what):
    stub = (REPO / "pyengine" / "_core.pyi").read_bytes()
    if what == "version":
        fake_install(tmp_path / "site", source_version() + ".post1", stub)
    else:
        fake_install(tmp_path / "site", source_version(), stub + b"\ndef added() -> None: ...\n")
    r = run_from(source_root, tmp_path / "site")
    assert r.returncode != 0
    assert "ImportError" in r.stderr and "pip install -e ." in r.stderr, r.stderr
    assert ("is version" if what == "version" else "_core.pyi differs") in r.stderr
