"""The NB201 supernet: every edge holds all five ops, a training step trains the sub-networks of
sampled paths, and one-shot scores of any batch of architectures come from their sub-networks
with the inherited weights.

The supernet is :class:`pyengine.nets.NB201Net` with the cell given as data: each edge holds a
3x3 and a 1x1 convolution, each with its own batch-norm slot, and the parameter-free ops, so a
path (one op per edge) is a one-hot cell and one compiled program trains and scores every path.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import numpy as np

from .._compile_cache import ProgramCache
from .._io import atomic_write
from .._validation import check_non_negative, check_positive_int
from ..errors import SupernetDivergedError, SupernetError
from ..spaces import get_space
from ..train._data import ImageDataset, load_dataset
from ..train._trainer import _eval_chunks, _over_group

log = logging.getLogger(__name__)

STRATEGIES = ("uniform", "deiso", "fair")
SCORES = ("accuracy", "loss")
_N_OPS = 5
_N_EDGES = 6


# -- path sampling ------------------------------------------------------------------------------
def _classes() -> tuple[np.ndarray, np.ndarray]:
    """Every NB201 cell (as 0..15,624 indices) grouped by isomorphism class: (order, starts)
    where ``order[starts[c]:starts[c + 1]]`` are the cells of class ``c``."""
    from ..spaces._nb201 import _class_table

    rep, _ = _class_table()
    order = np.argsort(rep, kind="stable")
    starts = np.flatnonzero(np.r_[True, rep[order][1:] != rep[order][:-1], True])
    return order, starts


def sample_paths(strategy: str, n_steps: int, paths: int, rng: np.random.Generator) -> np.ndarray:
    """Ops of the paths trained by ``n_steps`` steps of ``paths`` paths each: int8 array of shape
    (n_steps, paths, 6) in ``pyengine.graph.nb201.OPS`` order.

    uniform : every labelling equally likely (classes with many isomorphic labellings come up
        more often: Ning et al.'s vanilla sampling)
    deiso : every isomorphism class equally likely (de-isomorphic sampling), then a labelling of
        the drawn class uniformly, so every edge's weights of a class are trained
    fair : strict fairness (FairNAS): consecutive groups of 5 paths (over steps and the paths of
        a step, in order) use each op exactly once on every edge
    """
    if strategy not in STRATEGIES:
        raise SupernetError(f"Unknown sampling strategy {strategy!r}; known: {', '.join(STRATEGIES)}.")
    total = n_steps * paths
    if strategy == "uniform":
        ops = rng.integers(0, _N_OPS, size=(total, _N_EDGES))
    elif strategy == "deiso":
        from ..graph import nb201 as g

        order, starts = _classes()
        cls = rng.integers(0, len(starts) - 1, size=total)
        size = starts[cls + 1] - starts[cls]
        member = starts[cls] + (rng.random(total) * size).astype(np.int64)
        ops = g.cells_from_index(order[member])
    else:
        groups = -(-total // _N_OPS)
        perm = np.argsort(rng.random((groups, _N_EDGES, _N_OPS)), axis=2)  # (groups, edges, 5)
        ops = perm.transpose(0, 2, 1).reshape(groups * _N_OPS, _N_EDGES)[:total]
    return np.asarray(ops, dtype=np.int8).reshape(n_steps, paths, _N_EDGES)


# -- compiled programs, kept per process (strategies and seeds share them) -----------------------
_TRAIN_STEPS = ProgramCache(8)
_SCORE_FNS = ProgramCache(8)


def _train_step(model: Any, tx: Any, paths: int) -> Any:
    """One jit-compiled step: the mean loss of ``paths`` sampled paths on a minibatch, each
    path's forward updating its own batch-norm slots in turn; SGD on the shared weights."""
    import jax
    import optax

    def loss_fn(params: Any, stats: Any, onehots: Any, xb: Any, yb: Any) -> Any:
        total = 0.0
        for p in range(paths):
            logits, upd = model.apply(
                {"params": params, "batch_stats": stats}, xb, onehots[p], train=True, mutable=["batch_stats"]
            )
            stats = upd["batch_stats"]
            total = total + optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()
        return total / paths, stats

    def step(state: Any, onehots: Any, x: Any, y: Any, i: Any, lr: Any) -> Any:
        params, stats, opt_state = state
        (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, stats, onehots, x[i], y[i])
        updates, opt_state = tx.update(grads, opt_state, params)
        updates = jax.tree.map(lambda u: -lr * u, updates)
        return (optax.apply_updates(params, updates), stats, opt_state), loss

    return jax.jit(step, donate_argnums=0)


# -- the supernet -------------------------------------------------------------------------------
class Supernet:
    """A weight-sharing supernet of NAS-Bench-201 trained by path sampling.

    Parameters
    ----------
    space : str
        "nb201" (the trainer's cell space).
    strategy : {"uniform", "deiso", "fair"}
        How training samples paths (see :func:`sample_paths`).
    paths_per_step : int
        Paths whose losses one step averages (1: single-path training; 5 with ``fair``: FairNAS's
        strict fairness, every op of every edge in each step).
    channels, cells_per_stage : int
        Skeleton, as :class:`pyengine.train.Trainer` (8, 1 suit digits' 8x8 images).
    epochs, batch_size, learning_rate, momentum, weight_decay : training; SGD with Nesterov
        momentum, cosine decay to zero, coupled weight decay (the trainer's recipe).
    bn_affine : bool
        Affine parameters in the cells' batch norms. Default False: Ning et al. find affine
        batch norm hurts supernet ranking.
    checkpoint_every : int
        Keep the weights every this many epochs (and after the last); the temporal ensemble
        and the ranking-vs-epochs curves read them.
    checkpoint_dir : str, optional
        Also write each checkpoint there as ``epoch_EEEE.npz`` (kept if training diverges).
    archs_per_call : int, optional
        Architectures scored per compiled call: 1 runs one sub-network at a time with XLA's
        native convolution (CPU default), more vmaps chunks (accelerator default 256).
    seed : int
        Initial weights, minibatch order and path sampling.
    progress : bool
    """

    def __init__(
        self,
        space: str = "nb201",
        *,
        strategy: str = "uniform",
        paths_per_step: int = 1,
        channels: int = 8,
        cells_per_stage: int = 1,
        epochs: int = 50,
        batch_size: int = 64,
        learning_rate: float = 0.05,
        momentum: float = 0.9,
        weight_decay: float = 5e-4,
        bn_affine: bool = False,
        checkpoint_every: int = 5,
        checkpoint_dir: str | None = None,
        archs_per_call: int | None = None,
        seed: int = 0,
        progress: bool = False,
    ) -> None:
        self.space = space
        self.strategy = strategy
        self.paths_per_step = paths_per_step
        self.channels = channels
        self.cells_per_stage = cells_per_stage
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.bn_affine = bn_affine
        self.checkpoint_every = checkpoint_every
        self.checkpoint_dir = checkpoint_dir
        self.archs_per_call = archs_per_call
        self.seed = seed
        self.progress = progress
        self.checkpoints_: dict[int, Any] = {}
        self.train_loss_: list[float] = []

    # -- settings ---------------------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        keys = (
            "space strategy paths_per_step channels cells_per_stage epochs batch_size learning_rate momentum "
            "weight_decay bn_affine checkpoint_every checkpoint_dir archs_per_call seed"
        ).split()
        return {k: getattr(self, k) for k in keys}

    def _validate(self) -> Any:
        owner = "Supernet"
        for name in ("paths_per_step", "channels", "cells_per_stage", "epochs", "batch_size", "checkpoint_every"):
            setattr(self, name, check_positive_int(getattr(self, name), name, owner))
        if self.archs_per_call is not None:
            check_positive_int(self.archs_per_call, "archs_per_call", owner)
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise SupernetError(f"The 'seed' parameter of Supernet must be a non-negative int. Got {self.seed!r}.")
        for name in ("learning_rate", "momentum", "weight_decay"):
            check_non_negative(getattr(self, name), name, owner)
        if self.learning_rate <= 0:
            raise SupernetError(
                f"The 'learning_rate' parameter of Supernet must be positive. Got {self.learning_rate}."
            )
        if self.strategy not in STRATEGIES:
            raise SupernetError(
                f"The 'strategy' parameter of Supernet must be one of {STRATEGIES}. Got {self.strategy!r}."
            )
        sp = get_space(self.space) if isinstance(self.space, str) else self.space
        if sp.name != "nb201":
            raise SupernetError(
                f"Supernets exist for the nb201 space only (the trainer's cell space); got {sp.name!r}."
            )
        return sp

    def _network(self, n_classes: int, native: bool) -> Any:
        from ..nets import NB201Net

        return NB201Net(
            channels=self.channels,
            cells_per_stage=self.cells_per_stage,
            n_classes=n_classes,
            cell_bn_affine=self.bn_affine,
            native_conv=native,
        )

    def _chunk(self) -> int:
        if self.archs_per_call is not None:
            return int(self.archs_per_call)
        import jax

        return 1 if jax.default_backend() == "cpu" else 256

    # -- training ---------------------------------------------------------------------------------
    def _net_key(self, n_classes: int) -> tuple:
        return (self.channels, self.cells_per_stage, n_classes, self.bn_affine)

    def _train_program(self, data: ImageDataset, steps: int) -> dict[str, Any]:
        import jax
        import jax.numpy as jnp
        import optax

        from ..nets import init_variables

        model = self._network(data.n_classes, native=True)
        total = max(self.epochs * steps, 1)
        # optax.sgd(lr * cosine, momentum, nesterov) with the learning rate left out of the
        # compiled program (an argument of the step), so every learning rate shares one compile
        parts = [optax.add_decayed_weights(self.weight_decay)]
        if self.momentum:
            parts.append(optax.trace(decay=self.momentum, nesterov=True))
        parts.append(optax.scale_by_schedule(optax.cosine_decay_schedule(1.0, total)))
        tx = optax.chain(*parts)
        x0 = jax.ShapeDtypeStruct((2, *data.image_shape), jnp.float32)
        oh0 = jax.ShapeDtypeStruct((_N_EDGES, _N_OPS), jnp.float32)
        variables = init_variables(model, jax.random.key(self.seed), x0, oh0, train=False)
        params, stats = variables["params"], variables["batch_stats"]
        key = (*self._net_key(data.n_classes), data.image_shape, self.paths_per_step, self.momentum,
               self.weight_decay, total)  # fmt: skip
        step = _TRAIN_STEPS.get(key, lambda: _train_step(model, tx, self.paths_per_step))
        return {"state0": (params, stats, tx.init(params)), "step": step}

    def train(self, dataset: Any = "digits") -> Supernet:
        """Train the supernet on ``dataset`` ("digits", a ``.npz`` path or an ImageDataset).

        Raises :class:`SupernetDivergedError` when a loss goes non-finite: training stops there and
        the checkpoints already taken are kept. Ctrl-C stops training after the current epoch and
        keeps the checkpoints too (``interrupted_`` is then True).
        """
        import jax
        import jax.numpy as jnp

        from ..nets import nb201_onehot

        self._validate()
        data = load_dataset(dataset)
        n_train = len(data.y_train)
        if n_train < self.batch_size:
            raise SupernetError(
                f"The 'batch_size' parameter of Supernet ({self.batch_size}) exceeds the {n_train} training images."
            )
        steps = n_train // self.batch_size
        prog = self._train_program(data, steps)
        rng = np.random.default_rng([self.seed, STRATEGIES.index(self.strategy)])
        order = np.random.default_rng(self.seed)
        ops = sample_paths(self.strategy, self.epochs * steps, self.paths_per_step, rng)
        onehots = nb201_onehot(ops).reshape(self.epochs, steps, self.paths_per_step, _N_EDGES, _N_OPS)
        x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
        self.checkpoints_, self.train_loss_ = {}, []
        self.n_classes_ = data.n_classes
        self.image_shape_ = data.image_shape
        self.dataset_ = data.name
        self.interrupted_ = False
        if self.checkpoint_dir is not None:
            os.makedirs(self.checkpoint_dir, exist_ok=True)
        state = prog["state0"]
        lr = jnp.float32(self.learning_rate)
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.epochs, unit="epoch", desc=f"supernet {self.strategy}", leave=False)
        t0 = time.perf_counter()
        try:
            for e in range(self.epochs):
                perm = order.permutation(n_train)[: steps * self.batch_size].reshape(steps, self.batch_size)
                losses = []
                for s in range(steps):
                    state, loss = prog["step"](state, jnp.asarray(onehots[e, s]), x, y, jnp.asarray(perm[s]), lr)
                    losses.append(loss)
                mean = float(np.mean(jax.device_get(jnp.stack(losses))))
                if not np.isfinite(mean):
                    kept = sorted(self.checkpoints_)
                    raise SupernetDivergedError(
                        f"Supernet training diverged: the mean training loss of epoch {e + 1} is {mean} "
                        f"(strategy {self.strategy}, learning rate {self.learning_rate}). Training stopped; "
                        f"the checkpoints of epochs {kept} are kept. Lower the learning rate.",
                        e + 1,
                        kept,
                    )
                self.train_loss_.append(mean)
                epoch = e + 1
                if epoch % self.checkpoint_every == 0 or epoch == self.epochs:
                    self._keep(epoch, state)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix_str(f"loss {mean:.3f}")
        except KeyboardInterrupt:
            self.interrupted_ = True
            log.warning(
                "Supernet training interrupted: keeping the checkpoints of epochs %s.", sorted(self.checkpoints_)
            )
        finally:
            if bar is not None:
                bar.close()
        self.train_seconds_ = time.perf_counter() - t0
        return self

    def _keep(self, epoch: int, state: Any) -> None:
        import jax

        params, stats = jax.device_get((state[0], state[1]))
        self.checkpoints_[epoch] = {"params": params, "batch_stats": stats}
        if self.checkpoint_dir is not None:
            flat = {
                jax.tree_util.keystr(path): np.asarray(leaf)
                for path, leaf in jax.tree_util.tree_leaves_with_path(self.checkpoints_[epoch])
            }
            with atomic_write(os.path.join(self.checkpoint_dir, f"epoch_{epoch:04d}.npz"), "wb") as fh:
                np.savez(fh, **flat)

    # -- one-shot scores --------------------------------------------------------------------------
    def _score_program(self, data: ImageDataset, chunk: int, recalibrate: int) -> Any:
        import jax
        import jax.numpy as jnp
        import optax

        model = self._network(data.n_classes, native=chunk == 1)
        momentum = 0.1  # SlotBatchNorm's

        def recalibrated(params: Any, stats: Any, onehot: Any, cx: Any) -> Any:
            """Batch-norm statistics of this sub-network alone: an exponential average over the
            calibration batches from reset statistics, bias-corrected (so it is the weighted
            mean of the batches' statistics, not pulled toward the reset values)."""

            def reset(path: Any, a: Any) -> Any:
                return jnp.ones_like(a) if jax.tree_util.keystr(path).endswith("'var']") else jnp.zeros_like(a)

            s = jax.tree_util.tree_map_with_path(reset, stats)

            def body(s: Any, xb: Any) -> Any:
                _, upd = model.apply(
                    {"params": params, "batch_stats": s}, xb, onehot, train=True, mutable=["batch_stats"]
                )
                return upd["batch_stats"], None

            s, _ = jax.lax.scan(body, s, cx)
            keep = (1.0 - momentum) ** recalibrate

            def debias(path: Any, a: Any) -> Any:
                if jax.tree_util.keystr(path).endswith("'var']"):
                    return (a - keep) / (1.0 - keep)
                return a / (1.0 - keep)

            return jax.tree_util.tree_map_with_path(debias, s)

        def arch_eval(params: Any, stats: Any, onehot: Any, x: Any, y: Any, mask: Any, cx: Any) -> Any:
            if recalibrate:
                stats = recalibrated(params, stats, onehot, cx)

            def body(carry: Any, inp: Any) -> Any:
                xb, yb, mb = inp
                logits = model.apply({"params": params, "batch_stats": stats}, xb, onehot, train=False)
                loss = optax.softmax_cross_entropy_with_integer_labels(logits, yb)
                return carry, ((loss * mb).sum(), ((logits.argmax(-1) == yb) * mb).sum())

            if x.shape[0] == 1:
                _, (loss, correct) = body(None, (x[0], y[0], mask[0]))
            else:
                _, (loss, correct) = jax.lax.scan(body, None, (x, y, mask))
            n = mask.sum()
            return loss.sum() / n, correct.sum() / n * 100.0

        return jax.jit(_over_group(arch_eval, (None, None, 0, None, None, None, None), chunk))

    def score(
        self,
        archs: Any,
        dataset: Any = "digits",
        *,
        epoch: int | None = None,
        temporal: int = 1,
        recalibrate: int = 0,
        split: str = "val",
    ) -> dict[str, np.ndarray]:
        """One-shot scores of ``archs`` (a batch of the space or its strings): the accuracy
        (percent) and mean cross-entropy of each sub-network with the inherited weights on the
        ``split`` ("val", "test" or "train") of ``dataset``.

        epoch : the checkpoint to score (default: the last)
        temporal : average the scores of this many checkpoints, ending at ``epoch`` (Ning et
            al.'s temporal ensemble; 1: that checkpoint alone)
        recalibrate : recompute each sub-network's batch-norm statistics on this many training
            minibatches before scoring (0: the supernet's running statistics)

        Returns {"accuracy": array (n,), "loss": array (n,)}.
        """
        import jax
        import jax.numpy as jnp

        from ..nets import nb201_onehot

        sp = self._validate()
        if not self.checkpoints_:
            raise SupernetError("This Supernet is not trained yet; call train(dataset) before score().")
        batch = sp.as_batch(archs)
        n = len(batch.ops)
        if n == 0:
            raise SupernetError("score() got no architectures.")
        epochs = sorted(self.checkpoints_)
        epoch = epochs[-1] if epoch is None else epoch
        if epoch not in self.checkpoints_:
            raise SupernetError(f"No checkpoint at epoch {epoch!r}; the supernet kept epochs {epochs}.")
        temporal = check_positive_int(temporal, "temporal", "Supernet.score")
        if isinstance(recalibrate, bool) or not isinstance(recalibrate, (int, np.integer)) or recalibrate < 0:
            raise SupernetError(f"The 'recalibrate' parameter must be a non-negative int. Got {recalibrate!r}.")
        use = [e for e in epochs if e <= epoch][-temporal:]
        data = load_dataset(dataset)
        if data.image_shape != tuple(self.image_shape_) or data.n_classes != self.n_classes_:
            raise SupernetError(
                f"The supernet was trained on images of shape {tuple(self.image_shape_)} with {self.n_classes_} "
                f"classes; the dataset has {data.image_shape} and {data.n_classes}."
            )
        if split not in ("val", "test", "train"):
            raise SupernetError(f"The 'split' parameter must be 'val', 'test' or 'train'. Got {split!r}.")
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        xs, ys, mask = _eval_chunks(x, y, min(1024, len(y)))
        if recalibrate:
            need = recalibrate * self.batch_size
            if need > len(data.y_train):
                raise SupernetError(
                    f"Recalibrating on {recalibrate} batches of {self.batch_size} needs {need} training images; "
                    f"the dataset has {len(data.y_train)}."
                )
            pick = np.random.default_rng(self.seed + 1).permutation(len(data.y_train))[:need]
            cx = jnp.asarray(data.x_train[pick].reshape(recalibrate, self.batch_size, *data.image_shape))
        else:
            cx = jnp.zeros((1, 1, *data.image_shape), jnp.float32)
        chunk = min(self._chunk(), n)
        key = (*self._net_key(data.n_classes), data.image_shape, chunk, recalibrate)
        fn = _SCORE_FNS.get(key, lambda: self._score_program(data, chunk, recalibrate))
        onehots = nb201_onehot(batch.ops)
        acc = np.zeros((len(use), n))
        loss = np.zeros((len(use), n))
        for j, e in enumerate(use):
            ck = self.checkpoints_[e]
            params, stats = jax.device_put((ck["params"], ck["batch_stats"]))
            out = []
            for start in range(0, n, chunk):
                rows = np.arange(start, min(start + chunk, n))
                padded = np.concatenate([rows, np.full(chunk - len(rows), rows[-1])])
                out.append((len(rows), fn(params, stats, jnp.asarray(onehots[padded]), xs, ys, mask, cx)))
            got = jax.device_get([o for _, o in out])
            loss[j] = np.concatenate([np.asarray(lv)[:k] for (k, _), (lv, _) in zip(out, got, strict=True)])
            acc[j] = np.concatenate([np.asarray(av)[:k] for (k, _), (_, av) in zip(out, got, strict=True)])
        return {"accuracy": acc.mean(0), "loss": loss.mean(0)}
