"""Scoring-job benchmark: the same run as `pyengine bench score` (arguments are passed through).

python benchmarks/bench_score.py --repeats 3 --sizes 20000 --json results/bench_score.json
"""

import sys

from pyengine.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "score", *sys.argv[1:]]))
