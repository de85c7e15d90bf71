"""A graph transformer on the ``gcn`` encoding: self-attention over a cell's nodes masked by the
DAG's reachability in both directions (information flows forward from a node's ancestors and
backward from its descendants, as NN-Former, FlowerFormer and PINAT let it), trained by the
shared ensemble program like the GCN."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from ..errors import InvalidTypeError, InvalidValueError
from ._gcn import GCNPredictor
from ._nn import NeuralPredictor, _float_in, _positive_int, _validate_inference
from ._persist import register_module

__all__ = ["GraphTransformer", "TransformerPredictor", "reachability", "neighbour_means"]


def reachability(adjacency: jax.Array) -> jax.Array:
    """R[..., i, j] = 1 where a directed path (of length 0 or more) leads from node i to node j.

    adjacency : array of shape (..., v, v), entry [i, j] = edge i -> j
    Returns an array of the same shape, float32 0/1 (the transitive closure of A + I, by
    repeated squaring: ceil(log2(v)) matmuls).
    """
    v = adjacency.shape[-1]
    r = jnp.minimum(adjacency.astype(jnp.float32) + jnp.eye(v, dtype=jnp.float32), 1.0)
    for _ in range(max(int(np.ceil(np.log2(max(v, 2)))), 1)):
        r = jnp.minimum(r @ r, 1.0)
    return r


def neighbour_means(adjacency: jax.Array, h: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Each node's mean of ``h`` over its predecessors and over its successors (zeros where it has
    none).

    adjacency : array of shape (..., v, v), entry [i, j] = edge i -> j
    h : array of shape (..., v, k)
    Returns two arrays of shape (..., v, k).
    """
    a = adjacency.astype(jnp.float32)
    into = a / jnp.maximum(a.sum(axis=-2, keepdims=True), 1.0)  # [i, j] over the in-degree of j
    out = a / jnp.maximum(a.sum(axis=-1, keepdims=True), 1.0)  # [i, j] over the out-degree of i
    into_t = jnp.swapaxes(into, -1, -2)  # [j, i]: both products contract the left operand's last axis
    return jnp.einsum("...ji,...ik->...jk", into_t, h), jnp.einsum("...ij,...jk->...ik", out, h)


