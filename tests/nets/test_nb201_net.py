"""The NB201 network with the cell as data against the network built for one fixed cell."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pyengine.nets import NB201Net, avg_pool_3x3, conv2d, init_variables, nb201_onehot
from pyengine.nets._layers import avg_pool_2x2

CELLS = [
    (3, 2, 4, 1, 0, 3),  # every op
    (0, 0, 0, 0, 0, 0),  # zero output
    (1, 1, 1, 1, 1, 1),  # parameter-free
    (3, 3, 3, 3, 3, 3),
    (2, 4, 0, 2, 4, 1),
]


def _x(shape=(6, 8, 8, 3), seed=0):
    return jnp.asarray(np.random.default_rng(seed).normal(size=shape), jnp.float32)


def _tree_max_diff(a, b):
    return max(jax.tree.leaves(jax.tree.map(lambda p, q: float(jnp.abs(p - q).max()), a, b)), default=0.0)


def _apply(net, train):
    """The network's jitted apply, running statistics returned (eager flax compiles op by op)."""
    if net.ops is None:
        return jax.jit(lambda v, x, oh: net.apply(v, x, oh, train=train, mutable=["batch_stats"]))
    return jax.jit(lambda v, x: net.apply(v, x, train=train, mutable=["batch_stats"]))


def _init(net, x, oh=None):
    args = (x,) if oh is None else (x, oh)
    return init_variables(net, jax.random.key(1), *args, train=False)


@pytest.mark.parametrize("cells_per_stage, conv_bias", [(1, False), pytest.param(2, True, marks=pytest.mark.slow)])
def test_cell_as_data_equals_fixed_network(cells_per_stage, conv_bias):
    x = _x()
    kw = dict(channels=4, cells_per_stage=cells_per_stage, n_classes=7, conv_bias=conv_bias)
    data_net = NB201Net(**kw)
    ohs = nb201_onehot(np.array(CELLS))
    variables = _init(data_net, x, ohs[0])
    data_apply = {train: _apply(data_net, train) for train in (True, False)}
    for i, (cell, oh) in enumerate(zip(CELLS[:3], ohs, strict=False)):
        fixed = NB201Net(**kw, ops=cell)
        # one parameter tree serves both forms (values checked on the first cell, shapes on all)
        fixed_vars = (
            _init(fixed, x)
            if i == 0
            else jax.eval_shape(lambda k, f=fixed: f.init(k, x, train=False), jax.random.key(1))
        )
        assert jax.tree.structure(variables) == jax.tree.structure(fixed_vars)
        assert jax.tree.map(lambda a: a.shape, variables) == jax.tree.map(lambda a: a.shape, fixed_vars)
        if i == 0:
            assert _tree_max_diff(variables, fixed_vars) == 0.0
        for train in (True, False) if i == 0 else (True,):
            a, sa = data_apply[train](variables, x, oh)
            b, sb = _apply(fixed, train)(variables, x)
            assert a.shape == (6, 7)
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
            assert _tree_max_diff(sa, sb) < 1e-5


@pytest.mark.slow
def test_native_convolution_and_patches_agree():
    x = _x()
    for cell in CELLS[:1]:
        oh = nb201_onehot(np.array([cell]))[0]
        a_net = NB201Net(channels=4, cells_per_stage=1)
        b_net = NB201Net(channels=4, cells_per_stage=1, native_conv=True)
        v = _init(a_net, x, oh)
        np.testing.assert_allclose(_apply(a_net, True)(v, x, oh)[0], _apply(b_net, True)(v, x, oh)[0], atol=1e-5)


def test_vmapped_over_cells_equals_each_cell_alone():
    x = _x()
    net = NB201Net(channels=4, cells_per_stage=1)
    ohs = jnp.asarray(nb201_onehot(np.array(CELLS)))
    v = _init(net, x, ohs[0])
    batched = jax.jit(jax.vmap(lambda o: net.apply(v, x, o, train=True, mutable=["batch_stats"])[0]))(ohs)
    single = _apply(net, True)
    for i in range(len(CELLS)):
        np.testing.assert_allclose(batched[i], single(v, x, ohs[i])[0], rtol=1e-5, atol=1e-5)
    # different cells give different functions; the zero cell gives one constant output
    assert float(jnp.abs(batched[0] - batched[3]).max()) > 1e-3
    zero = np.asarray(batched[1])
    np.testing.assert_allclose(zero, np.broadcast_to(zero[0], zero.shape), atol=1e-6)


def test_running_statistics_update_only_the_selected_op():
    x = _x()
    net = NB201Net(channels=4, cells_per_stage=1)
    cell = (3, 2, 4, 1, 0, 3)  # edge 0->1 conv3x3 (slot 1), 0->2 conv1x1 (slot 0), 1->2 pool
    oh = nb201_onehot(np.array([cell]))[0]
    v = _init(net, x, oh)
    _, upd = _apply(net, True)(v, x, oh)
    before, after = v["batch_stats"]["stage0"], upd["batch_stats"]["stage0"]
    changed = {
        e: [bool(jnp.any(before[e]["bn"]["mean"][s] != after[e]["bn"]["mean"][s])) for s in (0, 1)] for e in before
    }
    assert changed["edge01"] == [False, True]
    assert changed["edge02"] == [True, False]
    assert changed["edge12"] == [False, False]
    assert changed["edge03"] == [False, False]


