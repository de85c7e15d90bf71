"""The pure-Python port of NAS-Bench-201's ``Structure``, test oracle of the native core. It lives
in the package as the baseline of ``pyengine bench graph``
(``pyengine.bench._baselines.nb201_official``); this module re-exports it, so there is one copy."""

from pyengine.bench._baselines.nb201_official import *  # noqa: F403
