"""Zero-cost proxies on real NB201 architectures: closed forms against NASLib's records, the
compiled program against a network built for one fixed cell, degenerate networks, the vmapped
form against the per-architecture form, determinism and bad input."""

import json
import re

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pyengine._compile_cache import ProgramCache
from pyengine.cli import main
from pyengine.nets import NB201Net
from pyengine.proxies import DATASETS, PROXIES, ProxyScorer
from pyengine.proxies import _nb201 as nb
from pyengine.proxies._defs import jacob_cov_host
from pyengine.spaces import get_space
from pyengine.spaces._base import take
from pyengine.tables import load_table

from .test_oracles import BATCH, CELLS, CHANNELS, SEED

ZERO_NET = (1, 0, 1, 4, 0, 1)  # NASLib tuple of a cell with no path from input to output
ALL = PROXIES.names()
DEGENERATE = {"jacob_cov": -np.inf, "epe_nas": -np.inf, "nwot": -np.inf, "zen": -np.inf}
ZERO = ("synflow", "snip", "grad_norm", "plain", "grasp")
# the fast suite's network (the oracle tests' settings, so the compiled programs are shared):
# C=2, one cell per stage; the benchmark's network (C=16, five cells) runs in the slow suite
TINY = {"channels": CHANNELS, "cells_per_stage": CELLS, "batch_size": BATCH, "seed": SEED}


@pytest.fixture(scope="module")
def zc(data_dir):
    return load_table("naslib_zc_nb201")


@pytest.fixture(scope="module")
def some(zc):
    """Three ordinary cells and the zero network, with every proxy scored once."""
    rows = [0, 1, 2, zc.space.to_naslib(zc.archs).index(ZERO_NET)]
    batch = take(zc.archs, np.array(rows))
    scorer = ProxyScorer("nb201", [n for n in ALL if n != "grasp"])
    return zc, rows, batch, scorer, scorer.score(batch)


def test_registry_names_aliases_and_unknown():
    assert set(ALL) == {
        "jacob_cov", "nwot", "synflow", "snip", "grasp", "fisher", "grad_norm",
        "plain", "l2_norm", "epe_nas", "params", "flops", "zen",
    }  # fmt: skip
    assert PROXIES.canonical_name("jacov") == "jacob_cov"
    with pytest.raises(ValueError, match="Valid names"):
        ProxyScorer("nb201", ["synflowz"])


@pytest.fixture(scope="module")
def tiny(zc):
    """The cells of ``some`` scored by every proxy but grasp on the tiny network."""
    rows = [0, 1, 2, zc.space.to_naslib(zc.archs).index(ZERO_NET)]
    batch = take(zc.archs, np.array(rows))
    scorer = ProxyScorer("nb201", [n for n in ALL if n != "grasp"], **TINY)
    return batch, scorer, scorer.score(batch)


def test_params_and_flops_equal_naslib_records(zc):
    ops = np.asarray(zc.archs.ops)
    np.testing.assert_array_equal(np.round(nb.params_m(ops, 10), 6), np.round(zc.column("params"), 6))
    np.testing.assert_allclose(nb.flops_m(ops, 10, (32, 32)), zc.column("flops"), rtol=0, atol=1e-9)
    # all conv3x3 on CIFAR-10: 1.5315 M parameters, 222.86 MFLOPs (shared/docs/reference.md)
    assert round(float(nb.params_m(np.full((1, 6), 3), 10)[0]), 4) == 1.5315
    assert round(float(nb.flops_m(np.full((1, 6), 3), 10, (32, 32))[0]), 2) == 222.86


