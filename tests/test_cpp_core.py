"""Builds the C++ core with its C++ tests (tests/cpp) and runs them through CTest."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tool(name):
    """The tool of the running interpreter's environment (the 'test' extra installs cmake and
    ninja there, and a virtual environment that is not activated is not on PATH), else PATH's."""
    env_bin = Path(sys.executable).parent
    path = shutil.which(name, path=str(env_bin)) or shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed in {env_bin} nor on PATH (it comes with the 'test' extra)")
    return path


def test_ctest_suite_passes(tmp_path):
    cmake = _tool("cmake")
    ctest = _tool("ctest")
    build = tmp_path / "build"
    ninja = shutil.which("ninja", path=str(Path(sys.executable).parent)) or shutil.which("ninja")
    gen = ["-G", "Ninja", f"-DCMAKE_MAKE_PROGRAM={ninja}"] if ninja else []
    cfg = subprocess.run(
        [
            cmake,
            "-S",
            str(REPO),
            "-B",
            str(build),
            *gen,
            "-DPYENGINE_BUILD_PYTHON=OFF",
            "-DPYENGINE_BUILD_TESTS=ON",
            "-DCMAKE_BUILD_TYPE=Release",
        ],
        capture_output=True,
        text=True,
    )
    assert cfg.returncode == 0, cfg.stdout + cfg.stderr
    jobs = str(os.cpu_count() or 1)
    bld = subprocess.run([cmake, "--build", str(build), "-j", jobs], capture_output=True, text=True)
    assert bld.returncode == 0, bld.stdout + bld.stderr
    assert "warning" not in bld.stdout.lower(), bld.stdout
    run = subprocess.run([ctest, "--test-dir", str(build), "--output-on-failure"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "100% tests passed" in run.stdout