@register_module
class GraphTransformer(nn.Module):
    """Graph transformer of one architecture batch.

    Input: (adjacency (B, v, v), features (B, v, d), mask (B, v)), optionally with graph-level
    features (B, k) (zero-cost scores) concatenated to the pooled readout. Node features are embedded
    (Dense to ``d_model``); each of ``n_layers`` pre-norm blocks is multi-head self-attention
    (half the heads attend to the node's ancestors, half to its descendants, the node itself
    included in both; padding nodes are never attended to) and a GELU feed-forward block, each
    with a residual and dropout. With ``graph_ffn`` the feed-forward block's hidden layer also
    reads each node's mean over its predecessors and its mean over its successors, each through
    its own Dense layer (the bidirectional graph feed-forward of NN-Former). Readout: layer norm,
    masked mean over the real nodes, a GELU MLP to one value. Output (B,): a linear value, or
    sigmoid(value) with ``bounded``.

    ``dtype`` is the dtype of the blocks' matmul operands: "float32", or "bfloat16" for
    low-precision inference (the embedding, attention and feed-forward matmuls take bfloat16
    weights and activations and accumulate and return float32; the parameters stay float32 and
    are cast where used; layer-norm statistics, the attention softmax, the residual stream, the
    readout and the head in float32). The output is float32 either way.
    """

    n_layers: int = 3
    d_model: int = 64
    n_heads: int = 4
    ffn: int = 128
    dropout: float = 0.1
    bounded: bool = False
    dtype: str = "float32"
    graph_ffn: bool = False

    @nn.compact
    def __call__(self, graph: tuple[jax.Array, jax.Array, jax.Array], train: bool = False) -> jax.Array:
        adjacency, features, mask = graph[:3]
        m = mask.astype(bool)
        reach = reachability(adjacency) > 0  # [b, i, j]: i reaches j
        keys_real = m[:, None, :]
        ancestors = jnp.swapaxes(reach, -1, -2) & keys_real  # query j reads key i when i reaches j
        descendants = reach & keys_real
        half = self.n_heads // 2 if self.n_heads > 1 else 1
        head_mask = jnp.concatenate(
            [
                jnp.repeat(ancestors[:, None], half, axis=1),
                jnp.repeat(descendants[:, None], self.n_heads - half, axis=1),
            ],
            axis=1,
        )[:, : self.n_heads]  # (B, heads, v, v)
        dh = self.d_model // self.n_heads
        drop = nn.Dropout(self.dropout, deterministic=not train)
        low = self.dtype != "float32"
        acc = jnp.float32 if low else None  # the matmuls' accumulation and result in low precision

        def cast(a: jax.Array) -> jax.Array:
            return a.astype(self.dtype) if low else a

        def dense(features: int, name: str) -> nn.Dense:
            if not low:
                return nn.Dense(features, name=name)
            dot = functools.partial(jax.lax.dot_general, preferred_element_type=jnp.float32)
            return nn.Dense(features, dtype=jnp.dtype(self.dtype), dot_general=dot, name=name)

        h = dense(self.d_model, "embed")(features.astype(jnp.float32))
        for layer in range(self.n_layers):
            y = nn.LayerNorm(name=f"norm_attn_{layer}")(h)
            qkv = dense(3 * self.d_model, f"qkv_{layer}")(y)
            q, k, v = jnp.split(qkv.reshape(*qkv.shape[:2], 3, self.n_heads, dh), 3, axis=2)
            q, k, v = q[:, :, 0], k[:, :, 0], v[:, :, 0]  # (B, v, heads, dh)
            logits = jnp.einsum("bqhd,bkhd->bhqk", cast(q), cast(k), preferred_element_type=acc) / np.sqrt(dh)
            logits = jnp.where(head_mask, logits, -1e9)
            att = jax.nn.softmax(logits, axis=-1)
            y = jnp.einsum("bhqk,bkhd->bqhd", cast(att), cast(v), preferred_element_type=acc)
            y = y.reshape(*h.shape[:2], self.d_model)
            h = h + drop(dense(self.d_model, f"attn_out_{layer}")(y))
            y = nn.LayerNorm(name=f"norm_ffn_{layer}")(h)
            z = dense(self.ffn, f"ffn_in_{layer}")(y)
            if self.graph_ffn:
                preds, succs = neighbour_means(adjacency, y)
                z = z + dense(self.ffn, f"ffn_fwd_{layer}")(preds) + dense(self.ffn, f"ffn_bwd_{layer}")(succs)
            y = dense(self.d_model, f"ffn_out_{layer}")(jax.nn.gelu(z))
            h = h + drop(y)
        h = nn.LayerNorm(name="norm_out")(h)
        w = m.astype(jnp.float32)
        pooled = jnp.einsum("bv,bvk->bk", w, h) / jnp.maximum(jnp.sum(w, axis=1, keepdims=True), 1.0)
        if len(graph) > 3:  # graph-level features (zero-cost scores) join the readout, before the head
            pooled = jnp.concatenate([pooled, graph[3].astype(jnp.float32)], axis=-1)
        z = nn.Dense(1, name="head_out")(drop(jax.nn.gelu(nn.Dense(self.d_model, name="head_in")(pooled))))[:, 0]
        return jax.nn.sigmoid(z) if self.bounded else z


