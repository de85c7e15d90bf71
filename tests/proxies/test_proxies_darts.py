"""DARTS / NB301 zero-cost proxies through the scorer, against NASLib's records."""

import numpy as np
import pytest

from pyengine.proxies import ProxyScorer
from pyengine.spaces._base import take
from pyengine.tables import load_table


@pytest.fixture(scope="module")
def zc(data_dir):
    return load_table("naslib_zc_darts")


@pytest.mark.slow
def test_scorer_on_naslib_network(zc):
    """synflow lands on NASLib's records (same network and initialisation scheme, other draws);
    the closed forms equal them; scores are finite and per architecture."""
    rows = np.arange(3)
    scores = ProxyScorer("darts", ["synflow", "params", "flops"]).score(take(zc.archs, rows))
    np.testing.assert_allclose(np.log(scores["synflow"]), zc.column("synflow")[rows], atol=1.0)
    np.testing.assert_allclose(scores["params"], zc.column("params")[rows], rtol=0, atol=1e-9)
    np.testing.assert_allclose(scores["flops"], zc.column("flops")[rows], rtol=0, atol=1e-9)
    assert len(set(scores["synflow"].tolist())) == 3
