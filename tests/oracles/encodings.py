"""Brute-force encoders, one architecture at a time, test oracles of the encoding kernels. They
live in the package as the baseline of ``pyengine bench encode``
(``pyengine.bench._baselines.encodings``); this module re-exports them, so there is one copy."""

from pyengine.bench._baselines.encodings import *  # noqa: F403