def test_tiny_network_scores_degenerate_values_seed_and_order(tiny):
    """The fast suite's counterpart of the three tests below: numbers, the documented values of
    the network with no input-output path, and the same scores in another order or scorer."""
    batch, scorer, scores = tiny
    for name, v in scores.items():
        assert v.shape == (4,) and v.dtype == np.float64
        assert np.all(np.isfinite(v[:3])), name
    for name, value in DEGENERATE.items():
        assert scores[name][3] == value, name
    for name in ZERO[:-1]:
        assert scores[name][3] == 0.0, name
    # only the classifier's term, a larger share of the whole with 2 channels than with 16
    assert 0.0 <= scores["fisher"][3] < 0.05 * scores["fisher"][:3].min()
    ops = np.asarray(batch.ops)
    np.testing.assert_allclose(scores["params"], nb.params_m(ops, 10, channels=CHANNELS, cells=CELLS), rtol=1e-12)
    again = scorer.score(take(batch, np.array([2, 0])))
    for name in again:
        np.testing.assert_array_equal(again[name], scores[name][[2, 0]])
    other = ProxyScorer("nb201", ["nwot", "synflow"], **{**TINY, "seed": SEED + 1}).score(take(batch, np.array([0])))
    assert other["nwot"][0] != scores["nwot"][0] and other["synflow"][0] != scores["synflow"][0]


@pytest.mark.slow
def test_scores_are_numbers_and_degenerate_values_are_documented(some):
    zc, rows, batch, _, scores = some
    assert set(scores) == set(ALL) - {"grasp"}
    grasp = ProxyScorer("nb201", ["grasp"]).score(take(batch, np.array([0, 3])))["grasp"]
    scores = {**scores, "grasp": np.array([grasp[0], grasp[0], grasp[0], grasp[1]])}
    for name, v in scores.items():
        assert v.shape == (4,) and v.dtype == np.float64
        assert np.all(np.isfinite(v[:3])), name
    for name, value in DEGENERATE.items():
        assert scores[name][3] == value, name
    for name in ZERO:
        assert scores[name][3] == 0.0, name
    # fisher keeps only the classifier's term (its output is the bias, its gradient non-zero)
    assert 0.0 <= scores["fisher"][3] < 0.01 * scores["fisher"][:3].min()
    # synflow passes float32's range on NB201 (renormalised, its scale kept apart); NASLib records ln(S)
    np.testing.assert_allclose(np.log(scores["synflow"][:3]), zc.column("synflow")[rows[:3]], atol=1.5)
    np.testing.assert_allclose(scores["params"], zc.column("params")[rows])


@pytest.mark.slow
def test_same_seed_same_scores_and_order_independence(some):
    _, _, batch, scorer, scores = some
    again = scorer.score(take(batch, np.array([2, 0])))
    for name in again:
        np.testing.assert_array_equal(again[name], scores[name][[2, 0]])


def _fixed_net_synflow_and_jacob(cell_ops, scorer):
    """synflow and jacob_cov computed on the network built for one fixed cell (the form the
    reference codes build), from the scorer's weights and batch."""
    variables = scorer._init(scorer.images.shape[0])
    params = variables["params"]
    with jax.enable_x64(True):
        net = NB201Net(channels=16, cells_per_stage=5, batch_norm=False, ops=cell_ops)
        p64 = jax.tree.map(lambda a: jnp.abs(a).astype(jnp.float64), params)
        g = jax.grad(lambda p: net.apply({"params": p}, jnp.ones((1, 32, 32, 3), jnp.float64), train=True).sum())(p64)
        flat_p, flat_g = flax.traverse_util.flatten_dict(p64), flax.traverse_util.flatten_dict(g)
        synflow = float(sum(jnp.abs(flat_p[k] * flat_g[k]).sum() for k in flat_p if k[-1] in nb.WEIGHT_NAMES))
    net = NB201Net(channels=16, cells_per_stage=5, ops=cell_ops)
    v = {"params": params, "batch_stats": variables["batch_stats"]}

    def total(x):
        return net.apply(v, x, train=True, mutable=["batch_stats"])[0].sum()

    jac = jax.grad(total)(jnp.asarray(scorer.images)).reshape(scorer.images.shape[0], -1)
    j = np.asarray(jac, np.float64)
    j = j - j.mean(1, keepdims=True)
    return synflow, jacob_cov_host(j @ j.T, None)


