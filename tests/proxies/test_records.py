"""Per-architecture agreement of the proxies whose protocol is deterministic up to the weight
draw with NAS-Bench-Suite-Zero's recorded NB201 CIFAR-10 scores (NASLib's zero-cost JSON).

params and flops are closed forms: equal to the records. l2_norm and synflow depend on the
initial weights only (no data): NASLib drew them once with PyTorch's default initialisation and
the scorer draws them from the same distribution with its own seed, so they agree up to the
spread of that draw, which the tolerances below state (measured: within 1% for l2_norm and
within 0.6 in ln S for synflow, over two seeds). plain, like the other data proxies, reads one
minibatch of augmented CIFAR-10 images that the records do not keep, so it has no
per-architecture reference here.
"""

from __future__ import annotations

import numpy as np
import pytest

from pyengine.proxies import ProxyScorer
from pyengine.spaces._base import take
from pyengine.tables import load_table

L2_NORM_RTOL = 0.03  # relative: a sum of Frobenius norms of U(+-1/sqrt(fan_in)) draws
SYNFLOW_LN_ATOL = 1.0  # absolute in ln S (NASLib records ln S; S reaches 1e50 on NB201)


@pytest.fixture(scope="module")
def zc(data_dir):
    return load_table("naslib_zc_nb201")


def test_closed_forms_and_l2_norm_agree_with_every_record(zc):
    names = ["params", "flops", "l2_norm"]
    scores = ProxyScorer("nb201", names, seed=0).score(zc.archs)
    assert len(zc.archs.ops) >= 50
    np.testing.assert_allclose(scores["params"], zc.column("params"), rtol=1e-12, atol=0)
    np.testing.assert_allclose(scores["flops"], zc.column("flops"), rtol=1e-12, atol=0)
    np.testing.assert_allclose(scores["l2_norm"], zc.column("l2_norm"), rtol=L2_NORM_RTOL, atol=0)


@pytest.mark.slow
def test_synflow_agrees_with_records_per_architecture(zc):
    """synflow on 61 cells spread over the file (the full-size float32 program, renormalised,
    against NASLib's float64 ln S; zero-output cells score 0 on both sides)."""
    rows = np.arange(0, len(zc.archs.ops), 12)
    assert rows.size >= 50
    s = ProxyScorer("nb201", ["synflow"], seed=0).score(take(zc.archs, rows))["synflow"]
    recorded = zc.column("synflow")[rows]
    ok = ~np.isnan(recorded)
    assert ok.sum() >= 50
    np.testing.assert_array_equal(s[ok] == 0, recorded[ok] == 0)
    ln_s = np.log(np.where(s > 0, s, 1.0))
    np.testing.assert_allclose(ln_s[ok], recorded[ok], rtol=0, atol=SYNFLOW_LN_ATOL)
