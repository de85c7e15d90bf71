"""Fuzzing of the native core: the tests/fuzz targets built with ASan and UBSan and run for a
bounded time each (libFuzzer with clang++, the standalone driver with g++), and NB201 arch-string
parsing on arbitrary and mutated text."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ("nb101", "nb201", "darts")
SECONDS_PER_TARGET = 20
# Text that only appears when a sanitizer, libFuzzer or a harness check reports a finding.
FINDING_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "ERROR: UndefinedBehaviorSanitizer",
    "runtime error:",
    "ERROR: libFuzzer",
    "fuzz property violated",
    "crashing input written",
    "terminate called",
)


def _tool(name: str, module: str, attr: str) -> str | None:
    """A build tool from PATH, beside the interpreter, or from its pip package (the virtualenv is
    not always activated)."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found:
        return found
    try:
        pkg = importlib.import_module(module)
    except ImportError:
        return None
    return shutil.which(name, path=str(getattr(pkg, attr, "")))


@pytest.fixture(scope="module")
def fuzz_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bool]:
    """Builds the fuzz targets once; returns their folder and whether they use libFuzzer."""
    cmake = _tool("cmake", "cmake", "CMAKE_BIN_DIR")
    if cmake is None:
        pytest.skip("cmake is not installed (pip install cmake)")
    # PYENGINE_FUZZ_CXX picks the compiler; by default clang++ (libFuzzer) when present.
    compiler = os.environ.get("PYENGINE_FUZZ_CXX") or shutil.which("clang++") or shutil.which("g++")
    if compiler is None:
        pytest.skip("neither clang++ nor g++ is installed")
    build = tmp_path_factory.mktemp("fuzz_build")
    configure = [
        cmake,
        "-S",
        str(ROOT),
        "-B",
        str(build),
        "-DPYENGINE_BUILD_PYTHON=OFF",
        "-DPYENGINE_FUZZ=ON",
        f"-DCMAKE_CXX_COMPILER={compiler}",
    ]
    ninja = _tool("ninja", "ninja", "BIN_DIR")
    if ninja is not None:
        configure += ["-G", "Ninja", f"-DCMAKE_MAKE_PROGRAM={ninja}"]
    for cmd in (configure, [cmake, "--build", str(build), "-j2"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    cache = (build / "CMakeCache.txt").read_text()
    libfuzzer = re.search(r"^PYENGINE_FUZZ_LIBFUZZER:BOOL=(ON|1|TRUE)$", cache, re.MULTILINE) is not None
    return build / "tests" / "fuzz", libfuzzer


@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_target_finds_nothing(fuzz_build: tuple[Path, bool], target: str, tmp_path: Path) -> None:
    folder, libfuzzer = fuzz_build
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    cmd = [
        str(folder / f"fuzz_{target}"),
        f"-max_total_time={SECONDS_PER_TARGET}",
        "-max_len=256",
        "-seed=1",
        f"-artifact_prefix={tmp_path}{os.sep}",
    ]
    if libfuzzer:
        # the peak resident size libFuzzer checks is inherited through fork and exec from this
        # test process (gigabytes after a suite of compiled programs): its whole-process limit is
        # off, single allocations stay capped
        cmd += ["-print_final_stats=1", "-rss_limit_mb=0", "-malloc_limit_mb=2048", str(corpus)]
    env = dict(os.environ, UBSAN_OPTIONS="print_stacktrace=1", ASAN_OPTIONS="detect_odr_violation=2")
    proc = subprocess.run(
        cmd, capture_output=True, text=True, errors="replace", cwd=tmp_path, env=env, timeout=SECONDS_PER_TARGET + 240
    )
    output = proc.stdout + proc.stderr
    found = [m for m in FINDING_MARKERS if m in output]
    assert proc.returncode == 0 and not found, f"fuzz_{target} exited with {proc.returncode}:\n{output[-6000:]}"
    runs = re.search(r"Done (\d+) runs", output)
    assert runs is not None and int(runs.group(1)) > 0, output[-2000:]


def _arch_str_tokens() -> st.SearchStrategy[str]:
    from pyengine.graph import nb201

    ops = st.sampled_from(nb201.OPS)
    valid = st.tuples(*[ops] * 6).map(lambda o: f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|")
    alphabet = st.sampled_from(list("|+~0123_ab") + ["none", "skip_connect", "nor_conv_3x3", "\x00", "é"])
    noise = st.lists(alphabet, max_size=40).map("".join)

    def mutate(args: tuple[str, int, int, str]) -> str:
        s, at, cut, insert = args
        at %= len(s) + 1
        return s[:at] + insert + s[at + cut % 4 :]

    mutated = st.tuples(valid, st.integers(0, 200), st.integers(0, 3), noise).map(mutate)
    return st.one_of(valid, mutated, noise, st.text(max_size=80))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_nb201_arch_str_parse_fuzz(data: st.DataObject) -> None:
    """Any text parses to valid ops that format back to the same text, or raises ValueError."""
    from pyengine.graph import nb201

    s = data.draw(_arch_str_tokens())
    try:
        ops = nb201.parse_arch_str(s)
    except ValueError:
        with pytest.raises(ValueError):
            nb201._parse_slow(s)
        return
    assert ops.shape == (6,)
    assert ((ops >= 0) & (ops < len(nb201.OPS))).all()
    assert nb201.format_arch_str(ops) == s
    assert nb201._parse_slow(s) == ops.tolist()
