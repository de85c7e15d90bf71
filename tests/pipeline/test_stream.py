"""The streaming top-k (`pyengine.pipeline.stream_top_k`, `pyengine score --sample`): determinism,
top-k equal to brute force over the stream, de-duplication against the canonical-key API,
chunk-size invariance, consistent statistics, typed errors, and the command line round trip."""

import json
import sys
import types

import numpy as np
import pytest

from pyengine._batch import concat, take
from pyengine.cli import main
from pyengine.errors import DeviceUnavailableError, InvalidTypeError, InvalidValueError, MissingDependencyError
from pyengine.graph import nb101
from pyengine.pipeline import BACKENDS, BLOCK, STAGES, GpuBackend, block_rng, stream_top_k
from pyengine.predictors import get_predictor
from pyengine.spaces import get_space
from pyengine.tables import load_table

N = 20_000


@pytest.fixture(scope="module")
def gcn101(data_dir):
    table = load_table("nb101_20k")
    rows = np.random.default_rng(0).choice(len(table), size=200, replace=False)
    return get_predictor("gcn", space="nb101", epochs=5, random_state=0).fit(
        take(table.archs, rows), table.column()[rows]
    )


@pytest.fixture(scope="module")
def rf201(data_dir):
    table = load_table("nb201_cifar10_200ep")
    rows = np.random.default_rng(0).choice(len(table), size=150, replace=False)
    return get_predictor("rf", space="nb201", n_estimators=20, random_state=0).fit(
        take(table.archs, rows), table.column()[rows]
    )


@pytest.fixture(scope="module")
def stream101(gcn101):
    return stream_top_k("nb101", gcn101, N, k=25, seed=7, chunk_size=1000, device="cpu")


def _raw_stream(seed, n):
    """The stream's raw NB101 candidates as documented: the counter-based stream of the seed."""
    return nb101.random_specs(seed, 0, n)


def _brute_force(keys, model, space, k):
    """Score every unique valid key with the predictor in one batch, sort by (-score, key)."""
    uniq = np.unique(keys[keys >= 0])
    cells = nb101.cells_from_keys(uniq) if space == "nb101" else None
    if space == "nb201":
        from pyengine.graph import nb201
        from pyengine.spaces import NB201Batch

        cells = NB201Batch(nb201.cells_from_index(uniq))
    scores = np.asarray(model.predict(cells), np.float64)
    order = np.lexsort((uniq, -scores))[:k]
    return uniq[order], scores[order]


def test_same_seed_same_top_k_and_another_seed_another(gcn101, stream101):
    again = stream_top_k("nb101", gcn101, N, k=25, seed=7, chunk_size=1000, device="cpu")
    np.testing.assert_array_equal(again.keys, stream101.keys)
    np.testing.assert_array_equal(again.scores, stream101.scores)
    assert again.archs == stream101.archs
    other = stream_top_k("nb101", gcn101, N, k=25, seed=8, chunk_size=1000, device="cpu")
    assert not np.array_equal(other.keys, stream101.keys)


def test_top_k_equals_brute_force_over_the_stream(gcn101, stream101):
    keys = nb101.canonical_keys(_raw_stream(7, N))
    want_keys, want_scores = _brute_force(keys, gcn101, "nb101", 25)
    np.testing.assert_array_equal(stream101.keys, want_keys)
    np.testing.assert_allclose(stream101.scores, want_scores, rtol=1e-6)  # float32 model outputs
    assert np.all(np.diff(stream101.scores) <= 0)
    # the arch strings are the official hashes of the canonical cells, as pyengine score writes them
    assert stream101.archs == get_space("nb101").to_strings(nb101.cells_from_keys(want_keys))


def test_dedup_counts_match_the_canonical_key_api(stream101):
    raw = _raw_stream(7, N)
    res = nb101.validate(raw, hashes=False)
    keys = res.canonical_keys
    st = stream101.stats
    assert len(np.unique(stream101.keys)) == len(stream101.keys)
    assert st.unique == len(np.unique(keys[res.valid])) == st.scored
    assert st.valid == int(res.valid.sum())
    reasons = [r for r in res.reasons() if r is not None]
    assert st.invalid == {r: reasons.count(r) for r in nb101.REASONS}


