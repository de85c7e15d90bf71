"""The DARTS / NAS-Bench-301 network: closed-form counts against NASLib's records and against the
flax parameter tree, the cells as data against the network built for one fixed genotype, the
layers against plain definitions, and bad input."""

import concurrent.futures
import itertools

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pyengine.nets import avg_pool_3x3
from pyengine.nets._darts import (
    DartsNet,
    avg_pool_3x3_stride,
    darts_cell_data,
    darts_init_variables,
    depthwise_conv2d,
    max_pool_3x3,
)
from pyengine.proxies import _darts as dz
from pyengine.tables import load_table

# small networks: compile time does not depend on the widths, and every cell kind (a stage's first
# normal cell reading the stem, reduction cells, normal cells after a reduction) is in each. XLA's
# depthwise convolutions compile faster than the shifted multiply-adds (which
# test_layers_match_plain_definitions compares with them)
SMALL = {"channels": 4, "cells_per_stage": 1, "n_classes": 10, "native_conv": True}
TOL = 2e-5  # float32, relative to the largest magnitude of the compared tree


@pytest.fixture(scope="module")
def zc(data_dir):
    return load_table("naslib_zc_darts")


def _genotype(row):
    return tuple(tuple((int(i), int(o)) for i, o in cell) for cell in np.asarray(row))


def _features(row):
    """(cell, op, stride) of every edge: what a set of test genotypes should cover."""
    return {(c, int(op), int(c == 1 and src < 2)) for c in range(2) for src, op in row[c]}


def _covering(cells, k):
    """Rows of ``k`` architectures chosen greedily to cover the most (cell, op, stride) features."""
    chosen, seen = [], set()
    for _ in range(k):
        gains = [len(_features(r) - seen) if i not in chosen else -1 for i, r in enumerate(cells)]
        i = int(np.argmax(gains))
        chosen.append(i)
        seen |= _features(cells[i])
    return chosen, seen


def _x(shape=(2, 32, 32, 3), seed=0):
    return jnp.asarray(np.random.default_rng(seed).normal(size=shape), jnp.float32)


def _variables(net, x, cd=None, seed=1):
    """PyTorch-initialised variables with running statistics moved off (0, 1), so that eval mode
    reads them."""
    v = darts_init_variables(net, jax.random.key(seed), x, cd)
    rng = np.random.default_rng(seed)
    v["batch_stats"] = jax.tree.map(
        lambda a: a + jnp.asarray(0.2 * np.abs(rng.normal(size=a.shape)), a.dtype), v["batch_stats"]
    )
    return v


def _max_diff(a, b):
    return max(jax.tree.leaves(jax.tree.map(lambda p, q: float(jnp.abs(p - q).max()), a, b)), default=0.0)


def _scale(a):
    return max([float(jnp.abs(leaf).max()) for leaf in jax.tree.leaves(a)] + [1.0])


def _nwot(state, n):
    return sum(leaf.reshape(-1, n, n).sum(0) for leaf in jax.tree.leaves(state["nwot"]))


# XLA's lowest backend optimisation level: these networks compile about twice as fast, and both
# forms are compiled alike
_OPTIONS = {"xla_backend_optimization_level": 0}


def _compiled(fn, *args):
    """``jax.jit(fn)`` compiled for ``args``."""
    return jax.jit(fn).lower(*args).compile(_OPTIONS)


def _compile_all(lowered):
    """Compile lowered programs two at a time (XLA compiles without the GIL)."""
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda lo: lo.compile(_OPTIONS), lowered))


def _grad_program(net, v, x, *cell):
    """Lowered ``(params, perturbations, x, variables, *cell) -> (grads w.r.t. the first three,
    (logits, mutated state))`` of a loss, in train mode."""
    weights = jnp.arange(1.0, 1.0 + net.n_classes)

    def loss(params, pert, x, v, *cell):
        variables = {**v, "params": params, "perturbations": pert}
        out, state = net.apply(variables, x, *cell, train=True, mutable=["batch_stats", "nwot"])
        return (out * weights).sum() + jnp.square(out).sum(), (out, state)

    grad = jax.grad(loss, argnums=(0, 1, 2), has_aux=True)
    return jax.jit(grad).lower(v["params"], v["perturbations"], x, v, *cell)


