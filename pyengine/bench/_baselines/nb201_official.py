"""Pure-Python port of NAS-Bench-201's ``Structure`` (D-X-Y, ``models/cell_searchs/genotypes.py``).

``str2structure`` parses the official arch string and ``to_unique_str`` is the official
isomorphism string. Test oracle of the native core and baseline of ``pyengine bench graph``.
"""

from __future__ import annotations


def str2structure(xstr):
    """Official Structure.str2structure: list of nodes, each a tuple of (op, input node)."""
    nodestrs = xstr.split("+")
    genotypes = []
    for node_str in nodestrs:
        inputs = list(filter(lambda x: x != "", node_str.split("|")))
        for xinput in inputs:
            assert len(xinput.split("~")) == 2, f"invalid input length : {xinput}"
        inputs = (xi.split("~") for xi in inputs)
        input_infos = tuple((op, int(idx)) for (op, idx) in inputs)
        genotypes.append(input_infos)
    return genotypes


def to_unique_str(nodes_info, consider_zero=False):
    """Official Structure.to_unique_str."""
    nodes = {0: "0"}
    for i_node, node_info in enumerate(nodes_info):
        cur_node = []
        for op, xin in node_info:
            if consider_zero is None:
                x = "(" + nodes[xin] + ")" + f"@{op}"
            elif consider_zero:
                if op == "none" or nodes[xin] == "#":
                    x = "#"
                elif op == "skip_connect":
                    x = nodes[xin]
                else:
                    x = "(" + nodes[xin] + ")" + f"@{op}"
            else:
                if op == "skip_connect":
                    x = nodes[xin]
                else:
                    x = "(" + nodes[xin] + ")" + f"@{op}"
            cur_node.append(x)
        nodes[i_node + 1] = "+".join(sorted(cur_node))
    return nodes[len(nodes_info)]


def unique_str(arch_str):
    return to_unique_str(str2structure(arch_str), consider_zero=True)
