"""Zero-cost proxy benchmark: the same run as `pyengine bench proxies` (arguments are passed through).

python benchmarks/bench_proxies.py --json results/bench_proxies.json
"""

import sys

from pyengine.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "proxies", *sys.argv[1:]]))