@pytest.mark.slow
def test_compiled_program_equals_network_of_one_fixed_cell(some):
    zc, rows, batch, scorer, scores = some
    for i in range(2):
        cell = tuple(int(o) for o in np.asarray(batch.ops)[i])
        synflow, jacob = _fixed_net_synflow_and_jacob(cell, scorer)
        # float32 with renormalised activations against float64: equal to float32 rounding
        assert scores["synflow"][i] == pytest.approx(synflow, rel=2e-5)
        assert scores["jacob_cov"][i] == pytest.approx(jacob, rel=1e-4)


@pytest.mark.slow
def test_program_cache_serves_a_new_process_the_same_scores(some, tmp_path, monkeypatch):
    """With the program cache on, the programs are stored once; a process that finds them
    compiles them without tracing and scores exactly as the first."""
    _, _, batch, _, scores = some
    names = ["synflow", "nwot"]  # the synflow program and the network program
    monkeypatch.setattr("pyengine._compile_cache._EXPORTED", str(tmp_path))
    monkeypatch.setattr("pyengine.proxies._scorer._COMPILED", ProgramCache(32))
    first = ProxyScorer("nb201", names).score(batch)
    assert len(list(tmp_path.glob("*.jaxexport"))) == 2
    monkeypatch.setattr("pyengine.proxies._scorer._COMPILED", ProgramCache(32))  # a new process, as far as programs go

    def no_tracing(*a, **k):
        raise AssertionError("a stored program was traced again")

    monkeypatch.setattr(jax.export, "export", no_tracing)
    again = ProxyScorer("nb201", names).score(batch)
    for name in names:
        np.testing.assert_array_equal(again[name], first[name])
        np.testing.assert_allclose(first[name], scores[name], rtol=1e-6)


@pytest.mark.slow  # the merged form compiles every op of every edge: over a minute even on the tiny network
@pytest.mark.parametrize("size", [{}, {"channels": 2, "cells_per_stage": 1}])
def test_vmapped_merged_form_equals_per_architecture_switch_form(zc, size):
    batch = take(zc.archs, np.arange(3))
    names = ["synflow", "snip", "nwot", "l2_norm"]
    one = ProxyScorer("nb201", names, batch_size=8, archs_per_call=1, **size).score(batch)
    chunked = ProxyScorer("nb201", names, batch_size=8, archs_per_call=2, **size).score(batch)
    for name in names:
        np.testing.assert_allclose(chunked[name], one[name], rtol=2e-4, err_msg=name)


@pytest.mark.slow
def test_imagenet16_shape_and_classes(zc):
    assert DATASETS["ImageNet16-120"] == (120, (16, 16, 3))
    s = ProxyScorer("nb201", ["params", "flops", "synflow"], dataset="ImageNet16-120")
    r = s.score(take(zc.archs, np.arange(2)))
    ops = np.asarray(zc.archs.ops)[:2]
    np.testing.assert_allclose(r["params"], nb.params_m(ops, 120))
    # a quarter of the pixels: convolutions cost about a quarter of CIFAR's
    assert np.all(r["flops"] < 0.3 * nb.flops_m(ops, 10, (32, 32)))
    assert np.all(np.isfinite(r["synflow"])) and np.all(r["synflow"] > 0)


def test_user_images_are_used(zc):
    rng = np.random.default_rng(3)
    images = rng.uniform(-1, 1, (8, 3, 32, 32)).astype(np.float32)  # NCHW accepted
    batch = take(zc.archs, np.arange(2))
    size = {"channels": 2, "cells_per_stage": 1}
    a = ProxyScorer("nb201", ["jacob_cov"], images=images, labels=np.arange(8) % 10, **size).score(batch)
    b = ProxyScorer("nb201", ["jacob_cov"], batch_size=8, **size).score(batch)
    a, b = a["jacob_cov"], b["jacob_cov"]
    assert np.all(np.isfinite(a)) and not np.allclose(a, b)


