"""DARTS / NAS-Bench-301 cells on the native core.

A cell is 8 ``(input, op)`` pairs: edges ``2k`` and ``2k + 1`` feed intermediate node ``2 + k``;
nodes 0 and 1 are the outputs of the two previous cells; the cell output concatenates nodes
2..5. The two inputs of a node differ (as in every DARTS genotype). An architecture is a normal
cell and a reduction cell. Batches are int8 arrays of shape (n_archs, 2, 8, 2): [cell (0 normal,
1 reduce), edge, (input node, op index)] with op indices in NASLib's compact order (``OPS``).

Isomorphism: swapping the two edges of a node, or renumbering the intermediate nodes in another
topological order, gives the same network. ``canonical_keys`` returns one uint64 per cell (48
bits used) that is equal exactly for isomorphic cells; ``canonical`` returns the representative.

Formats: genotype strings ``Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4,
5], reduce=[...], reduce_concat=[2, 3, 4, 5])`` (pairs are ``(op, input)``) and NASLib's compact
tuples ``[[(input, op) x 8], [(input, op) x 8]]``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._native import core as _core
from .._native import resolve_threads
from ..errors import InvalidTypeError, InvalidValueError

__all__ = [
    "OPS",
    "NUM_EDGES",
    "as_cells",
    "check_cells",
    "parse_genotype",
    "parse_genotypes",
    "format_genotype",
    "format_genotypes",
    "from_naslib",
    "to_naslib",
    "canonical_keys",
    "canonical",
    "decode_keys",
    "relabel_forms",
]

OPS = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
NUM_EDGES = 8
_OP_INDEX = {op: i for i, op in enumerate(OPS)}
_NODE_OF_EDGE = 2 + np.arange(NUM_EDGES) // 2  # node fed by each edge
_CELL_NAMES = ("normal", "reduce")


def invalid_cells(cells: np.ndarray) -> list[tuple[int, str]]:
    """(row, reason) for every architecture of a (n, 2, 8, 2) int array that breaks the cell rules."""
    inputs = cells[..., 0].astype(np.int64)
    ops = cells[..., 1].astype(np.int64)
    bad_input = (inputs < 0) | (inputs >= _NODE_OF_EDGE)
    bad_op = (ops < 0) | (ops >= len(OPS))
    same = inputs[..., 0::2] == inputs[..., 1::2]
    out = []
    for r in np.flatnonzero(bad_input.any(axis=(1, 2)) | bad_op.any(axis=(1, 2)) | same.any(axis=(1, 2))).tolist():
        if bad_op[r].any():
            c, e = (int(x) for x in np.argwhere(bad_op[r])[0])
            why = f"{_CELL_NAMES[c]} edge {e} has op index {int(ops[r, c, e])} outside 0..{len(OPS) - 1}"
        elif bad_input[r].any():
            c, e = (int(x) for x in np.argwhere(bad_input[r])[0])
            why = (
                f"{_CELL_NAMES[c]} edge {e} feeds node {int(_NODE_OF_EDGE[e])} from node {int(inputs[r, c, e])}"
                f" (must be 0..{int(_NODE_OF_EDGE[e]) - 1})"
            )
        else:
            c, k = (int(x) for x in np.argwhere(same[r])[0])
            why = f"both edges of {_CELL_NAMES[c]} node {2 + k} come from node {int(inputs[r, c, 2 * k])}"
        out.append((r, why))
    return out


def as_cells(cells: Any) -> np.ndarray:
    """Shape/dtype check: array-like of shape (n, 2, 8, 2) (or (2, 8, 2)) -> int8 array, unchecked values."""
    a = np.asarray(cells)
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or a.shape[1:] != (2, NUM_EDGES, 2):
        raise InvalidValueError(f"DARTS architectures must have shape (n_archs, 2, 8, 2). Got shape {a.shape} instead.")
    if a.size and a.dtype.kind not in "iu":
        raise InvalidTypeError(f"DARTS architectures must hold integers. Got dtype {a.dtype} instead.")
    if a.size and (a.min() < -128 or a.max() > 127):
        raise InvalidValueError("DARTS architecture entries must be small integers (input node, op index).")
    return np.ascontiguousarray(a, dtype=np.int8)


def check_cells(cells: Any) -> np.ndarray:
    """``as_cells`` plus the cell rules; ValueError naming the first bad architecture."""
    a = as_cells(cells)
    bad = invalid_cells(a)
    if bad:
        r, why = bad[0]
        raise InvalidValueError(f"DARTS architecture {r}: {why}.")
    return a


def _parse_cell(node: ast.expr, where: str) -> list[tuple[int, int]]:
    if not isinstance(node, (ast.List, ast.Tuple)) or len(node.elts) != NUM_EDGES:
        raise InvalidValueError(
            f"Genotype {where} must be a list of {NUM_EDGES} (op, input) pairs. Got {ast.unparse(node)!r}."
        )
    pairs = []
    for e, elt in enumerate(node.elts):
        try:
            op, inp = ast.literal_eval(elt)
        except (ValueError, TypeError, SyntaxError):
            raise InvalidValueError(
                f"Genotype {where} edge {e} must be an (op, input) pair. Got {ast.unparse(elt)!r}."
            ) from None
        if not isinstance(op, str) or op not in _OP_INDEX:
            raise InvalidValueError(
                f"Unknown DARTS op {op!r} in genotype {where} edge {e}. Valid ops: {', '.join(OPS)}."
            )
        if not isinstance(inp, int) or isinstance(inp, bool):
            raise InvalidValueError(f"Genotype {where} edge {e} input must be an int. Got {inp!r}.")
        pairs.append((inp, _OP_INDEX[op]))
    return pairs


def _parse_concat(node: ast.expr, where: str) -> None:
    text = ast.unparse(node)
    if isinstance(node, ast.Call) and text.replace(" ", "") == "range(2,6)":
        return
    try:
        value = ast.literal_eval(node)
    except ValueError:
        value = None
    if not isinstance(value, (list, tuple)) or list(value) != [2, 3, 4, 5]:
        raise InvalidValueError(f"Genotype {where} must be [2, 3, 4, 5] (every intermediate node). Got {text!r}.")


def parse_genotype(s: str) -> np.ndarray:
    """One genotype string -> int8 array of shape (2, 8, 2). ValueError naming the bad token."""
    if not isinstance(s, str):
        raise InvalidTypeError(f"A DARTS genotype must be a str. Got {type(s).__name__} instead.")
    try:
        tree = ast.parse(s.strip(), mode="eval").body
    except SyntaxError:
        raise InvalidValueError(f"Not a genotype string: {s[:80]!r}.") from None
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "Genotype"):
        raise InvalidValueError(f"A genotype string must be 'Genotype(normal=..., ...)'. Got {s[:80]!r}.")
    if tree.args:
        raise InvalidValueError(f"Genotype fields must be given by name. Got {ast.unparse(tree.args[0])[:60]!r}.")
    fields = {kw.arg: kw.value for kw in tree.keywords}
    need = {"normal", "normal_concat", "reduce", "reduce_concat"}
    if set(fields) != need:
        extra = sorted(set(fields) - need, key=str)
        missing = sorted(need - set(fields))
        raise InvalidValueError(f"Genotype fields must be {sorted(need)}. Missing {missing}, unexpected {extra}.")
    _parse_concat(fields["normal_concat"], "normal_concat")
    _parse_concat(fields["reduce_concat"], "reduce_concat")
    out = np.array([_parse_cell(fields["normal"], "normal"), _parse_cell(fields["reduce"], "reduce")], dtype=np.int64)
    return check_cells(out)[0]


_PAIR = r"\(\s*'(\w+)'\s*,\s*(\d+)\s*\)"
_CELL = r"\[\s*" + r"\s*,\s*".join([_PAIR] * NUM_EDGES) + r"\s*,?\s*\]"
_CONCAT = r"(?:\[\s*2\s*,\s*3\s*,\s*4\s*,\s*5\s*\]|range\(\s*2\s*,\s*6\s*\))"
# the usual spelling (what format_genotypes and the DARTS codes print), parsed without the AST
_FAST = re.compile(
    rf"\s*Genotype\(\s*normal\s*=\s*{_CELL}\s*,\s*normal_concat\s*=\s*{_CONCAT}\s*,"
    rf"\s*reduce\s*=\s*{_CELL}\s*,\s*reduce_concat\s*=\s*{_CONCAT}\s*\)\s*"
)


def _parse_fast(s: str) -> list | None:
    m = _FAST.fullmatch(s) if isinstance(s, str) else None
    if m is None:
        return None
    g = m.groups()
    try:
        return [(int(g[j + 1]), _OP_INDEX[g[j]]) for j in range(0, 4 * NUM_EDGES, 2)]
    except KeyError:  # an unknown op: the full parser names it
        return None


def parse_genotypes(strs: Sequence[str]) -> np.ndarray:
    """Genotype strings -> int8 array of shape (n, 2, 8, 2); ValueError names the bad string's position."""
    out = np.empty((len(strs), 2, NUM_EDGES, 2), dtype=np.int8)
    fast = np.zeros(len(strs), bool)
    for i, s in enumerate(strs):
        pairs = _parse_fast(s)
        if pairs is not None and all(0 <= inp < 127 for inp, _ in pairs):
            out[i] = np.asarray(pairs, np.int8).reshape(2, NUM_EDGES, 2)
            fast[i] = True
            continue
        try:
            out[i] = parse_genotype(s)
        except ValueError as exc:
            raise InvalidValueError(f"Genotype {i}: {exc}") from None
    rows = np.flatnonzero(fast)
    if rows.size:
        bad = invalid_cells(out[rows])
        if bad:
            r, why = bad[0]
            raise InvalidValueError(f"Genotype {int(rows[r])}: DARTS architecture {int(rows[r])}: {why}.")
    return out


