"""Scoring architectures with zero-cost proxies: one compiled program per (space, proxies, input
shape) that takes the architecture as data.

On CPU each architecture runs alone through the ``switch`` form of the network (only its own ops
cost FLOPs); with ``archs_per_call > 1`` (the default on GPU) chunks of architectures run
vmapped through the ``merged`` form (NB201; NB101's switches then run every op). A space's
specifics (network, cell arrays, which weights exist, Fisher fan-ins, closed forms, program
groups, initialisation) live in one module per space (``_nb201``, ``_nb101``, ``_darts``) with
the same functions.

Weights are drawn once from the seed and shared by every architecture (common random numbers: a
score depends on the architecture, the seed and the batch, never on which other architectures
are scored with it).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._batch import batch_len, take
from .._compile_cache import ProgramCache, cached_programs, compile_program, eval_shape_cached
from .._registry import Registry
from .._validation import check_positive_int
from ..errors import InvalidTypeError, InvalidValueError, ProxyError
from ..spaces import get_space
from . import _darts, _nb101, _nb201
from ._defs import Proxy

__all__ = ["ProxyScorer", "ProxyError", "DATASETS", "score_proxies", "PROXIES"]

log = logging.getLogger(__name__)

PROXIES: Registry[Proxy] = Registry("zero-cost proxy")
for _name, _attr, _aliases in [
    ("jacob_cov", "JACOB_COV", ("jacov",)),
    ("nwot", "NWOT", ("relu_logdet",)),
    ("synflow", "SYNFLOW", ()),
    ("snip", "SNIP", ()),
    ("grasp", "GRASP", ()),
    ("fisher", "FISHER", ()),
    ("grad_norm", "GRAD_NORM", ()),
    ("plain", "PLAIN", ()),
    ("l2_norm", "L2_NORM", ()),
    ("epe_nas", "EPE_NAS", ()),
    ("params", "PARAMS", ()),
    ("flops", "FLOPS", ()),
    ("zen", "ZEN", ()),
]:
    PROXIES.register(_name, f"pyengine.proxies._defs:{_attr}", aliases=_aliases)

# dataset -> (classes, input shape HWC): the top-level keys of NASLib's zero-cost JSON files
DATASETS: dict[str, tuple[int, tuple[int, int, int]]] = {
    "cifar10": (10, (32, 32, 3)),
    "cifar100": (100, (32, 32, 3)),
    "ImageNet16-120": (120, (16, 16, 3)),
}
# space -> its network specifics: each module defines every name of ADAPTER_NAMES (checked by a
# test); optional hooks (onehot, weight_groups, CHANNELS, ...) are looked up with getattr
_ADAPTERS: dict[str, Any] = {"nb201": _nb201, "nb101": _nb101, "darts": _darts}
ADAPTER_NAMES = (
    "network",
    "cell_data",
    "groups",
    "example_cell",
    "init_variables",
    "prepare",
    "scanned",
    "weight_mask",
    "probe_fan",
    "bn_log_sd",
    "closed_form",
    "params_m",
    "flops_m",
    "WEIGHT_NAMES",
)
_SPACES = tuple(_ADAPTERS)


def _flat(tree: Any) -> dict[tuple[str, ...], Any]:
    return flax.traverse_util.flatten_dict(flax.core.unfreeze(tree))


def _groups(adapter: Any, paths: list[tuple[str, ...]]) -> list[list[tuple[str, ...]]]:
    """The weights in groups of equal shapes that a program may stack (the adapter's
    ``weight_groups``, e.g. the same kernel of every edge of a cell), or one group per weight."""
    hook = getattr(adapter, "weight_groups", None)
    return hook(paths) if hook is not None else [[p] for p in paths]


def _stacked(tree: dict[tuple[str, ...], Any], keys: list[tuple[str, ...]]) -> Any:
    return tree[keys[0]] if len(keys) == 1 else jnp.stack([tree[k] for k in keys])


class _Context:
    """What the proxies of one architecture share inside a traced program, each computed once."""

    def __init__(
        self,
        adapter: Any,
        net: Any,
        variables: dict[str, Any],
        cell: Any,
        x: Any,
        labels: Any,
        *,
        zen_key: Any = None,
        size: dict[str, int] | None = None,
        wanted: Sequence[str] = (),
    ) -> None:
        self.adapter, self.net, self.cell, self.x, self.labels = adapter, net, cell, x, labels
        self.zen_key = zen_key
        # the proxies of the program: the one forward pass of the loss gradient then also
        # yields the input Jacobian's Gram matrix and the ReLU-code kernel when they are wanted
        self._want_jacobian = bool({"jacob_cov", "epe_nas"} & set(wanted))
        self._want_nwot = "nwot" in wanted
        size = size or {}
        # a network of one cell per stage has no leading cell axis (see the adapters' ``scanned``)
        self._scan_size = {"cells_per_stage": size["cells_per_stage"]} if "cells_per_stage" in size else {}
        flat = _flat(adapter.prepare(variables["params"], cell))
        self.params_flat = flat
        self.weights = {k: v for k, v in flat.items() if k[-1] in adapter.WEIGHT_NAMES}
        self.weight_groups = _groups(adapter, list(self.weights))
        self.others = {k: v for k, v in flat.items() if k[-1] not in adapter.WEIGHT_NAMES}
        self.stats = variables.get("batch_stats", {})
        self.pert = variables.get("perturbations")
        self._memo: dict[str, Any] = {}

    def _memoized(self, key: str, fn: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = fn()
        return self._memo[key]

    def apply(self, weights: Any, x: Any, pert: Any = None, mutable: Sequence[str] = (), **kw: Any) -> Any:
        params = flax.traverse_util.unflatten_dict({**self.others, **weights})
        variables = {"params": params}
        if self.stats:
            variables["batch_stats"] = self.stats
            mutable = ["batch_stats", *mutable]
        if pert is not None:
            variables["perturbations"] = pert
        out = self.net.apply(variables, x, self.cell, True, mutable=list(mutable) or False, **kw)
        return out if mutable else (out, {})

    def grads(self) -> tuple[Any, Any]:
        """(dL/dweights, dL/dperturbations) in one backward pass."""

        def run() -> tuple[Any, Any]:
            gw, gp, extras = self._first_order(self.weights)
            self._keep(extras)
            return gw, gp

        return self._memoized("grads", run)

    def _keep(self, extras: dict[str, Any]) -> None:
        """Memoize what a forward pass yielded besides the gradient (see :meth:`_first_order`)."""
        for key, value in extras.items():
            self._memo.setdefault(key, value)

    def _first_order(self, weights: Any) -> tuple[Any, Any, dict[str, Any]]:
        """(dL/dweights, dL/dperturbations, extras) from one forward pass: its pullback taken with
        the loss's cotangent, and, when wanted, with ones for the input Jacobian of the summed
        logits (extras ``jacobian_gram``) and the ReLU codes it records (``nwot_kernel``)."""
        mutable = ["nwot"] if self._want_nwot else []
        x = self.x

        def forward(w: Any, pert: Any, *xs: Any) -> tuple[Any, Any]:
            return self.apply(w, xs[0] if xs else x, pert, mutable=mutable)

        primals = (weights, self.pert, x) if self._want_jacobian else (weights, self.pert)
        logits, pull, state = jax.vjp(forward, *primals, has_aux=True)
        ct = jax.grad(lambda z: optax.softmax_cross_entropy_with_integer_labels(z, self.labels).mean())(logits)
        gw, gp = pull(ct)[:2]
        extras: dict[str, Any] = {}
        if self._want_jacobian:
            extras["jacobian_gram"] = _gram(pull(jnp.ones_like(logits))[2])
        if self._want_nwot:
            extras["nwot_kernel"] = _nwot_kernel(state, x.shape[0])
        return gw, gp, extras

    def synflow(self) -> Any:
        """[ln of the product of the renormalisation scales, sum |theta * dR/dtheta|] for the
        summed output R of the renormalising network (weights already |theta|): the score is
        their exp-product, formed on the host in float64."""

        def objective(w: Any) -> tuple[Any, Any]:
            logits, state = self.apply(w, self.x, mutable=["scales"])
            return logits.sum(), state["scales"]

        g, scales = jax.grad(objective, has_aux=True)(self.weights)
        log_scale = sum(leaf.sum() for leaf in jax.tree.leaves(scales))
        total = self.grouped_sum(lambda w, gw: jnp.abs(w * gw), self.weights, g)
        return jnp.stack([log_scale, total])

    def scanned(self, path: tuple[str, ...]) -> bool:
        """Whether the leaf at ``path`` has a leading axis over the cells of a stage."""
        return bool(self.adapter.scanned(path, **self._scan_size))

    def mask(self, path: tuple[str, ...]) -> Any:
        """0/1 (a scalar or broadcastable over the weight) where the weight at ``path`` exists."""
        return self.adapter.weight_mask(path, self.cell, self.weights[path].shape)

    def group_mask(self, keys: list[tuple[str, ...]]) -> Any:
        """:meth:`mask` of the weights at ``keys`` stacked as :func:`_stacked` stacks them."""
        masks = [jnp.asarray(self.mask(k), jnp.float32) for k in keys]
        if len(keys) == 1:
            return masks[0]
        ndim = self.weights[keys[0]].ndim
        if all(m.ndim == 0 for m in masks):
            return jnp.stack(masks).reshape((len(keys),) + (1,) * ndim)
        return jnp.stack([jnp.broadcast_to(m, self.weights[keys[0]].shape) for m in masks])

    def grouped_sum(self, fn: Callable[..., Any], *trees: dict[tuple[str, ...], Any], masked: bool = True) -> Any:
        """Sum over the weights of ``fn`` of their leaves in ``trees`` (times :meth:`mask`), each
        group of :func:`_groups` computed at once on its stacked leaves: one kernel per group
        rather than per weight (NB301: 820 weights in 120 groups)."""
        total = 0.0
        for keys in self.weight_groups:
            term = fn(*(_stacked(t, keys) for t in trees))
            total = total + ((self.group_mask(keys) * term) if masked else term).sum()
        return total

    def weight_sum(self, fn: Callable[[Any, Any], Any], use_grad: bool) -> Any:
        g = self.grads()[0] if use_grad else self.weights
        return self.grouped_sum(fn, self.weights, g)

    def layer_norm_sum(self, tree: dict[tuple[str, ...], Any]) -> Any:
        """Sum over layers of Frobenius norms of the entries that exist (each cell of a scanned
        stage is its own layer, and so is each weight of a stacked group)."""
        total = 0.0
        for keys in self.weight_groups:
            a = self.group_mask(keys) * _stacked(tree, keys)
            lead = (len(keys) > 1) + bool(self.scanned(keys[0]))
            if lead:
                total = total + jnp.sqrt(jnp.square(a).reshape(int(np.prod(a.shape[:lead])), -1).sum(-1)).sum()
            else:
                total = total + jnp.sqrt(jnp.square(a).sum())
        return total

    def grasp(self) -> Any:
        # H g by reverse over reverse (the network's custom VJPs admit no forward mode, and
        # central differences of float32 gradients are too noisy across ReLU kinks), in one
        # nested differentiation: the gradient of z(w) = sg(g(w)) . g(w) is H g at w. The inner
        # gradient (with the probes' gradient, for fisher, and what else its forward pass
        # yields) comes back as aux and serves the other proxies of the same program, so they
        # cost no further pass.
        def z(w: Any) -> tuple[Any, Any]:
            gw, gp, extras = self._first_order(w)
            g = jax.lax.stop_gradient(gw)
            aux = jax.lax.stop_gradient((gw, gp, extras))
            return self.grouped_sum(lambda a, b: a * b, gw, g, masked=False), aux

        hg, (gw, gp, extras) = jax.grad(z, has_aux=True)(self.weights)
        self._memo.setdefault("grads", (gw, gp))
        self._keep(extras)
        return self.grouped_sum(lambda w, h: -w * h, self.weights, hg)

    def fisher(self) -> Any:
        gp = _flat(self.grads()[1])
        total = 0.0
        for keys in _groups(self.adapter, list(gp)):
            # each probe's gradient: (batch, 1, 1, C) or (batch, C), with a leading cell axis in
            # scanned stages, and a leading group axis when stacked
            lead = (len(keys) > 1) + bool(self.scanned(keys[0]))
            s = _stacked(gp, keys)
            s = s.reshape(s.shape[: lead + 1] + (-1,))
            delta = 0.5 * jnp.square(s).mean(axis=lead)
            fan = [jnp.asarray(self.adapter.probe_fan(k, self.params_flat, self.cell), jnp.float32) for k in keys]
            if len(keys) > 1:
                delta = jnp.stack(fan).reshape((len(keys),) + (1,) * (delta.ndim - 1)) * delta
            else:
                delta = fan[0] * delta
            total = total + delta.sum()
        return total

    def jacobian_gram(self) -> Any:
        def run() -> Any:
            return _gram(jax.grad(lambda x: self.apply(self.weights, x)[0].sum())(self.x))

        return self._memoized("jacobian_gram", run)

    def nwot_kernel(self) -> Any:
        def run() -> Any:
            return _nwot_kernel(self.apply(self.weights, self.x, mutable=["nwot"])[1], self.x.shape[0])

        return self._memoized("nwot_kernel", run)

    def zen(self) -> Any:
        k_w, k_x, k_e = jax.random.split(self.zen_key, 3)
        # one draw for every weight (a draw per weight compiles thousands of kernels), read in
        # the order of the groups so that a group the network stacks is one contiguous slice
        order = [k for group in self.weight_groups for k in group]
        sizes = [int(np.prod(self.weights[k].shape)) for k in order]
        draw = jax.random.normal(k_w, (sum(sizes),), jnp.float32)
        starts = np.cumsum([0, *sizes])
        weights = {
            k: draw[starts[i] : starts[i + 1]].reshape(self.weights[k].shape).astype(self.weights[k].dtype)
            for i, k in enumerate(order)
        }
        others = {k: (jnp.ones_like(v) if k[-1] == "scale" else jnp.zeros_like(v)) for k, v in self.others.items()}
        stats = {k: (jnp.zeros_like(v) if k[-1] == "mean" else jnp.ones_like(v)) for k, v in _flat(self.stats).items()}
        params = flax.traverse_util.unflatten_dict({**others, **weights})
        x = jax.random.normal(k_x, self.x.shape, self.x.dtype)
        x2 = x + 0.01 * jax.random.normal(k_e, self.x.shape, self.x.dtype)

        def features(xx: Any, st: Any) -> tuple[Any, Any]:
            variables = {"params": params, "batch_stats": flax.traverse_util.unflatten_dict(st)}
            f, upd = self.net.apply(variables, xx, self.cell, True, features=True, mutable=["batch_stats"])
            return f, _flat(upd["batch_stats"])

        f1, stats = features(x, stats)
        f2, stats = features(x2, stats)
        delta = jnp.abs(f1 - f2).reshape(f1.shape[0], -1).sum(-1).mean()
        bn = 0.0
        for path, v in stats.items():
            if path[-1] != "var":
                continue
            bn = bn + self.adapter.bn_log_sd(path, v, self.cell)  # v: (..., slots, C)
        return jnp.log(delta) + bn


# the order in which a program traces its proxies (others last)
_ORDER = {"grasp": 0, "snip": 1, "grad_norm": 1, "plain": 1, "fisher": 1}


def _gram(jac: Any) -> Any:
    """The Gram matrix of the centred rows of the input Jacobians ``jac`` (batch, H, W, C)."""
    j = jac.reshape(jac.shape[0], -1)
    j = j - j.mean(axis=1, keepdims=True)
    return j @ j.T


def _nwot_kernel(state: Any, n: int) -> Any:
    """The ReLU-code kernel summed over the layers whose kernels ``state["nwot"]`` holds (a
    scanned stage holds one per cell)."""
    total = jnp.zeros((n, n), jnp.float32)
    for leaf in jax.tree.leaves(state["nwot"]):
        total = total + leaf.reshape(-1, n, n).sum(0)
    return total


# compiled programs by (space, program, proxies, shapes, group, precision, size); bounded, so that a
# process scoring many configurations does not keep every executable
_COMPILED = ProgramCache(32)


@cached_programs(32)
def _program(
    space: str,
    program: str,
    names: tuple[str, ...],
    n_classes: int,
    vmapped: bool,
    group: int = 0,
    size: tuple[tuple[str, int], ...] = (),
) -> Callable[..., Any]:
    """The jitted per-architecture (or per-chunk) program computing the device parts of ``names``
    for the architectures of one group of the space (see the adapters' ``groups``); ``size``:
    the network size arguments of the adapter's ``network`` as (name, value) pairs."""
    form = "merged" if vmapped else "switch"
    adapter = _ADAPTERS[space]
    if program == "synflow":
        net = adapter.network(
            n_classes, cell_form=form, batch_norm=False, native_conv=not vmapped, renorm=True, group=group, **dict(size)
        )
    else:
        net = adapter.network(n_classes, cell_form=form, native_conv=not vmapped, group=group, **dict(size))
    proxies = [PROXIES.get(n) for n in names]

    def one(variables: Any, cell: Any, x: Any, labels: Any, zen_key: Any) -> dict[str, Any]:
        if program == "synflow":
            # |theta|; the head's bias, which no weight gradient depends on, zeroed so that the
            # network is positively homogeneous in its input and may renormalise
            flat = _flat(variables["params"])
            params = {k: (jnp.zeros_like(a) if k[-1] == "classifier_bias" else jnp.abs(a)) for k, a in flat.items()}
            variables = {"params": flax.traverse_util.unflatten_dict(params)}
            ctx = _Context(adapter, net, variables, cell, x, labels, size=dict(size))
        else:
            ctx = _Context(adapter, net, variables, cell, x, labels, zen_key=zen_key, size=dict(size), wanted=names)
        # grasp first: its nested differentiation yields the gradient the first-order proxies read;
        # then those, whose forward pass also yields what jacob_cov, epe_nas and nwot read
        out = {p.name: p.device(ctx) for p in sorted(proxies, key=lambda p: _ORDER.get(p.name, 2))}
        return {p.name: out[p.name] for p in proxies}

    fn = jax.vmap(one, in_axes=(None, 0, None, None, None)) if vmapped else one
    return jax.jit(fn)


class ProxyScorer:
    """Zero-cost proxy scores of architectures of a space.

    Parameters
    ----------
    space : str
        Search space: ``"nb201"``, ``"nb101"`` or ``"darts"`` (NB301: NASLib's DARTS network).
    proxies : sequence of str
        Names from ``PROXIES`` (aliases such as ``jacov`` accepted).
    dataset : str
        A key of ``DATASETS``: sets the number of classes and the input shape.
    batch_size : int
        Minibatch size for the proxies that read data (NASLib's protocol: 32).
    images : array of shape (batch, height, width, 3), optional
        A user's minibatch (already normalised); default: Gaussian noise drawn with the seed.
    labels : array of shape (batch,), optional
        Integer labels in [0, classes); default: drawn uniformly with the seed.
    seed : int
        Seeds the weights (shared by every architecture), the noise batch, the labels and zen.
    archs_per_call : int, optional
        1 runs one architecture per call through the switch-form network (CPU default); more
        runs chunks vmapped through the merged form (GPU default 256).
    precision : {"highest", "high", "default"}
        Matrix and convolution precision of the compiled programs. "highest" (default) computes
        in float32 everywhere, so a GPU gives the CPU's scores to float32 rounding; "default"
        lets a GPU use TF32 (faster; jacob_cov, snip and grad_norm then move by about 2%).
    min_group_size : int
        Spaces whose cells run in program groups (NB101: narrower padding for cells whose
        output concatenates more vertices) compile a group's own program only when at least
        this many architectures fall in it; the others run in the next wider group's program,
        which gives the same scores at more FLOPs. A program costs seconds to compile, so a
        group of a few cells is cheaper to run wide. 1 compiles every group present.
    workers : int, optional
        Compiled calls in flight at once, each from its own thread (the results are the same
        for any value). Default: 2 on CPU when the process may use 2 or more cores (XLA leaves
        part of the cores idle in one architecture's small kernels; two architectures at a
        time fill them: about 1.4x the throughput on 2 cores), 1 on GPUs.
    channels, cells_per_stage : int, optional
        NB201 only: the network's width and cells per stage (default: the benchmark's 16 and 5).
        Smaller networks serve tests against slow references; ``params`` and ``flops`` follow
        the size.
    """

    def __init__(
        self,
        space: str = "nb201",
        proxies: Sequence[str] = ("synflow", "jacob_cov"),
        *,
        dataset: str = "cifar10",
        batch_size: int = 32,
        images: Any = None,
        labels: Any = None,
        seed: int = 0,
        archs_per_call: int | None = None,
        precision: str = "highest",
        min_group_size: int = 64,
        workers: int | None = None,
        channels: int | None = None,
        cells_per_stage: int | None = None,
    ) -> None:
        if space not in _SPACES:
            raise InvalidValueError(
                f"The 'space' parameter of ProxyScorer must be one of {list(_SPACES)} (the networks built so far). "
                f"Got {space!r} instead."
            )
        if isinstance(proxies, str):
            proxies = [p for p in proxies.split(",") if p]
        if not proxies:
            raise InvalidValueError("The 'proxies' parameter of ProxyScorer must name at least one proxy. Got none.")
        self.proxy_names = list(dict.fromkeys(PROXIES.canonical_name(p) for p in proxies))
        if dataset not in DATASETS:
            raise InvalidValueError(
                f"The 'dataset' parameter of ProxyScorer must be one of {list(DATASETS)}. Got {dataset!r} instead."
            )
        self.space = get_space(space)
        self._adapter = _ADAPTERS[space]
        self.dataset = dataset
        self.n_classes, self.input_shape = DATASETS[dataset]
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise InvalidTypeError(
                f"The 'seed' parameter of ProxyScorer must be an int. Got {type(seed).__name__} instead."
            )
        self.seed = int(seed)
        rng = np.random.default_rng(self.seed)
        if images is None:
            if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 2:
                raise InvalidValueError(
                    f"The 'batch_size' parameter of ProxyScorer must be an int >= 2. Got {batch_size!r} instead."
                )
            self.images = rng.standard_normal((int(batch_size), *self.input_shape)).astype(np.float32)
        else:
            self.images = _check_images(images, self.input_shape)
        n = self.images.shape[0]
        if labels is None:
            self.labels = rng.integers(0, self.n_classes, n).astype(np.int32)
        else:
            self.labels = _check_labels(labels, n, self.n_classes)
        if archs_per_call is None:
            archs_per_call = 1 if jax.default_backend() == "cpu" else 256
        if not isinstance(archs_per_call, (int, np.integer)) or archs_per_call < 1:
            raise InvalidValueError(
                f"The 'archs_per_call' parameter of ProxyScorer must be an int >= 1. Got {archs_per_call!r}."
            )
        self.archs_per_call = int(archs_per_call)
        if precision not in ("highest", "high", "default"):
            raise InvalidValueError(
                "The 'precision' parameter of ProxyScorer must be one of ['highest', 'high', 'default']. "
                f"Got {precision!r} instead."
            )
        self.precision = precision
        if not isinstance(min_group_size, (int, np.integer)) or isinstance(min_group_size, bool) or min_group_size < 1:
            raise InvalidValueError(
                f"The 'min_group_size' parameter of ProxyScorer must be an int >= 1. Got {min_group_size!r} instead."
            )
        self.min_group_size = int(min_group_size)
        if workers is None:
            workers = min(2, len(os.sched_getaffinity(0))) if jax.default_backend() == "cpu" else 1
        self.workers = check_positive_int(workers, "workers", "ProxyScorer")
        self._size = _network_size(space, channels=channels, cells_per_stage=cells_per_stage)
        self.compile_seconds: dict[str, float] = {}
        self.groups_used: dict[int, int] = {}  # program group -> architectures, of the last score()
        self._variables: dict[int, Any] = {}

    def _init(self, batch: int) -> Any:
        if batch not in self._variables:
            net = self._adapter.network(self.n_classes, cell_form="merged", **self._size)
            x = jax.ShapeDtypeStruct((batch, *self.input_shape), jnp.float32)
            cell = self._adapter.example_cell()
            self._variables[batch] = self._adapter.init_variables(net, jax.random.key(self.seed), x, cell)
        return self._variables[batch]

    def _programs(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for name in self.proxy_names:
            groups.setdefault(PROXIES.get(name).program, []).append(name)
        return groups

    def score(self, archs: Any, *, progress: Callable[[int, int], None] | None = None) -> dict[str, np.ndarray]:
        """Scores of every architecture: name -> array of shape (n_archs,), float64.

        archs : a batch of the space (or architecture strings)
        progress : optional ``callback(done, total)`` after each call

        Degenerate networks (no path from input to output) score -inf for jacob_cov, epe_nas,
        nwot and zen and 0 for synflow, snip, grad_norm, plain and grasp (fisher keeps only
        the classifier's small term).
        """
        batch = self.space.as_batch(archs)
        n = batch_len(batch)
        if n == 0:
            raise InvalidValueError("ProxyScorer.score needs at least one architecture. Got an empty batch.")
        cells = self._adapter.cell_data(batch)
        self._batch = batch
        out = {name: np.full(n, np.nan) for name in self.proxy_names}
        groups = self._programs()
        for name in groups.get("closed_form", []):
            out[name] = self._adapter.closed_form(name, batch, self.n_classes, self.input_shape[:2], **self._size)
        info = {"labels": self.labels, "n_classes": self.n_classes}
        zen_key = jax.random.fold_in(jax.random.key(self.seed), 1)
        step = self.archs_per_call
        arch_groups = merge_small_groups(self._adapter.groups(cells), self.min_group_size)
        self.groups_used = {int(g): int(c) for g, c in zip(*np.unique(arch_groups, return_counts=True), strict=True)}
        vm = step > 1
        plan: dict[tuple[str, int], tuple[Any, ...]] = {}  # (program, group) -> key, variables, x, labels
        for program in ("network", "synflow"):
            names = groups.get(program)
            if not names:
                continue
            if program == "synflow":
                full = {"params": self._init(self.images.shape[0])["params"]}
                x = np.ones((1, *self.input_shape))
            else:
                full, x = self._init(self.images.shape[0]), self.images
            xj = jnp.asarray(x, jnp.float32)
            lab = jnp.asarray(self.labels[: xj.shape[0]])
            for group in np.unique(arch_groups):
                key = (
                    self.space.name, program, tuple(names), self.n_classes, vm, step, xj.shape, int(group),
                    self.precision, tuple(sorted(self._size.items())),
                )  # fmt: skip
                plan[(program, int(group))] = (key, self._group_variables(full, program, int(group)), xj, lab)
        programs = self._compile_missing(plan, cells, arch_groups, zen_key)
        for program in ("network", "synflow"):
            names = groups.get(program)
            if not names:
                continue
            done = 0
            for group in np.unique(arch_groups):
                rows_g = np.flatnonzero(arch_groups == group)
                key, variables, xj, lab = plan[(program, int(group))]
                compiled = programs[key]
                calls = []
                for start in range(0, len(rows_g), step):
                    rows = rows_g[start : start + step]
                    # vmapped: the last chunk padded with its last architecture
                    calls.append((rows, rows[np.minimum(np.arange(step), len(rows) - 1)] if vm else rows[0]))
                for rows, res in self._run(compiled, calls, cells, (variables, xj, lab, zen_key)):
                    self._finish(out, names, res, rows, vm, info)
                    done += len(rows)
                    if progress is not None:
                        progress(done, n)
        return out

    def _run(
        self, compiled: Any, calls: list[tuple[np.ndarray, Any]], cells: Any, args: tuple
    ) -> Iterator[tuple[np.ndarray, Any]]:
        """(rows, host results) of each call in order, ``workers`` calls in flight at once. A call
        is (rows, index into ``cells``); ``args``: the program's other arguments."""
        variables, xj, lab, zen_key = args

        def call(index: Any) -> Any:
            return jax.device_get(compiled(variables, _take(cells, index), xj, lab, zen_key))

        if self.workers == 1 or len(calls) == 1:
            for rows, index in calls:
                yield rows, call(index)
            return
        with ThreadPoolExecutor(self.workers) as pool:
            pending: deque[tuple[np.ndarray, Any]] = deque()
            for rows, index in calls:
                pending.append((rows, pool.submit(call, index)))
                if len(pending) > self.workers:
                    r, fut = pending.popleft()
                    yield r, fut.result()
            while pending:
                r, fut = pending.popleft()
                yield r, fut.result()

    def _compile_missing(
        self, plan: dict[tuple[str, int], tuple[Any, ...]], cells: Any, arch_groups: np.ndarray, zen_key: Any
    ) -> dict[tuple, Any]:
        """The planned programs by key, compiling those the process lacks (one per program, group
        and shape); ``compile_seconds`` gets each program's compile time. The caller holds them
        for the call, whatever the bounded process cache drops meanwhile."""
        step = self.archs_per_call
        self.compile_seconds = {program: 0.0 for program, _ in plan}
        programs: dict[tuple, Any] = {}
        for (program, group), (key, variables, xj, lab) in plan.items():
            rows_g = np.flatnonzero(arch_groups == group)
            example = _take(cells, rows_g[np.zeros(step, int)]) if step > 1 else _take(cells, rows_g[0])
            args = (variables, example, xj, lab, zen_key)
            programs[key] = _COMPILED.get(key, functools.partial(self._compile, key, program, group, args))
        return programs

    def _compile(self, key: tuple, program: str, group: int, args: tuple) -> Any:
        t0 = time.perf_counter()
        size = tuple(sorted(self._size.items()))
        fn = _program(self.space.name, program, key[2], self.n_classes, self.archs_per_call > 1, group, size)
        with jax.default_matmul_precision(self.precision):
            out = compile_program(fn, args, tag=f"proxies{key}")
        self.compile_seconds[program] += time.perf_counter() - t0
        return out

    def _group_variables(self, full: Any, program: str, group: int) -> Any:
        """The variables of a group's network: leading slices of the full network's."""
        if group == 0:
            return full
        net = self._adapter.network(self.n_classes, cell_form="merged", group=group, **self._size)
        x = (self.images.shape[0], *self.input_shape)
        cell = self._adapter.example_cell()
        shapes = eval_shape_cached(
            lambda k: net.init(k, jnp.zeros(x), _zeros(cell)), (jax.random.key(0),), tag=f"group variables {net!r} {x}"
        )
        if program == "synflow":
            shapes = {"params": shapes["params"]}
        return jax.tree.map(lambda s, a: a[tuple(slice(0, d) for d in s.shape)], shapes, full)

    def _finish(
        self,
        out: dict[str, np.ndarray],
        names: list[str],
        res: dict[str, Any],
        rows: np.ndarray,
        vm: bool,
        info: dict[str, Any],
    ) -> None:
        for name in names:
            proxy = PROXIES.get(name)
            for j, row in enumerate(rows):
                raw = res[name][j] if vm else res[name]
                value = proxy.host(raw, info)
                if np.isnan(value):
                    done = {k: v.copy() for k, v in out.items()}
                    arch = self.space.to_strings(take(self._batch, [int(row)]))[0]
                    raise ProxyError(f"Proxy {name!r} gave NaN for architecture {int(row)} ({arch}).", done)
                out[name][row] = value


def _network_size(space: str, **size: int | None) -> dict[str, int]:
    """The network size arguments given to the space's adapter (``network`` and
    ``closed_form``): NB201 takes ``channels`` and ``cells_per_stage`` (the benchmark's when
    None); the other spaces build only the benchmark's network."""
    if space != "nb201":
        for name, value in size.items():
            if value is not None:
                raise InvalidValueError(
                    f"The '{name}' parameter of ProxyScorer must be None for space {space!r} (only NB201 "
                    f"networks take another size). Got {value!r} instead."
                )
        return {}
    defaults = {"channels": _nb201.CHANNELS, "cells_per_stage": _nb201.CELLS_PER_STAGE}
    out = {}
    for name, value in size.items():
        if value is None:
            value = defaults[name]
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise InvalidTypeError(
                f"The '{name}' parameter of ProxyScorer must be a positive int or None. "
                f"Got {type(value).__name__} instead."
            )
        if value < 1:
            raise InvalidValueError(
                f"The '{name}' parameter of ProxyScorer must be a positive int or None. Got {value!r} instead."
            )
        out[name] = int(value)
    return out


def merge_small_groups(groups: np.ndarray, min_size: int) -> np.ndarray:
    """Program groups with fewer than ``min_size`` architectures moved into the next lower
    (wider) group, from the highest down, so that a merged group may itself grow past the
    threshold. Group 0 serves every architecture and is kept whatever its size."""
    out = np.asarray(groups).copy()
    for g in range(int(out.max(initial=0)), 0, -1):
        rows = out == g
        if 0 < rows.sum() < min_size:
            out[rows] = g - 1
    return out


def _zeros(shapes: Any) -> Any:
    return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)


def _take(cells: Any, index: Any) -> Any:
    """Rows ``index`` of every array of a cell pytree."""
    return jax.tree.map(lambda a: a[index], cells)


def _check_images(images: Any, shape: tuple[int, int, int]) -> np.ndarray:
    a = np.asarray(images)
    if a.ndim != 4:
        raise InvalidValueError(
            f"The 'images' parameter must have shape (batch, height, width, 3). Got shape {a.shape}."
        )
    if a.shape[1:] != shape and a.shape[1:] == (shape[2], shape[0], shape[1]):
        a = a.transpose(0, 2, 3, 1)  # NCHW, as PyTorch loaders give it
    if a.shape[1:] != shape:
        raise InvalidValueError(
            f"The 'images' parameter must have shape (batch, {', '.join(map(str, shape))}). Got {a.shape}."
        )
    if a.shape[0] < 2:
        raise InvalidValueError(f"The 'images' parameter must hold at least 2 images. Got {a.shape[0]}.")
    if not np.issubdtype(a.dtype, np.number):
        raise InvalidTypeError(f"The 'images' parameter must be numeric. Got dtype {a.dtype}.")
    a = a.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(a.reshape(a.shape[0], -1)).all(1))
    if bad.size:
        raise InvalidValueError(f"The 'images' parameter holds NaN or inf (first at image {int(bad[0])}).")
    return a


def _check_labels(labels: Any, n: int, n_classes: int) -> np.ndarray:
    a = np.asarray(labels)
    if a.shape != (n,):
        raise InvalidValueError(f"The 'labels' parameter must have shape ({n},), one per image. Got {a.shape}.")
    if not np.issubdtype(a.dtype, np.integer):
        if not np.issubdtype(a.dtype, np.floating) or not np.all(a == np.round(a)):
            raise InvalidValueError(f"The 'labels' parameter must hold integer class indices. Got dtype {a.dtype}.")
    if a.size and (a.min() < 0 or a.max() >= n_classes):
        raise InvalidValueError(
            f"The 'labels' parameter must lie in [0, {n_classes}). Got range [{a.min()}, {a.max()}]."
        )
    return a.astype(np.int32)


def score_proxies(space: str, archs: Any, proxies: Sequence[str], **kwargs: Any) -> dict[str, np.ndarray]:
    """``ProxyScorer(space, proxies, **kwargs).score(archs)``."""
    return ProxyScorer(space, proxies, **kwargs).score(archs)