def test_bad_input_gets_typed_errors(zc):
    with pytest.raises(ValueError, match="images"):
        ProxyScorer("nb201", ["snip"], images=np.zeros((4, 28, 28, 3)))
    bad = np.zeros((4, 32, 32, 3))
    bad[2, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="image 2"):
        ProxyScorer("nb201", ["snip"], images=bad)
    with pytest.raises(ValueError, match="labels"):
        ProxyScorer("nb201", ["snip"], images=np.zeros((4, 32, 32, 3)), labels=[0, 1, 2, 10])
    with pytest.raises(ValueError, match="dataset"):
        ProxyScorer("nb201", ["snip"], dataset="mnist")
    with pytest.raises(ValueError, match="space"):
        ProxyScorer("macro", ["snip"])  # a space whose network is not built
    with pytest.raises(ValueError, match="batch_size"):
        ProxyScorer("nb201", ["snip"], batch_size=1)
    with pytest.raises(ValueError, match="archs_per_call"):
        ProxyScorer("nb201", ["snip"], archs_per_call=0)
    with pytest.raises(ValueError, match="precision"):
        ProxyScorer("nb201", ["snip"], precision="tf32")
    with pytest.raises(ValueError):
        ProxyScorer("nb201", ["params"]).score([])


def test_cli_score_and_evaluate(tmp_path, zc, capsys):
    space = get_space("nb201")
    inp = tmp_path / "in.jsonl"
    strings = space.to_strings(take(zc.archs, np.arange(3)))
    inp.write_text("".join(json.dumps({"arch": s}) + "\n" for s in strings))
    out = tmp_path / "out.jsonl"
    assert main(["proxies", "score", "--proxies", "params,flops,l2_norm", str(inp), "--out", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["arch"] for r in lines] == strings
    np.testing.assert_allclose([r["params"] for r in lines], zc.column("params")[:3])
    assert all(r["l2_norm"] > 0 for r in lines)
    res = tmp_path / "eval.json"
    assert main(["proxies", "evaluate", "--limit", "40", "--proxies", "params,flops", "--json", str(res)]) == 0
    doc = json.loads(res.read_text())
    fields = {"proxy", "n", "spearman_vs_recorded", "spearman_vs_accuracy", "recorded_spearman_vs_accuracy"}
    for r in doc["records"]:
        assert fields <= set(r) and r["n"] == 40
        assert r["spearman_vs_recorded"] == pytest.approx(1.0) and r["max_abs_diff_vs_recorded"] < 1e-9
    assert main(["proxies", "score", str(inp)]) == 1  # no --proxies
    assert "--proxies" in capsys.readouterr().err
    assert main(["proxies", "evaluate", "--zc-json", str(inp)]) == 1


def test_cli_images_file_errors_are_named(tmp_path, capsys):
    """A foreign, truncated, object-typed or keyless --images file and a batch of the wrong
    shape end in 'pyengine: error: ...' naming the problem, never a traceback."""
    good = tmp_path / "good.npz"
    np.savez(good, images=np.zeros((4, 32, 32, 3), np.float32), labels=np.zeros(4, np.int64))
    (tmp_path / "text.npz").write_text("not an array\n")
    (tmp_path / "cut.npz").write_bytes(good.read_bytes()[:300])
    np.savez(tmp_path / "obj.npz", images=np.array([None, 1], dtype=object))
    np.savez(tmp_path / "keyless.npz", pixels=np.zeros((4, 32, 32, 3)))
    np.save(tmp_path / "small.npy", np.zeros((4, 5, 5, 3), np.float32))
    expected = {
        "text.npz": "not a NumPy .npy or .npz file",
        "cut.npz": "cannot read",
        "obj.npz": "object array",
        "keyless.npz": "needs an 'images' array",
        "small.npy": r"shape \(batch, 32, 32, 3\)",
        "missing.npz": "cannot read",
    }
    for name, match in expected.items():
        args = ["proxies", "evaluate", "--limit", "2", "--proxies", "nwot", "--no-progress"]
        assert main([*args, "--images", str(tmp_path / name)]) == 1, name
        err = capsys.readouterr().err
        assert err.startswith("pyengine: error:") and re.search(match, err), (name, err)


def test_cached_scores_compute_once_and_survive_a_torn_file(tmp_path):
    """Scores come back equal to the scorer's, a second call computes nothing, isomorphic
    labellings are kept apart, a partial last line is cut off and a corrupt line is named."""
    from pyengine.proxies import cached_scores

    sp = get_space("nb201")
    cells = sp.from_strings(
        [
            "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|",
            "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|",
            "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        ]
    )
    cells = take(cells, [0, 1, 2, 0])  # the first twice: computed once
    first = cached_scores("nb201", cells, ["synflow", "nwot"], cache_dir=str(tmp_path))
    assert first.computed == {"synflow": 3, "nwot": 3}
    direct = ProxyScorer("nb201", ["synflow", "nwot"]).score(cells)
    for name in ("synflow", "nwot"):
        np.testing.assert_allclose(first.scores[name], direct[name], rtol=1e-6)
        assert (first.seconds[name] >= 0).all() and first.scores[name][0] == first.scores[name][3]
    assert first.scores["nwot"][2] == -np.inf  # the all-none cell, as documented
    again = cached_scores("nb201", cells, ["jacov", "synflow"], cache_dir=str(tmp_path))
    assert again.computed == {"jacob_cov": 4 - 1, "synflow": 0}
    assert np.array_equal(again.scores["synflow"], first.scores["synflow"])
    # two labellings of one isomorphism class (node 1 is dead) keep their own keys
    from pyengine.proxies._cache import arch_keys

    twins = sp.from_strings(
        [
            "|none~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|",
            "|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|",
        ]
    )
    assert sp.canonical_keys(twins)[0] == sp.canonical_keys(twins)[1]
    assert len(set(arch_keys(sp, twins))) == 2 and arch_keys(sp, take(cells, [3]))[0] == arch_keys(sp, cells)[0]
    path = next((tmp_path / "zc").glob("nb201_synflow_*.jsonl"))
    with open(path, "a") as fh:
        fh.write('{"key": "abc", "sco')
    assert cached_scores("nb201", cells, ["synflow"], cache_dir=str(tmp_path)).computed == {"synflow": 0}
    assert path.read_text().endswith("}\n")
    with open(path, "a") as fh:
        fh.write("not json\n")
    with pytest.raises(ValueError, match=r"zero-cost cache .* is corrupt at line 4"):
        cached_scores("nb201", cells, ["synflow"], cache_dir=str(tmp_path))


def test_workers_and_shared_passes_give_the_same_scores(zc):
    """Two calls in flight give the scores of one; jacob_cov and nwot read from the forward pass
    of the loss gradient in a program with snip equal their own programs' scores to float32
    rounding."""
    batch = take(zc.archs, np.arange(5))
    size = {"channels": 2, "cells_per_stage": 1, "batch_size": 8}
    names = ["jacob_cov", "nwot", "snip"]
    one = ProxyScorer("nb201", names, workers=1, **size).score(batch)
    two = ProxyScorer("nb201", names, workers=2, **size).score(batch)
    for name in names:
        np.testing.assert_array_equal(one[name], two[name], err_msg=name)
    for name in ("jacob_cov", "nwot"):
        alone = ProxyScorer("nb201", [name], workers=1, **size).score(batch)[name]
        np.testing.assert_allclose(one[name], alone, rtol=2e-4, err_msg=name)
    with pytest.raises(ValueError, match="'workers' parameter of ProxyScorer"):
        ProxyScorer("nb201", ["snip"], workers=0)
