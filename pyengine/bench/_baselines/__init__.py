"""Slow, obviously-correct Python versions of what the native core and the encoding kernels do:
ports of the official NAS-Bench-101/201 code (``nb101_official``, ``nb201_official``) and
brute-force encoders (``encodings``). They are the baselines that ``pyengine bench graph`` and
``pyengine bench encode`` time beside pyengine, so they ship with the package; ``tests/oracles``
re-exports them as the test oracles. Deliberately not optimised; not a public API."""