class TransformerPredictor(GCNPredictor):
    """A graph transformer regressor (:class:`GraphTransformer`) on the ``gcn`` encoding, under
    the GCN's estimator contract: same inputs (architectures of ``space`` or a GraphBatch),
    ensembles trained as one vmapped program, bucketed inference, save/load.

    Parameters
    ----------
    space : str or SearchSpace, optional; needed when X holds architectures rather than a GraphBatch
    n_layers : int, default 3
    d_model : int, default 64; a multiple of ``n_heads``
    n_heads : int, default 4; half attend to ancestors, half to descendants
    ffn : int, default 128; the feed-forward block's width
    graph_ffn : bool, default True
        The feed-forward blocks also aggregate over each node's predecessors and successors
        (:class:`GraphTransformer`); chosen on folds of the published protocol's training sets
        (docs/results.md), False gives the plain transformer block.
    dropout : float, default 0.1
    bounds : (lo, hi), optional; as :class:`GCNPredictor`
    loss : "mse", "mae" or "rank", default "rank"
        "rank": the pairwise logistic loss over the ordered pairs of each minibatch (a binary
        cross-entropy on which of two architectures is better, as PINAT trains with) plus the
        mean squared error on z-scored targets, which keeps predictions on the targets' scale.
    n_ensemble : int, default 1
    epochs : int, default 200
    batch_size : int, default 16
    lr : float, default 1e-3; AdamW-style decay as the GCN (L2 added to the gradient), cosine
        annealed per epoch to 0
    weight_decay : float, default 1e-4
    early_stopping, validation_fraction, patience : as :class:`GCNPredictor`
    random_state : int, optional
    zc : tuple of str or comma-separated str, default ()
        Zero-cost scores joining the pooled readout before the head, as :class:`GCNPredictor`.
    inference_precision : "float32", "tf32" or "bfloat16", default "float32"
        As :class:`GCNPredictor`: the arithmetic of ``predict`` (training is always float32);
        "bfloat16" computes the blocks' matmuls in bfloat16 and keeps layer-norm statistics,
        softmax, residual stream, readout and head in float32 (:class:`GraphTransformer`).
    inference_batch_size, inference_workers : int, optional
        As :class:`GCNPredictor`: the most architectures scored in one compiled call (None: 256
        on a CPU, 1024 on a GPU) and the calls in flight at once (None: 2 on a CPU with 2 or
        more cores, 1 on a GPU).

    Notes
    -----
    Isomorphic relabellings of a cell are not used as augmentation: reachability masks, node
    features and the mean readout carry no node order, so every relabelling of a cell gives the
    same prediction already (a test checks it).
    """

    name = "transformer"
    graph_input = True
    # files written before graph_ffn existed hold transformers without it
    _earlier_defaults = {"graph_ffn": False}

    def __init__(
        self,
        space: Any = None,
        n_layers: int = 3,
        d_model: int = 64,
        n_heads: int = 4,
        ffn: int = 128,
        dropout: float = 0.1,
        bounds: tuple[float, float] | None = None,
        loss: str = "rank",
        n_ensemble: int = 1,
        epochs: int = 200,
        batch_size: int = 16,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 30,
        random_state: int | None = None,
        zc: str | Sequence[str] = (),
        inference_precision: str = "float32",
        inference_batch_size: int | None = None,
        inference_workers: int | None = None,
        graph_ffn: bool = True,
    ) -> None:
        self.space = space
        self.n_layers = n_layers
        self.d_model = d_model
        self.n_heads = n_heads
        self.ffn = ffn
        self.dropout = dropout
        self.bounds = bounds
        self.loss = loss
        self.n_ensemble = n_ensemble
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.zc = zc
        self.inference_precision = inference_precision
        self.inference_batch_size = inference_batch_size
        self.inference_workers = inference_workers
        self.graph_ffn = graph_ffn

    def _setting(self, name: str) -> Any:
        return getattr(self, name)

    def _validate(self) -> None:
        NeuralPredictor._validate(self)
        for p in ("n_layers", "d_model", "n_heads", "ffn"):
            _positive_int(self, p)
        if self.d_model % self.n_heads:
            raise InvalidValueError(
                f"The 'd_model' parameter of {type(self).__name__} must be a multiple of n_heads={self.n_heads}. "
                f"Got {self.d_model} instead."
            )
        _float_in(self, "dropout", 0.0, 1.0, hi_open=True)
        if not isinstance(self.graph_ffn, (bool, np.bool_)):
            raise InvalidTypeError(
                f"The 'graph_ffn' parameter of {type(self).__name__} must be a bool. Got {self.graph_ffn!r} instead."
            )
        if self.loss not in ("mse", "mae", "rank"):
            raise InvalidValueError(
                f"The 'loss' parameter of {type(self).__name__} must be 'mse', 'mae' or 'rank'. "
                f"Got {self.loss!r} instead."
            )
        self._validate_bounds()
        _validate_inference(self)

    def _module(self, arrays: tuple[np.ndarray, ...], bounded: bool | None = None) -> nn.Module:
        del arrays  # the embedding is a Dense layer: one-hot or not, the same module
        return GraphTransformer(
            n_layers=int(self.n_layers),
            d_model=int(self.d_model),
            n_heads=int(self.n_heads),
            ffn=int(self.ffn),
            dropout=float(self.dropout),
            bounded=self.bounds is not None if bounded is None else bounded,
            graph_ffn=bool(self.graph_ffn),
        )

    def _check_encoded(self, x: Any) -> tuple[np.ndarray, ...]:
        return NeuralPredictor._check_encoded(self, x)
