import os
import shutil
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


def require_data() -> bool:
    """``PYENGINE_REQUIRE_DATA=1`` (CI sets it): a test that needs the benchmark data fails
    instead of skipping where the folder is absent."""
    return os.environ.get("PYENGINE_REQUIRE_DATA", "").strip() not in ("", "0")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = _data_dir()
    if d is None or not d.is_dir():
        reason = "benchmark data folder ../shared/data (or $PYENGINE_DATA) is absent"
        if require_data():
            pytest.fail(f"{reason}, and PYENGINE_REQUIRE_DATA is set")
        pytest.skip(reason)
    return d


@pytest.fixture(scope="session")
def nb101_space():
    from pyengine.graph import nb101

    return nb101.enumerate_space()


@pytest.fixture(scope="session", autouse=True)
def _suite_cache_dir(tmp_path_factory):
    """Commands called in-process (``main([...])``) would point JAX's persistent compilation cache
    at the user's folder; the test process keeps the suite's own (:func:`suite_xla_cache`), and
    subprocesses and caches of the suite use a fresh folder, not the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYENGINE_CACHE_DIR", str(tmp_path_factory.mktemp("pyengine_cache")))
        mp.setattr("pyengine._compile_cache.enable_compilation_cache", lambda *a, **k: None)
        yield


_XLA_CACHE_LIMIT = 2 << 30  # bytes; a larger folder is emptied when a run starts


def suite_xla_cache() -> str | None:
    """The folder of JAX's persistent compilation cache for the test processes:
    ``$PYENGINE_TEST_XLA_CACHE``, or ``.pytest_cache/pyengine-xla`` in the repository; None when that
    variable is ``0``. Programs compiled by one run are read by the next (the suite is XLA compiles
    for the most part), and the slow suite reads what the fast suite compiled. Entries are keyed by
    the program, the JAX version and the compile options, so an edit compiles anew."""
    d = os.environ.get("PYENGINE_TEST_XLA_CACHE", "").strip()
    if d == "0":
        return None
    return d or str(REPO / ".pytest_cache" / "pyengine-xla")


def pytest_configure(config):
    d = suite_xla_cache()
    if not d:
        return
    if not hasattr(config, "workerinput"):  # the controlling process, before any worker starts
        folder = Path(d)
        if folder.is_dir() and sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) > _XLA_CACHE_LIMIT:
            shutil.rmtree(folder, ignore_errors=True)
    import jax

    # no size cap through JAX: its eviction is not safe across the concurrent worker processes
    jax.config.update("jax_compilation_cache_dir", d)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


@pytest.fixture(scope="module", autouse=True)
def _free_compiled_programs():
    """Every XLA:CPU executable holds about three memory mappings until it is freed, and one
    process may hold at most ``vm.max_map_count`` (65,530 by default): the whole suite in one
    process compiles more programs than that allows, so each module's programs are freed after it."""
    yield
    import jax

    jax.clear_caches()
