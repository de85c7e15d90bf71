import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
sys.path.insert(0, str(TESTS))  # makes `oracles` importable


def _data_dir() -> Path | None:
    from pyengine.tables import default_data_dir

    d = default_data_dir()
    if d is None:
        cand = REPO.parent / "shared" / "data"
        d = cand if cand.is_dir() else None
    return d


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = _data_dir()
    if d is None or not d.is_dir():
        pytest.skip("benchmark data folder ../shared/data is absent")
    return d


@pytest.fixture(scope="session")
def nb101_space():
    from pyengine.graph import nb101

    return nb101.enumerate_space()


@pytest.fixture(scope="session", autouse=True)
def _no_persistent_compilation_cache(tmp_path_factory):
    """Commands called in-process (``main([...])``) would turn on JAX's persistent compilation
    cache for the whole test process, and reading executables back from it crashed later tests;
    it stays off here. Subprocesses and caches of the suite use a fresh folder, not the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYENGINE_CACHE_DIR", str(tmp_path_factory.mktemp("pyengine_cache")))
        mp.setattr("pyengine._compile_cache.enable_compilation_cache", lambda *a, **k: None)
        yield