def test_stats_are_consistent(stream101):
    st = stream101.stats
    assert st.generated == N and st.space == "nb101" and st.device == "cpu"
    assert st.valid + sum(st.invalid.values()) == st.generated
    assert st.duplicates == st.valid - st.unique and st.duplicates > 0
    assert st.chunks == N // 1000
    assert set(st.seconds) == set(STAGES) and all(t >= 0 for t in st.seconds.values())
    assert sum(st.shares().values()) == pytest.approx(1.0)
    d = json.loads(json.dumps(st.as_dict()))
    assert d["archs_per_second"] > 0 and d["unique"] == st.unique
    recs = stream101.records()
    assert [r["rank"] for r in recs] == list(range(1, 26))
    assert recs[0] == {"rank": 1, "arch": stream101.archs[0], "score": stream101.scores[0], "key": stream101.keys[0]}


def test_chunk_size_does_not_change_the_output(gcn101, stream101):
    big = stream_top_k("nb101", gcn101, N, k=25, seed=7, chunk_size=7000, device="cpu")
    np.testing.assert_array_equal(big.keys, stream101.keys)
    np.testing.assert_array_equal(big.scores, stream101.scores)
    assert big.archs == stream101.archs
    same = ("generated", "valid", "invalid", "unique", "duplicates", "scored")
    assert all(getattr(big.stats, f) == getattr(stream101.stats, f) for f in same)
    assert big.stats.chunks == 3


