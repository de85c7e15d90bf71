"""The graph core's CUDA path: its per-cell code (core/include/pyengine/hd/, what every GPU thread
runs) against the batched CPU core on random cells, the kernel file compiled by nvcc and by NVRTC
(the compiler the run-time path uses) where they are installed, and the typed errors of a machine
without a GPU. The kernels themselves run in the ``gpu`` tests, on a machine with a GPU."""

import ctypes
import ctypes.util
import glob
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from pyengine._native import core as _core
from pyengine.errors import InvalidValueError, PyengineError
from pyengine.graph import darts, nb101, nb201
from pyengine.graph import device as _device


def _random_batch(rng, batch, n_max, *, p=0.5):
    m = (rng.random((batch, n_max, n_max)) < p).astype(np.uint8)
    m = np.triu(m, 1)
    # Some lower-triangle entries: not upper triangular.
    low = rng.random(batch) < 0.05
    m[low, -1, 0] = 1
    labels = rng.integers(0, 3, (batch, n_max)).astype(np.int8)
    labels[:, 0] = -1
    nv = rng.integers(1, n_max + 1, batch).astype(np.int32)
    labels[np.arange(batch), nv - 1] = -2
    # A few wrong labels: bad first/last/interior ops.
    wrong = rng.random(batch) < 0.03
    labels[wrong, rng.integers(0, n_max, int(wrong.sum()))] = rng.integers(-3, 5, int(wrong.sum()))
    return m, labels, nv


@pytest.mark.parametrize("n_max,seed", [(7, 0), (7, 1), (9, 2), (3, 3), (1, 4)])
def test_per_cell_path_matches_the_batched_core(n_max, seed):
    rng = np.random.default_rng(seed)
    m, labels, nv = _random_batch(rng, 40_000, n_max)
    want = _core.nb101_process(m, labels, nv, True, True, 0)
    got = _core.nb101_process_scalar(m, labels, nv, True, 0)
    assert not got["malformed"].any()
    np.testing.assert_array_equal(got["status"], want["status"])
    np.testing.assert_array_equal(got["canonical_keys"], want["canonical_keys"])
    np.testing.assert_array_equal(got["hashes"], want["hashes"])
    if n_max >= 7:
        # The draw reaches every status, valid cells included (too many vertices needs n_max > 7).
        assert set(np.unique(want["status"]).tolist()) >= set(range(8)) - ({3} if n_max == 7 else set())


def test_per_cell_path_on_the_whole_space_gives_the_official_hashes():
    space = nb101.enumerate_space()
    cells = nb101.cells_from_keys(space.canonical_keys[::7])
    got = _core.nb101_process_scalar(cells.matrices, cells.labels, cells.num_vertices, True, 0)
    assert (got["status"] == 0).all()
    np.testing.assert_array_equal(got["canonical_keys"], space.canonical_keys[::7])
    np.testing.assert_array_equal(got["hashes"].astype("U32"), space.hashes[::7])


def test_per_cell_path_reports_malformed_cells_as_codes():
    rng = np.random.default_rng(5)
    m, labels, nv = _random_batch(rng, 10, 7)
    m[3, 2, 5] = 2
    nv[3] = 7
    nv[6] = 0
    nv[8] = 9
    got = _core.nb101_process_scalar(m, labels, nv, True, 0)
    assert got["malformed"][3] == 1 + 2 * 7 + 5
    assert got["malformed"][6] == -1 and got["malformed"][8] == -1
    assert (got["status"][[3, 6, 8]] == 0xFF).all() and (got["canonical_keys"][[3, 6, 8]] == -1).all()
    ok = np.setdiff1d(np.arange(10), [3, 6, 8])
    assert (got["malformed"][ok] == 0).all()
    # The batched core refuses the same cells, naming the first.
    with pytest.raises(InvalidValueError, match=r"cell 3: matrix entry \[2\]\[5\] is 2"):
        _core.nb101_process(m, labels, nv, True, True, 0)


def test_shared_darts_and_nb201_forms_still_give_the_known_classes():
    rep, cls = nb201.space_classes()
    assert len(np.unique(cls)) == nb201.NUM_CLASSES
    rng = np.random.default_rng(0)
    cells = darts.canonical(darts.check_cells(_random_darts(rng, 2000).reshape(1000, 2, 8, 2)))
    # Canonical cells are fixed points and keys decode to them.
    np.testing.assert_array_equal(darts.canonical(cells), cells)


