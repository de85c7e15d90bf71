"""Slow, obviously-correct Python versions of native algorithms, the test oracles. The NAS-Bench
ports and brute-force encoders are also the bench baselines and live in the package
(``pyengine.bench._baselines``), re-exported here; ``proxies_numpy`` is a test oracle only."""