def test_pytorch_initialisation_bounds():
    x = _x()
    net = NB201Net(channels=4, cells_per_stage=1, weight_init="pytorch")
    v = _init(net, x, nb201_onehot(np.array([CELLS[0]]))[0])
    k3 = v["params"]["stage0"]["edge01"]["conv3x3"]
    assert float(jnp.abs(k3).max()) <= 1 / np.sqrt(9 * 4)
    assert float(jnp.abs(k3).max()) > 0.5 / np.sqrt(9 * 4)
    stem = v["params"]["stem"]
    assert float(jnp.abs(stem).max()) <= 1 / np.sqrt(9 * 3)
    flax_net = NB201Net(channels=4, cells_per_stage=1, weight_init="flax")
    vf = _init(flax_net, x, nb201_onehot(np.array([CELLS[0]]))[0])
    assert float(jnp.abs(vf["params"]["stage0"]["edge01"]["conv3x3"]).max()) > 1 / np.sqrt(9 * 4)


def test_cell_given_twice_or_not_at_all_is_an_error():
    x = _x()
    with pytest.raises(ValueError, match="either"):
        NB201Net(channels=4, ops=CELLS[0]).init(jax.random.key(0), x, nb201_onehot(np.array([CELLS[0]]))[0])
    with pytest.raises(ValueError, match="either"):
        NB201Net(channels=4).init(jax.random.key(0), x)


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("k", [1, 3])
def test_patch_convolution_equals_xla_convolution(stride, k):
    x = _x((2, 7, 8, 3))
    w = jnp.asarray(np.random.default_rng(2).normal(size=(k, k, 3, 5)), jnp.float32)
    ref = jax.lax.conv_general_dilated(
        x, w, (stride, stride), [(k // 2, k // 2)] * 2, dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    np.testing.assert_allclose(conv2d(x, w, stride), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(conv2d(x, w, stride, patches=False), ref, rtol=1e-5, atol=1e-5)


def test_pooling_follows_pytorch_padding_rules():
    x = np.random.default_rng(3).normal(size=(2, 5, 6, 3)).astype(np.float32)
    got = np.asarray(avg_pool_3x3(jnp.asarray(x)))
    for b, i, j, c in itertools.product(range(2), range(5), range(6), range(3)):
        window = x[b, max(i - 1, 0) : i + 2, max(j - 1, 0) : j + 2, c]  # count_include_pad=False
        assert abs(got[b, i, j, c] - window.mean()) < 1e-5
    got2 = np.asarray(avg_pool_2x2(jnp.asarray(x)))
    assert got2.shape == (2, 2, 3, 3)  # the odd last row is dropped
    np.testing.assert_allclose(got2[0, 1, 2, 0], x[0, 2:4, 4:6, 0].mean(), rtol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("native_conv", [True, False])
def test_switch_form_values_and_gradients_equal_fixed_network(native_conv):
    """The switch form (lax.switch per edge, gradients through remat_switch and the loop-friendly
    convolution) gives the fixed network's outputs and gradients for weights and inputs."""
    x = _x((4, 8, 8, 3))
    kw = dict(channels=4, cells_per_stage=2, n_classes=5, native_conv=native_conv)
    switch_net = NB201Net(**kw, cell_form="switch")
    ohs = nb201_onehot(np.array(CELLS))
    variables = _init(switch_net, x, ohs[0])
    variables = {k: variables[k] for k in ("params", "batch_stats")}

    def loss(net, params, x, oh):
        out, _ = net.apply(
            {"params": params, "batch_stats": variables["batch_stats"]}, x, oh, True, mutable=["batch_stats"]
        )
        return jnp.square(out).sum()

    grad_switch = jax.jit(jax.grad(lambda p, x, oh: loss(switch_net, p, x, oh), argnums=(0, 1)))
    for cell, oh in zip(CELLS, ohs, strict=True):
        fixed = NB201Net(**kw, ops=cell)
        gp_f, gx_f = jax.jit(jax.grad(lambda p, x, f=fixed: loss(f, p, x, None), argnums=(0, 1)))(
            variables["params"], x
        )
        gp_s, gx_s = grad_switch(variables["params"], x, oh)
        scale = max(float(jnp.abs(gx_f).max()), 1e-6)
        assert float(jnp.abs(gx_f - gx_s).max()) <= 1e-4 * scale, cell
        flat_f = jax.tree.leaves(gp_f)
        flat_s = jax.tree.leaves(gp_s)
        for a, b in zip(flat_f, flat_s, strict=True):
            assert float(jnp.abs(a - b).max()) <= 1e-4 * max(float(jnp.abs(a).max()), 1e-6), cell