def _format_cell(cell: np.ndarray) -> str:
    return "[" + ", ".join(f"('{OPS[op]}', {inp})" for inp, op in cell.tolist()) + "]"


def format_genotype(cells: Any) -> str:
    """Genotype string of one architecture (array of shape (2, 8, 2))."""
    return format_genotypes(cells)[0]


def format_genotypes(cells: Any) -> list[str]:
    """Genotype strings of a batch of shape (n, 2, 8, 2)."""
    a = check_cells(cells)
    return [
        f"Genotype(normal={_format_cell(x[0])}, normal_concat=[2, 3, 4, 5], "
        f"reduce={_format_cell(x[1])}, reduce_concat=[2, 3, 4, 5])"
        for x in a
    ]


def from_naslib(archs: Sequence[Any]) -> np.ndarray:
    """NASLib compact tuples (or their string forms) -> int8 array of shape (n, 2, 8, 2)."""
    rows = []
    for i, arch in enumerate(archs):
        value = arch
        if isinstance(arch, str):
            try:
                value = ast.literal_eval(arch)
            except (ValueError, SyntaxError):
                raise InvalidValueError(
                    f"NASLib DARTS architecture {i} is not a tuple literal: {arch[:80]!r}."
                ) from None
        try:
            a = np.asarray(value, dtype=np.int64)
        except (ValueError, TypeError):
            raise InvalidValueError(
                f"NASLib DARTS architecture {i} must be two lists of 8 (input, op) pairs."
            ) from None
        if a.shape != (2, NUM_EDGES, 2):
            raise InvalidValueError(
                f"NASLib DARTS architecture {i} must be two lists of 8 (input, op) pairs. Got shape {a.shape}."
            )
        rows.append(a)
    if not rows:
        return np.empty((0, 2, NUM_EDGES, 2), dtype=np.int8)
    stacked = np.stack(rows)
    bad = invalid_cells(stacked)
    if bad:
        r, why = bad[0]
        raise InvalidValueError(f"NASLib DARTS architecture {r}: {why}.")
    return stacked.astype(np.int8)