def test_params_and_flops_equal_naslib_records(zc):
    cells = np.asarray(zc.archs.cells)
    assert cells.shape == (725, 2, 8, 2)
    np.testing.assert_allclose(dz.params_m(cells, 10), zc.column("params"), rtol=0, atol=1e-9)
    np.testing.assert_allclose(dz.flops_m(cells, 10, (32, 32)), zc.column("flops"), rtol=0, atol=1e-9)
    # a single architecture, and the counts growing with the classes and the input
    assert dz.params_m(cells[0], 10).shape == (1,)
    np.testing.assert_allclose(dz.params_m(cells, 100) - dz.params_m(cells, 10), 90 * 513 / 1e6, rtol=1e-9)
    assert (dz.flops_m(cells, 10, (64, 64)) > 3.9 * dz.flops_m(cells, 10, (32, 32))).all()
    # the scorer's adapter functions
    np.testing.assert_array_equal(dz.closed_form("params", zc.archs, 10, (32, 32)), dz.params_m(cells, 10))
    np.testing.assert_array_equal(dz.closed_form("flops", zc.archs, 10, (32, 32)), dz.flops_m(cells, 10, (32, 32)))
    np.testing.assert_array_equal(dz.cell_data(zc.archs), cells)
    assert (dz.groups(dz.cell_data(zc.archs)) == 0).all()
    assert dz.example_cell().shape == (2, 8, 2)
    net = dz.network(10, cell_form="merged", batch_norm=False, renorm=True)
    assert (net.channels, net.cells_per_stage, net.batch_norm, net.renorm) == (32, 2, False, True)


@pytest.mark.parametrize("config", [{"channels": 32, "cells_per_stage": 2}, {"channels": 8, "cells_per_stage": 3}])
def test_flax_parameters_equal_closed_form(zc, config):
    """The parameters of the network flax builds, counting an edge's kernels where the genotype
    holds their op (``weight_mask``, here one mask per architecture of the records), are what
    ``params_m`` counts (NASLib's network, and one with scanned stages)."""
    cells = np.asarray(zc.archs.cells)
    net = DartsNet(**config, n_classes=10, genotype=_genotype(cells[0]))
    shapes = jax.eval_shape(lambda k: net.init(k, _x((1, 32, 32, 3)), train=False), jax.random.key(0))
    flat = flax.traverse_util.flatten_dict(shapes["params"])
    names = {path[-1] for path in flat}
    assert {n for n in names if n not in ("scale", "bias", "classifier_bias")} == dz.WEIGHT_NAMES
    total = sum(np.asarray(dz.weight_mask(path, cells)) * int(np.prod(s.shape)) for path, s in flat.items())
    np.testing.assert_array_equal(total, np.round(dz.params_m(cells, 10, **config) * 1e6))


@pytest.mark.slow
@pytest.mark.parametrize("native", [True, False])
def test_cells_as_data_equal_fixed_network(zc, native):
    """Logits, running statistics, NWOT kernels and the gradients with respect to the weights,
    the Fisher probes and the input agree between the two forms, for three genotypes that
    together hold every op in both cells (and both skips of a reduction cell): with XLA's
    grouped convolution (one switch branch per op) and with the shifted depthwise one (the 3x3
    and 5x5 convs of a kind sharing a branch, the 3x3 kernels padded with zeros)."""
    cells = np.asarray(zc.archs.cells)
    rows, covered = _covering(cells, 3)
    assert len(covered) == 2 * 7 + 7  # normal ops; reduce ops at stride 1 and 2
    x = _x()
    kw = {**SMALL, "native_conv": native}
    data_net = DartsNet(**kw)
    v = _variables(data_net, x, darts_cell_data(cells[rows[0]]))  # the same tree for every genotype
    fixed_nets = [DartsNet(**kw, genotype=_genotype(cells[row])) for row in rows]
    fixed_shapes = jax.eval_shape(lambda k: fixed_nets[0].init(k, x, train=False), jax.random.key(0))
    assert jax.tree.map(lambda a: a.shape, fixed_shapes) == jax.tree.map(lambda a: a.shape, v)
    # one program for every genotype, and one per fixed network
    lowered = [_grad_program(data_net, v, x, darts_cell_data(cells[rows[0]]))]
    lowered += [_grad_program(fixed, v, x) for fixed in fixed_nets]
    data_grads, *fixed_grads = _compile_all(lowered)
    for i, row in enumerate(rows):
        cd = darts_cell_data(cells[row])
        ga, (a, sa) = data_grads(v["params"], v["perturbations"], x, v, cd)
        gb, (b, sb) = fixed_grads[i](v["params"], v["perturbations"], x, v)
        assert a.shape == (2, 10)
        np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL * _scale(b))
        assert _max_diff(sa["batch_stats"], sb["batch_stats"]) <= TOL * _scale(sb["batch_stats"])
        np.testing.assert_allclose(_nwot(sa, 2), _nwot(sb, 2), rtol=1e-6)
        for ta, tb in zip(ga, gb, strict=True):
            assert _max_diff(ta, tb) <= TOL * _scale(tb)
        # the statistics that move are the ones stat_weight names, the probes that see a
        # gradient the ones probe_fan counts
        old = flax.traverse_util.flatten_dict(v["batch_stats"])
        for path, new in flax.traverse_util.flatten_dict(sb["batch_stats"]).items():
            moved = np.asarray((new != old[path]).any(-1), np.float32)
            np.testing.assert_array_equal(moved, dz.stat_weight(path, cd), err_msg=str(path))
        params = flax.traverse_util.flatten_dict(v["params"])
        for path, gp in flax.traverse_util.flatten_dict(gb[1]).items():
            assert bool((gp != 0).any()) == (dz.probe_fan(path, params, cd) > 0), path