def _random_darts(rng, n):
    cells = np.zeros((n, 8, 2), dtype=np.int8)
    for k in range(4):
        for i in range(n):
            a, b = rng.choice(2 + k, 2, replace=False)
            cells[i, 2 * k] = (a, rng.integers(0, 7))
            cells[i, 2 * k + 1] = (b, rng.integers(0, 7))
    return cells


# -- the kernel file -------------------------------------------------------------------------------
ENTRY_POINTS = ("pyengine_nb101_process", "pyengine_nb201_canonicalize", "pyengine_darts_canonicalize")


def _find_nvrtc():
    name = ctypes.util.find_library("nvrtc")
    candidates = [name] if name else []
    for base in sys.path + [os.environ.get("CUDA_HOME", "/usr/local/cuda")]:
        candidates += sorted(glob.glob(os.path.join(base, "nvidia", "*", "lib", "libnvrtc.so*")))
        candidates += sorted(glob.glob(os.path.join(base, "lib64", "libnvrtc.so*")))
    for c in candidates:
        try:
            return ctypes.CDLL(c)
        except OSError:
            continue
    return None


def test_kernel_sources_compile_with_nvrtc():
    lib = _find_nvrtc()
    if lib is None:
        pytest.skip("no NVRTC library (pip install nvidia-cuda-nvrtc, or a CUDA toolkit)")
    source, _ = _device.kernel_source()
    prog = ctypes.c_void_p()
    assert lib.nvrtcCreateProgram(ctypes.byref(prog), source.read_bytes(), b"canon.cu", 0, None, None) == 0
    opts = [o.encode() for o in _device.compile_options()] + [b"--gpu-architecture=compute_80"]
    rc = lib.nvrtcCompileProgram(prog, len(opts), (ctypes.c_char_p * len(opts))(*opts))
    size = ctypes.c_size_t()
    lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetProgramLog(prog, log)
    assert rc == 0, log.value.decode(errors="replace")
    lib.nvrtcGetPTXSize(prog, ctypes.byref(size))
    ptx = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetPTX(prog, ptx)
    text = ptx.value.decode()
    for name in ENTRY_POINTS:
        assert f".entry {name}(" in text


def test_kernel_sources_compile_with_nvcc(tmp_path):
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("no nvcc on PATH")
    source, include = _device.kernel_source()
    ptx = tmp_path / "canon.ptx"
    subprocess.run(
        [nvcc, "-std=c++17", "-arch=sm_80", f"-I{include}", "--ptx", str(source), "-o", str(ptx)],
        check=True,
        capture_output=True,
    )
    text = ptx.read_text()
    for name in ENTRY_POINTS:
        assert f".entry {name}(" in text


def test_without_a_usable_gpu_the_device_path_says_why():
    if _device.available():
        pytest.skip("a GPU is usable here")
    rng = np.random.default_rng(0)
    m, labels, nv = _random_batch(rng, 4, 7)
    with pytest.raises(PyengineError, match="cupy|CUDA device"):
        _device.nb101_process(m, labels, nv)
    with pytest.raises(PyengineError, match="cupy|CUDA device"):
        _device.nb201_canonicalize(np.zeros((2, 6), np.int8))