def to_naslib(cells: Any) -> list[tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]]:
    """NASLib compact tuples of a batch of shape (n, 2, 8, 2)."""
    a = check_cells(cells)
    return [tuple(tuple((int(i), int(o)) for i, o in cell) for cell in x) for x in a]  # type: ignore[misc]


def canonical_keys(cells: Any, *, threads: int | None = None) -> np.ndarray:
    """Canonical key of every cell: array of shape (n, 2), uint64 (normal, reduce)."""
    a = check_cells(cells)
    keys, _, _ = _core.darts_canonicalize(a.reshape(-1, NUM_EDGES, 2), resolve_threads(threads))
    return keys.reshape(-1, 2)


def relabel_forms(cells: Any, *, threads: int | None = None) -> np.ndarray:
    """Number of distinct node renumberings of every cell (1..24): array of shape (n, 2), int32.

    A uniform draw over genotypes hits an isomorphism class with probability proportional to it.
    """
    a = check_cells(cells)
    _, forms, _ = _core.darts_canonicalize(a.reshape(-1, NUM_EDGES, 2), resolve_threads(threads))
    return forms.reshape(-1, 2)


def canonical(cells: Any, *, threads: int | None = None) -> np.ndarray:
    """Representative of each architecture's class: int8 array of shape (n, 2, 8, 2)."""
    a = check_cells(cells)
    _, _, canon = _core.darts_canonicalize(a.reshape(-1, NUM_EDGES, 2), resolve_threads(threads))
    return canon.reshape(-1, 2, NUM_EDGES, 2)


def decode_keys(keys: Any) -> np.ndarray:
    """Representative cells of keys of shape (n, 2): int8 array of shape (n, 2, 8, 2)."""
    k = np.ascontiguousarray(np.asarray(keys, dtype=np.uint64))
    if k.ndim != 2 or k.shape[1] != 2:
        raise InvalidValueError(f"DARTS keys must have shape (n, 2). Got shape {k.shape} instead.")
    if (k >> np.uint64(48)).any():
        raise InvalidValueError("DARTS keys use 48 bits; got a larger value.")
    return _core.darts_decode_keys(k.reshape(-1)).reshape(-1, 2, NUM_EDGES, 2)