def test_nb201_with_a_feature_predictor_equals_brute_force(rf201):
    a = stream_top_k("nb201", rf201, 5000, k=10, seed=1, chunk_size=333)
    b = stream_top_k("nb201", rf201, 5000, k=10, seed=1, chunk_size=5000)
    np.testing.assert_array_equal(a.keys, b.keys)
    space = get_space("nb201")
    raw = concat([space.sample(BLOCK, block_rng(1, i)) for i in range(-(-5000 // BLOCK))])
    keys = space.canonical_keys(take(raw, np.arange(5000))).astype(np.int64)
    want_keys, want_scores = _brute_force(keys, rf201, "nb201", 10)
    np.testing.assert_array_equal(a.keys, want_keys)
    np.testing.assert_allclose(a.scores, want_scores, rtol=1e-12)
    assert a.stats.valid == 5000 and a.stats.invalid == {} and a.stats.unique == len(np.unique(keys))
    assert a.archs == space.to_strings(space.from_strings(a.archs))


def test_mutating_parents_is_deterministic_and_chunk_invariant(gcn101):
    space = get_space("nb101")
    parents = space.sample(20, np.random.default_rng(3))
    a = stream_top_k(space, gcn101, 3000, k=5, seed=2, chunk_size=500, parents=parents)
    b = stream_top_k(space, gcn101, 3000, k=5, seed=2, chunk_size=3000, parents=space.to_strings(parents))
    np.testing.assert_array_equal(a.keys, b.keys)
    assert a.stats.valid == a.stats.generated == 3000  # children of valid parents are valid
    children = concat(
        [
            space.mutate(take(parents, r.integers(0, 20, size=BLOCK)), r)
            for r in (block_rng(2, i) for i in range(-(-3000 // BLOCK)))
        ]
    )
    keys = space.canonical_keys(take(children, np.arange(3000)))
    assert a.stats.unique == len(np.unique(keys))
    assert set(a.keys.tolist()) <= set(keys.tolist())


def test_edge_probability_and_empty_streams(gcn101):
    none = stream_top_k("nb101", gcn101, 2000, k=5, seed=0, edge_prob=0.0)
    assert len(none.keys) == 0 and none.archs == [] and none.stats.valid == 0
    assert none.stats.invalid["disconnected"] == 2000
    dense = stream_top_k("nb101", gcn101, 2000, k=5, seed=0, edge_prob=0.9)
    assert dense.stats.invalid["too_many_edges"] > 1000
    empty = stream_top_k("nb101", gcn101, 0, k=5, seed=0)
    assert len(empty.keys) == 0 and empty.stats.generated == 0 and empty.stats.chunks == 0


class _Constant:
    """A fitted stand-in predictor returning a fixed value (NaN here)."""

    def __init__(self, value):
        self.value = value

    def predict(self, X):
        return np.full(len(X[0]) if isinstance(X, tuple) else len(X), self.value)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"chunk_size": 0}, InvalidValueError, "'chunk_size'"),
        ({"k": 0}, InvalidValueError, "'k'"),
        ({"n": -1}, InvalidValueError, "'n'"),
        ({"seed": -3}, InvalidValueError, "'seed'"),
        ({"k": 2.5}, InvalidValueError, "'k'"),
        ({"device": "tpu"}, InvalidValueError, "'device'"),
        ({"device": 0}, InvalidTypeError, "'device'"),
        ({"space": "darts"}, InvalidValueError, "nb101, nb201"),
        ({"edge_prob": 1.5}, InvalidValueError, "'edge_prob'"),
        ({"space": "nb201", "edge_prob": 0.3}, InvalidValueError, "NB101 specs only"),
    ],
)
def test_bad_arguments_raise_typed_errors_naming_them(gcn101, rf201, kwargs, error, words):
    args = {"space": "nb101", "n": 100, "k": 3, "seed": 0, **kwargs}
    model = rf201 if args["space"] == "nb201" else gcn101
    with pytest.raises(error, match=words):
        stream_top_k(args.pop("space"), model, args.pop("n"), **args)


def test_predictor_problems_raise_typed_errors(gcn101, rf201, tmp_path):
    with pytest.raises(InvalidValueError, match="not fitted yet; call fit"):
        stream_top_k("nb101", get_predictor("gcn", space="nb101"), 100, k=3, seed=0)
    with pytest.raises(InvalidValueError, match="fitted on nb201 architectures"):
        stream_top_k("nb101", rf201, 100, k=3, seed=0)
    with pytest.raises(InvalidTypeError, match="'predictor'"):
        stream_top_k("nb101", object(), 100, k=3, seed=0)
    with pytest.raises(InvalidValueError, match="non-finite score"):
        stream_top_k("nb101", _Constant(np.nan), 100, k=3, seed=0)
    rf201.save(tmp_path / "rf.model")
    with pytest.raises(InvalidValueError, match="fitted on nb201 architectures, not nb101"):
        stream_top_k("nb101", tmp_path / "rf.model", 100, k=3, seed=0)


def test_gpu_without_cupy_or_device_raises_and_auto_falls_back(gcn101, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy fails
    with pytest.raises(MissingDependencyError, match="device='gpu' needs the cupy package"):
        stream_top_k("nb101", gcn101, 100, k=3, seed=0, device="gpu")
    assert stream_top_k("nb101", gcn101, 100, k=3, seed=0, device="auto").stats.device == "cpu"
    for count, words in ((0, "no CUDA device is visible"), (1, "no GPU backend")):
        runtime = types.SimpleNamespace(getDeviceCount=lambda count=count: count)
        monkeypatch.setitem(sys.modules, "cupy", types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime)))
        if count:
            monkeypatch.setattr(BACKENDS, "names", lambda: ["cpu"])
        with pytest.raises(DeviceUnavailableError, match=words):
            stream_top_k("nb101", gcn101, 100, k=3, seed=0, device="gpu")
        assert stream_top_k("nb101", gcn101, 100, k=3, seed=0, device="auto").stats.device == "cpu"


class _FakeOutOfMemory(Exception):
    pass


class _HostStandIn(GpuBackend):
    """The GPU backend's own logic (device-side tally, de-duplication against the sorted keys seen,
    out-of-memory halving) run with numpy and the host's stream standing in for CuPy and the
    kernel, which share their functions; a chunk above ``fits`` candidates runs out of memory."""

    fits = 3000
    calls: list = []

    def _xp(self):
        return np

    def _device_keys(self, start, count):
        type(self).calls.append(count)
        if count > self.fits:
            raise _FakeOutOfMemory(f"{count} candidates")
        return nb101.stream_keys(self.seed, start, count, edge_prob=self.edge_prob)

    def _out_of_memory(self):
        return (_FakeOutOfMemory,)

    def _to_host(self, a):
        return np.asarray(a)


def test_gpu_backend_logic_gives_the_cpu_output_and_halves_on_out_of_memory(gcn101, stream101, monkeypatch, caplog):
    import pyengine.pipeline._stream as stream_mod

    real_get = BACKENDS.get
    monkeypatch.setattr(stream_mod, "resolve_device", lambda device: device)
    monkeypatch.setattr(BACKENDS, "get", lambda name: _HostStandIn if name == "gpu" else real_get(name))
    _HostStandIn.calls = []
    got = stream_top_k("nb101", gcn101, N, k=25, seed=7, chunk_size=7000, device="gpu")
    np.testing.assert_array_equal(got.keys, stream101.keys)
    np.testing.assert_array_equal(got.scores, stream101.scores)
    for field in ("valid", "invalid", "unique", "duplicates", "scored"):
        assert getattr(got.stats, field) == getattr(stream101.stats, field)
    # 7000 did not fit, nor 3500; 1750 did, and later chunks start at that size
    assert _HostStandIn.calls[:3] == [7000, 3500, 1750] and max(_HostStandIn.calls[3:]) <= 1750
    assert "out of memory" in caplog.text
    _HostStandIn.fits = 0
    with pytest.raises(DeviceUnavailableError, match="no memory left"):
        stream_top_k("nb101", gcn101, 10, k=3, seed=7, device="gpu")
    _HostStandIn.fits = 3000


def test_cli_round_trip(gcn101, tmp_path, capsys):
    model = tmp_path / "gcn.model"
    gcn101.save(model)
    out = tmp_path / "top.jsonl"
    args = ["score", "--space", "nb101", "--model", str(model), "--sample", "5000", "--top-k", "7", "--seed", "4"]
    assert main([*args, "--device", "cpu", "--chunk-size", "900", "--out", str(out), "--no-progress"]) == 0
    assert "5000 nb101 candidates" in capsys.readouterr().out
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    want = stream_top_k("nb101", model, 5000, k=7, seed=4).records()
    assert [r["key"] for r in rows] == [r["key"] for r in want] and [r["arch"] for r in rows] == [
        r["arch"] for r in want
    ]
    np.testing.assert_allclose([r["score"] for r in rows], [r["score"] for r in want], rtol=1e-12)
    summary = json.loads((tmp_path / "top.jsonl.summary.json").read_text())
    assert summary["generated"] == 5000 and summary["seed"] == 4 and summary["mode"] == "sample"
    assert summary["valid"] + sum(summary["invalid"].values()) == 5000
    # the rows are records pyengine reads back as architectures
    assert len(get_space("nb101").as_batch(rows)) == 7
    # an existing output is refused; streaming flags do not mix with the whole-space job's
    assert main([*args, "--out", str(out)]) == 1
    assert "exists" in capsys.readouterr().err
    assert main([*args, "--all", "--out", str(tmp_path / "x.jsonl")]) == 1
    assert "--all" in capsys.readouterr().err
    assert main(["score", "--space", "nb101", "--all", "--model", str(model), "--out", str(tmp_path / "y.jsonl"),
                 "--edge-prob", "0.3"]) == 1  # fmt: skip
    assert "--edge-prob goes with --sample" in capsys.readouterr().err
    assert main(["score", "--space", "nb101", "--all", "--model", str(model), "--out", str(tmp_path / "z.jsonl"),
                 "--top-k", "3"]) == 1  # fmt: skip
    assert "--top-k goes with --sample" in capsys.readouterr().err
    # mutation from parents read from a JSON-lines file
    parents = tmp_path / "parents.jsonl"
    parents.write_text("".join(json.dumps({"arch": r["arch"]}) + "\n" for r in rows[:3]))
    out2 = tmp_path / "mut.jsonl"
    mutate = ["score", "--space", "nb101", "--model", str(model), "--sample", "1000", "--parents", str(parents)]
    assert main([*mutate, "--out", str(out2), "--no-progress"]) == 0
    assert json.loads((tmp_path / "mut.jsonl.summary.json").read_text())["mode"] == "mutate"


@pytest.mark.gpu
def test_gpu_backend_matches_the_cpu_path(gcn101):
    from pyengine.pipeline import resolve_device

    if resolve_device("auto") != "gpu":
        pytest.skip("no GPU backend of the pipeline can run here (CuPy, a CUDA device and BACKENDS['gpu'] needed)")
    cpu = stream_top_k("nb101", gcn101, N, k=25, seed=7, device="cpu")
    gpu = stream_top_k("nb101", gcn101, N, k=25, seed=7, device="gpu")
    np.testing.assert_array_equal(gpu.keys, cpu.keys)
    np.testing.assert_allclose(gpu.scores, cpu.scores, rtol=1e-5)
    assert gpu.stats.unique == cpu.stats.unique and gpu.stats.invalid == cpu.stats.invalid
