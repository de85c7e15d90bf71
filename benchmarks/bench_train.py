"""Trainer benchmark: the same run as `pyengine bench train` (arguments are passed through).

python benchmarks/bench_train.py --json results/bench_train.json
"""

import sys

from pyengine.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "train", *sys.argv[1:]]))
