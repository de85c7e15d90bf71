"""Search quality benchmark: the runs behind the search tables of docs/search.md, through `pyengine search`
(extra arguments are passed through, e.g. --seeds 20 --jobs 2).

python benchmarks/search_trajectories.py nb201 --json results/search_nb201.json
python benchmarks/search_trajectories.py nb101 --json results/search_nb101.json
"""

import sys

from pyengine.cli import main

RUNS = {
    "nb201": ["--space", "nb201", "--searchers", "rs,re,ls,bananas,np", "--budget", "300", "--seeds", "100"],
    "nb101": ["--space", "nb101", "--searchers", "rs,re,ls,bananas,np", "--set", "np.n_train=172"]
    + ["--budget", "300", "--seeds", "100"],
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in RUNS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(RUNS)}}} [pyengine search options]")
    sys.exit(main(["search", *RUNS[sys.argv[1]], *sys.argv[2:]]))