def test_cells_as_data_forward_equals_fixed_network_in_brief(zc):
    """The fast suite's check of the two forms (the slow test above compares gradients too, on
    three genotypes that hold every op): train-mode logits and running statistics of the shifted
    form the scorer uses, for the genotype that covers the most ops, on a 16x16 input."""
    cells = np.asarray(zc.archs.cells)
    (row,), covered = _covering(cells, 1)
    assert len(covered) >= 12
    cd = darts_cell_data(cells[row])
    kw = {**SMALL, "native_conv": False}
    x = _x((2, 16, 16, 3))
    data_net, fixed = DartsNet(**kw), DartsNet(**kw, genotype=_genotype(cells[row]))
    v = _variables(data_net, x, cd)
    run_data, run_fixed = _compile_all(
        [
            jax.jit(lambda v, x, c: data_net.apply(v, x, c, mutable=["batch_stats"])).lower(v, x, cd),
            jax.jit(lambda v, x: fixed.apply(v, x, mutable=["batch_stats"])).lower(v, x),
        ]
    )
    (a, sa), (b, sb) = run_data(v, x, cd), run_fixed(v, x)
    assert a.shape == (2, 10)
    np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL * _scale(b))
    assert _max_diff(sa, sb) <= TOL * _scale(sb)
    old = flax.traverse_util.flatten_dict(v["batch_stats"])
    for path, new in flax.traverse_util.flatten_dict(sb["batch_stats"]).items():
        moved = np.asarray((new != old[path]).any(-1), np.float32)
        np.testing.assert_array_equal(moved, dz.stat_weight(path, cd), err_msg=str(path))


@pytest.mark.slow
def test_scanned_stages_equal_fixed_network(zc):
    """With 3 normal cells per stage the uniform ones run under ``nn.scan``: logits and running
    statistics still agree with the fixed network (train mode)."""
    cells = np.asarray(zc.archs.cells)
    cd = darts_cell_data(cells[5])
    kw = {**SMALL, "cells_per_stage": 3}
    x = _x((2, 16, 16, 3))
    data_net, fixed = DartsNet(**kw), DartsNet(**kw, genotype=_genotype(cells[5]))
    v = _variables(data_net, x, cd)
    # scanned: cells 2 and 3 of stages 1 and 2 (cell 3 of stage 0 is alone after two that are not)
    assert set(v["params"]) >= {"normal0", "normal1", "normal2", "reduce3", "normal4", "stage1", "stage2"}
    assert v["params"]["stage1"]["pre0"]["conv"].shape == (2, 1, 1, 32, 8)
    assert v["params"]["stage2"]["edge7"]["sep5_dw2"].shape == (2, 5, 5, 1, 16)
    run_data, run_fixed = _compile_all(
        [
            jax.jit(lambda v, x, c: data_net.apply(v, x, c, mutable=["batch_stats"])).lower(v, x, cd),
            jax.jit(lambda v, x: fixed.apply(v, x, mutable=["batch_stats"])).lower(v, x),
        ]
    )
    (a, sa), (b, sb) = run_data(v, x, cd), run_fixed(v, x)
    np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL * _scale(b))
    assert _max_diff(sa, sb) <= TOL * _scale(sb)


