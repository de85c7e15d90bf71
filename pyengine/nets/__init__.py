"""The benchmark networks in flax, with the architecture given as data so that one compiled
program serves a whole space (and vmaps over architectures).

``NB201Net``: the NAS-Bench-201 network; ``nb201_onehot`` turns a batch of cells into its input.
``NB101Net``: the NAS-Bench-101 network; ``nb101_cell_data`` turns a batch of cells into its
input, ``nb101_split`` picks the narrowest padding a cell fits, ``nb101_rescale`` scales the
padded kernels to a cell's own widths.
``DartsNet``: the DARTS network NASLib scores NB301 architectures on; ``darts_cell_data`` turns a
batch into its input, ``darts_init_variables`` draws its many weight tensors in one draw.
``NETWORKS`` maps a space name to its network class.
"""

from __future__ import annotations

from .._registry import Registry
from ._darts import DartsNet, darts_cell_data, darts_init_variables
from ._layers import INITS, SlotBatchNorm, avg_pool_2x2, avg_pool_3x3, conv2d, init_variables
from ._nb101 import NB101Net, nb101_cell_data, nb101_rescale, nb101_split
from ._nb201 import NB201Net, nb201_onehot

__all__ = [
    "NETWORKS",
    "INITS",
    "init_variables",
    "NB201Net",
    "nb201_onehot",
    "NB101Net",
    "DartsNet",
    "darts_cell_data",
    "darts_init_variables",
    "nb101_cell_data",
    "nb101_rescale",
    "nb101_split",
    "SlotBatchNorm",
    "conv2d",
    "avg_pool_3x3",
    "avg_pool_2x2",
]

NETWORKS: Registry = Registry("network")
NETWORKS.register("nb201", "pyengine.nets._nb201:NB201Net")
NETWORKS.register("nb101", "pyengine.nets._nb101:NB101Net")
NETWORKS.register("darts", "pyengine.nets._darts:DartsNet", aliases=("nb301",))
