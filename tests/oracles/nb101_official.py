"""The pure-Python port of the official NAS-Bench-101 code, test oracle of the native core. It
lives in the package as the baseline of ``pyengine bench graph``
(``pyengine.bench._baselines.nb101_official``); this module re-exports it, so there is one copy."""

from pyengine.bench._baselines.nb101_official import *  # noqa: F403
