"""Each space's proxy adapter module defines the whole adapter interface the scorer calls."""

import pytest

from pyengine.proxies import _scorer


@pytest.mark.parametrize("space", sorted(_scorer._ADAPTERS))
def test_every_adapter_defines_the_interface(space):
    adapter = _scorer._ADAPTERS[space]
    missing = [n for n in _scorer.ADAPTER_NAMES if not hasattr(adapter, n)]
    assert not missing, f"{adapter.__name__} lacks {missing}"
    assert all(callable(getattr(adapter, n)) for n in _scorer.ADAPTER_NAMES if n != "WEIGHT_NAMES")
