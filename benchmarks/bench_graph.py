"""Graph-core benchmark: the same run as `pyengine bench graph` (arguments are passed through).

python benchmarks/bench_graph.py --json results/bench_graph.json
"""

import sys

from pyengine.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "graph", *sys.argv[1:]]))
