"""GPU against CPU: encodings, GCN predictions and zero-cost proxies computed on the first GPU
JAX sees equal the CPU's (encodings exactly; float results to the precision each path promises).
Marked ``gpu``: run with ``pytest -m gpu`` on a machine with a GPU; elsewhere they skip."""

import jax
import numpy as np
import pytest

from pyengine.encodings import encode
from pyengine.metrics import kendall_tau
from pyengine.predictors import get_predictor
from pyengine.proxies import ProxyScorer
from pyengine.spaces import get_space

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def devices():
    try:
        gpu = jax.devices("gpu")[0]
    except RuntimeError:
        pytest.skip("JAX sees no GPU")
    return jax.devices("cpu")[0], gpu


def _on(device, fn):
    with jax.default_device(device):
        out = fn()
    return jax.tree_util.tree_map(np.asarray, out)


@pytest.mark.parametrize("space", ["nb101", "nb201", "darts"])
@pytest.mark.parametrize("name", ["adjacency_one_hot", "path", "gcn", "op_counts", "graf"])
def test_encodings_are_identical(devices, space, name):
    cpu, gpu = devices
    sp = get_space(space)
    batch = sp.sample(3_000, np.random.default_rng(7))
    want = _on(cpu, lambda: encode(sp, name, batch))
    got = _on(gpu, lambda: encode(sp, name, batch))
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want), strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("space", ["nb101", "nb201"])
def test_gcn_predictions_agree(devices, space):
    cpu, gpu = devices
    sp = get_space(space)
    rng = np.random.default_rng(3)
    train = sp.sample(200, rng)
    y = encode(sp, "op_counts", train).sum(1) + rng.normal(0, 0.1, 200)  # a learnable target
    with jax.default_device(cpu):
        model = get_predictor("gcn", space=space, epochs=20, random_state=0).fit(train, y)
    test = sp.sample(20_000, np.random.default_rng(4))
    want = _on(cpu, lambda: model.predict(test))
    got = _on(gpu, lambda: model.predict(test))
    assert np.isfinite(got).all()
    # the GPU may run float32 matmuls in TF32: values to about 1e-2, ranking almost unchanged
    np.testing.assert_allclose(got, want, rtol=2e-2, atol=2e-2 * np.abs(want).max())
    assert kendall_tau(want, got) > 0.99


@pytest.mark.parametrize("name", ["gcn", "transformer"])
@pytest.mark.parametrize("precision", ["tf32", "bfloat16"])
def test_low_precision_inference_on_the_gpu_ranks_as_float32_on_the_cpu(devices, name, precision):
    cpu, gpu = devices
    sp = get_space("nb101")
    rng = np.random.default_rng(3)
    train = sp.sample(200, rng)
    y = encode(sp, "op_counts", train).sum(1) + rng.normal(0, 0.1, 200)  # a learnable target
    with jax.default_device(cpu):
        model = get_predictor(name, space="nb101", epochs=20, random_state=0).fit(train, y)
    test = sp.sample(20_000, np.random.default_rng(4))
    want = _on(cpu, lambda: model.predict(test))
    model.set_params(inference_precision=precision, inference_batch_size=16_384)
    got = _on(gpu, lambda: model.predict(test))
    assert got.dtype == want.dtype and np.isfinite(got).all()
    # TF32 keeps 10 bits of mantissa in the matmuls, bfloat16 8
    np.testing.assert_allclose(got, want, rtol=0, atol=5e-2 * want.std())
    assert kendall_tau(want, got) > 0.99


@pytest.mark.parametrize(
    "proxies, rtol",
    [(("synflow",), 1e-5), (("jacob_cov", "snip", "grad_norm", "nwot"), 1e-3)],
)
def test_proxies_agree_at_highest_precision(devices, proxies, rtol):
    cpu, gpu = devices
    sp = get_space("nb201")
    archs = sp.sample(8, np.random.default_rng(11))

    def run():
        return ProxyScorer("nb201", proxies, seed=0, archs_per_call=1, precision="highest").score(archs)

    want = _on(cpu, run)
    got = _on(gpu, run)
    for p in proxies:
        np.testing.assert_allclose(got[p], want[p], rtol=rtol, err_msg=p)