@pytest.mark.slow
def test_eval_mode_features_batch_norm_off_and_renormalisation(zc):
    """Eval mode (the running statistics of each op's slot read) agrees between the two forms;
    ``features=True`` returns the last cell's output; ``batch_norm=False`` (synflow's network,
    which gets no running statistics) agrees between the two forms, and with ``renorm`` (and a
    zero classifier bias) its logits are the plain ones divided by the product of the scales."""
    cells = np.asarray(zc.archs.cells)
    cd = darts_cell_data(cells[7])
    x = _x((2, 16, 16, 3))
    v = _variables(DartsNet(**SMALL), x, cd)
    params = {**v["params"], "classifier_bias": jnp.zeros_like(v["params"]["classifier_bias"])}
    geno = _genotype(cells[7])
    data, data_fixed = DartsNet(**SMALL), DartsNet(**SMALL, genotype=geno)
    nets = {
        (fixed, renorm): DartsNet(**SMALL, batch_norm=False, renorm=renorm, genotype=geno if fixed else None)
        for fixed in (False, True)
        for renorm in (False, True)
    }
    ones = jnp.ones((1, 16, 16, 3))

    def run(params, x, cd):
        variables = {**v, "params": params}
        feats = data.apply(variables, x, cd, features=True)
        evals = (data.apply(variables, x, cd, train=False), data_fixed.apply(variables, x, train=False))
        out = {}
        for (fixed, renorm), net in nets.items():
            args = () if fixed else (cd,)
            logits, state = net.apply({"params": params}, ones, *args, mutable=["scales"])
            out[fixed, renorm] = (logits, sum(leaf.sum() for leaf in jax.tree.leaves(state)))
        return feats, evals, out

    feats, (ea, eb), out = _compiled(run, params, x, cd)(params, x, cd)
    np.testing.assert_allclose(ea, eb, rtol=TOL, atol=TOL * _scale(eb))
    assert feats.shape == (2, 4, 4, 16 * SMALL["channels"])
    for renorm in (False, True):
        a, b = out[False, renorm][0], out[True, renorm][0]
        np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL * _scale(b))
    (plain, none), (scaled, log_scale) = out[False, False], out[False, True]
    assert float(none) == 0.0 and abs(float(log_scale)) > 1.0
    np.testing.assert_allclose(scaled * np.exp(float(log_scale)), plain, rtol=1e-4)
    np.testing.assert_allclose(out[True, True][1], log_scale, rtol=1e-5)


def test_init_draws_pytorch_bounds():
    x = _x((1, 16, 16, 3))
    net = DartsNet(**SMALL)
    cd = darts_cell_data(np.array([[(0, 3), (1, 4), (0, 5), (2, 6), (1, 0), (3, 1), (4, 2), (0, 2)]] * 2))
    v = darts_init_variables(net, jax.random.key(0), x, cd)
    shapes = jax.eval_shape(lambda k: net.init(k, x, cd, train=False), jax.random.key(0))
    assert jax.tree.map(lambda a: a.shape, shapes) == jax.tree.map(lambda a: a.shape, v)
    flat = flax.traverse_util.flatten_dict(v["params"])
    for path, w in flat.items():
        if path[-1] in ("scale", "bias"):
            assert float(jnp.abs(w - (path[-1] == "scale")).max()) == 0.0
            continue
        fan = flat[path[:-1] + ("classifier",)].shape[0] if path[-1] == "classifier_bias" else None
        fan = fan or (int(np.prod(w.shape[-4:-1])) if w.ndim >= 4 else w.shape[0])
        assert float(jnp.abs(w).max()) <= 1 / np.sqrt(fan) + 1e-7, path
    assert float(jnp.abs(flat[("classifier",)]).max()) > 0.9 / np.sqrt(16 * SMALL["channels"])