# -- on a GPU ----------------------------------------------------------------------------------------
@pytest.mark.gpu
def test_kernels_match_the_cpu_core_on_a_gpu():
    if not _device.available():
        pytest.skip("no usable GPU (CuPy and a CUDA device)")
    import cupy

    rng = np.random.default_rng(11)
    m, labels, nv = _random_batch(rng, 1_000_000, 7)
    want = _core.nb101_process(m, labels, nv, True, True, 0)
    got = _device.nb101_process(m, labels, nv)
    np.testing.assert_array_equal(cupy.asnumpy(got["status"]), want["status"])
    np.testing.assert_array_equal(cupy.asnumpy(got["canonical_keys"]), want["canonical_keys"])
    np.testing.assert_array_equal(cupy.asnumpy(got["hashes"]).view("S32").ravel(), want["hashes"].astype("S32"))
    m[5, 1, 3] = 3
    with pytest.raises(InvalidValueError, match=r"cell 5: matrix entry \[1\]\[3\] is 3"):
        _device.nb101_process(m, labels, nv)

    ops = rng.integers(0, 5, (50_000, 6)).astype(np.int8)
    rep, cls = _device.nb201_canonicalize(ops)
    want_rep, want_cls = nb201.canonicalize(ops)
    np.testing.assert_array_equal(cupy.asnumpy(rep), want_rep)
    np.testing.assert_array_equal(cupy.asnumpy(cls), want_cls)

    matrices, labels = _device.nb101_random_specs(5, 1000, 100_000)
    host = nb101.random_specs(5, 1000, 100_000)
    np.testing.assert_array_equal(cupy.asnumpy(matrices), host.matrices)
    np.testing.assert_array_equal(cupy.asnumpy(labels), host.labels)
    status, keys = _device.nb101_stream_keys(5, 1000, 100_000)
    want_status, want_keys = nb101.stream_keys(5, 1000, 100_000)
    np.testing.assert_array_equal(cupy.asnumpy(status), want_status)
    np.testing.assert_array_equal(cupy.asnumpy(keys), want_keys)

    cells = _random_darts(rng, 20_000)
    out = _device.darts_canonicalize(cells)
    keys, forms, canon = _core.darts_canonicalize(cells, 0)
    np.testing.assert_array_equal(cupy.asnumpy(out["keys"]), keys)
    np.testing.assert_array_equal(cupy.asnumpy(out["forms"]), forms)
    np.testing.assert_array_equal(cupy.asnumpy(out["canonical"]), canon)


# -- the counter-based random stream ---------------------------------------------------------------
def test_random_stream_is_a_function_of_seed_and_index():
    whole = nb101.random_specs(7, 0, 5000)
    parts = [
        nb101.random_specs(7, s, 1000, threads=t) for s, t in zip(range(0, 5000, 1000), [1, 2, 1, 2, 1], strict=True)
    ]
    np.testing.assert_array_equal(np.concatenate([p.matrices for p in parts]), whole.matrices)
    np.testing.assert_array_equal(np.concatenate([p.labels for p in parts]), whole.labels)
    other = nb101.random_specs(8, 0, 5000)
    assert not np.array_equal(other.matrices, whole.matrices)


@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 1.0])
def test_random_stream_draws_edges_and_ops_with_the_stated_law(p):
    cells = nb101.random_specs(1, 0, 200_000, edge_prob=p)
    m = cells.matrices
    iu = np.triu_indices(7, 1)
    edges = m[:, iu[0], iu[1]]
    assert not np.tril(m).any()
    assert abs(edges.mean() - p) < 0.003
    if 0 < p < 1:  # edges independent of each other: pairwise correlation near zero
        c = np.corrcoef(edges[:, :6].T.astype(float))
        assert np.abs(c - np.eye(6)).max() < 0.01
    assert (cells.labels[:, 0] == -1).all() and (cells.labels[:, 6] == -2).all()
    counts = np.bincount(cells.labels[:, 1:6].ravel(), minlength=3)
    assert counts.size == 3 and np.abs(counts / counts.sum() - 1 / 3).max() < 0.003


def test_stream_keys_equal_validating_the_drawn_specs():
    cells = nb101.random_specs(3, 12_345, 50_000)
    res = nb101.validate(cells, hashes=False)
    status, keys = nb101.stream_keys(3, 12_345, 50_000)
    np.testing.assert_array_equal(status, res.status)
    np.testing.assert_array_equal(keys, res.canonical_keys)
    assert 0 < (status == 0).mean() < 1


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"count": -3}, "count"),
        ({"edge_prob": 1.5}, "edge_prob"),
        ({"edge_prob": float("nan")}, "edge_prob"),
        ({"edge_prob": "x"}, "edge_prob"),
    ],
)
def test_random_stream_refuses_bad_arguments(kwargs, match):
    args = {"seed": 0, "start": 0, "count": 10} | kwargs
    edge_prob = args.pop("edge_prob", 0.5)
    with pytest.raises(PyengineError, match=match):
        nb101.random_specs(args["seed"], args["start"], args["count"], edge_prob=edge_prob)
