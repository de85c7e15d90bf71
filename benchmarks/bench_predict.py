"""Predictor benchmark: the same run as `pyengine bench predict` (arguments are passed through).

python benchmarks/bench_predict.py --json results/bench_predict.json
"""

import sys

from pyengine.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "predict", *sys.argv[1:]]))