@pytest.mark.slow
def test_layers_match_plain_definitions():
    x = _x((2, 10, 12, 3))
    # stride 2 is stride 1 read at even positions, for pools and (dilated) depthwise convolutions
    np.testing.assert_allclose(avg_pool_3x3_stride(x, 2), avg_pool_3x3(x)[:, ::2, ::2], rtol=1e-6)
    np.testing.assert_array_equal(max_pool_3x3(x, 2), max_pool_3x3(x)[:, ::2, ::2])
    window = np.pad(np.asarray(x), ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=-np.inf)
    ref = np.max([window[:, i : i + 10, j : j + 12] for i in range(3) for j in range(3)], axis=0)
    np.testing.assert_array_equal(max_pool_3x3(x), ref)
    for k, dilation in ((3, 1), (5, 1), (3, 2), (5, 2)):  # shifted multiply-adds and XLA's grouped convolution
        kernel = jnp.asarray(np.random.default_rng(k).normal(size=(k, k, 1, 3)), jnp.float32)
        a = depthwise_conv2d(x, kernel, 1, dilation)
        np.testing.assert_allclose(a, depthwise_conv2d(x, kernel, 1, dilation, native=True), rtol=1e-5, atol=1e-5)
        b = depthwise_conv2d(x, kernel, 2, dilation)
        np.testing.assert_allclose(b, depthwise_conv2d(x, kernel, 2, dilation, native=True), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(b, a[:, ::2, ::2], rtol=1e-5, atol=1e-5)

    # the shifted form's own gradient (and the gradient of that, as grasp takes it) against
    # autodiff of XLA's grouped convolution, on even and odd sizes
    for shape in ((2, 10, 12, 3), (1, 9, 7, 3)):
        v = _x(shape)
        for k, dilation, stride in itertools.product((3, 5), (1, 2), (1, 2)):
            w = jnp.asarray(np.random.default_rng(k + dilation).normal(size=(k, k, 1, 3)), jnp.float32)
            args = (k, dilation, stride)

            def loss(v, w, native, args=args):
                return jnp.sin(depthwise_conv2d(v, w, args[2], args[1], native=native)).sum()

            def hvp(v, w, native):
                probe = [jnp.sin(a) for a in jax.grad(loss, (0, 1))(v, w, native)]

                def dot(a, b):
                    ga, gb = jax.grad(loss, (0, 1))(a, b, native)
                    return (ga * probe[0]).sum() + (gb * probe[1]).sum()

                return jax.grad(dot, (0, 1))(v, w)

            for fn in (jax.grad(loss, (0, 1)), hvp):
                shifted = jax.jit(fn, static_argnums=2)(v, w, False)
                assert _max_diff(shifted, jax.jit(fn, static_argnums=2)(v, w, True)) <= 1e-3, (shape, args, fn)
    # the gradient of a max pool goes to one input per window, as PyTorch's does
    g = jax.grad(lambda v: max_pool_3x3(v, 2).sum())(jnp.zeros((1, 4, 4, 1)))
    assert float(g.sum()) == 4.0


def test_bad_input_raises():
    x = _x((1, 16, 16, 3))
    net = DartsNet(**SMALL)
    good = np.array([[(0, 3), (1, 4), (0, 5), (2, 6), (1, 0), (3, 1), (4, 2), (0, 2)]] * 2)
    key = jax.random.key(0)
    with pytest.raises(ValueError, match="'cell_data' argument of DartsNet must have shape"):
        net.init(key, x, good[0])
    bad = good.copy()
    bad[1, 3, 1] = 7
    with pytest.raises(ValueError, match="reduce edge 3 has op index 7 outside 0..6"):
        net.init(key, x, bad)
    bad = good.copy()
    bad[0, 5, 0] = 4
    with pytest.raises(ValueError, match="normal edge 5 feeds node 4 from node 4"):
        net.init(key, x, bad)
    with pytest.raises(TypeError, match="must hold integers"):
        net.init(key, x, good.astype(np.float32))
    with pytest.raises(ValueError, match="'genotype' parameter of DartsNet must hold valid .*op index 9"):
        DartsNet(**SMALL, genotype=(((0, 9),) * 8,) * 2).init(key, x)
    with pytest.raises(ValueError, match="'genotype' parameter of DartsNet must have shape"):
        DartsNet(**SMALL, genotype=(((0, 1),) * 8,)).init(key, x)
    with pytest.raises(ValueError, match="either as the module's genotype or as cell_data"):
        net.init(key, x)
    with pytest.raises(ValueError, match="multiples of 4"):
        net.init(key, _x((1, 18, 16, 3)), good)
    with pytest.raises(ValueError, match="'channels' parameter of DartsNet must be a positive int"):
        DartsNet(channels=0).init(key, x, good)
    with pytest.raises(ValueError, match="'cells' argument of darts_cell_data must have shape"):
        darts_cell_data(good[:, :4])
    with pytest.raises(ValueError, match=r"'cells' argument of params_m .*\(architecture 1\): normal edge 0 has op"):
        bad = np.stack([good, good])
        bad[1, 0, 0, 1] = -1
        dz.params_m(bad, 10)
    with pytest.raises(ValueError, match="'input_hw' argument of flops_m must be"):
        dz.flops_m(good, 10, (30, 32))
    with pytest.raises(ValueError, match="'cell_form' parameter of network"):
        dz.network(10, cell_form="fused")
