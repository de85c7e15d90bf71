"""Learning-curve benchmark: the same run as `pyengine bench curves` (arguments are passed through).

python benchmarks/bench_curves.py --repeats 3 --sizes 2000 --json results/bench_curves.json
"""

import sys

from pyengine.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "curves", *sys.argv[1:]]))
