"""Encoding benchmark: the same run as `pyengine bench encode` (arguments are passed through).

python benchmarks/bench_encode.py --json results/bench_encode.json
"""

import sys

from pyengine.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "encode", *sys.argv[1:]]))
