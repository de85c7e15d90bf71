"""Train groups of architectures at once: one compiled program per (space, network, dataset
shape, group size), architectures as data, vmapped over the group."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._batch import take
from .._validation import check_non_negative, check_positive_int
from ..errors import InvalidValueError, TrainMemoryError
from ..spaces import get_space
from ._data import ImageDataset, load_dataset

__all__ = ["Trainer", "TrainResult", "TrainMemoryError", "available_memory", "TRAINABLE_SPACES"]

# the spaces whose networks the trainer builds (NB101 and DARTS networks exist for the proxies,
# which run one minibatch; their training programs are not built)
TRAINABLE_SPACES = ("nb201",)

log = logging.getLogger(__name__)

OPTIMIZERS = ("sgd", "adam")


def available_memory() -> int:
    """Bytes of memory available to this process (``MemAvailable``; physical memory otherwise)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 1 << 34


@dataclass
class TrainResult:
    """What training measured, one row per finished architecture (in the order given).

    batch : the space's batch of the finished architectures
    train_loss, train_accuracy : arrays of shape (n_archs, epochs); the mean over each epoch's
        minibatches in train mode (accuracy in percent)
    val_loss, val_accuracy : arrays of shape (n_archs, epochs); the validation split after each
        epoch, eval-mode batch norm (percent)
    test_loss, test_accuracy : arrays of shape (n_archs,); the test split after the last epoch
    train_seconds : array of shape (n_archs,); the group's training wall time (compile excluded)
        divided by the number of architectures it trained
    diverged : array of shape (n_archs,), bool; a training loss went NaN or infinite
    compile_seconds : float; compiling the group program (once per Trainer and shape)
    interrupted : bool; training stopped early (Ctrl-C); the rows are the architectures finished
        before that
    config : dict; the trainer's parameters and the dataset's description
    """

    batch: Any
    train_loss: np.ndarray
    train_accuracy: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    train_seconds: np.ndarray
    diverged: np.ndarray
    compile_seconds: float
    interrupted: bool
    config: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(len(self.test_accuracy))

    @property
    def final_val_accuracy(self) -> np.ndarray:
        """Validation accuracy after the last epoch, shape (n_archs,)."""
        return self.val_accuracy[:, -1]

    def curves(self) -> dict[str, np.ndarray]:
        """The per-epoch curves under the learning-curve predictors' names (``train_loss``,
        ``train_acc``, ``val_loss``, ``val_acc``; arrays (n_archs, epochs)):
        ``pyengine.predictors.partial_curves(result.curves(), fidelity)`` feeds them to SoTL (on
        real training losses), LCE, LcSVR, OMNI and the others."""
        return {
            "train_loss": self.train_loss.copy(),
            "train_acc": self.train_accuracy.copy(),
            "val_loss": self.val_loss.copy(),
            "val_acc": self.val_accuracy.copy(),
        }

    def to_table(self, space: Any = "nb201", name: str = "trained") -> Any:
        """The results as a :class:`pyengine.tables.Table`: columns ``val_accuracy`` (after the
        last epoch, the default metric), ``test_accuracy``, ``test_loss`` and
        ``train_seconds_E`` (the trainer's clock for all E epochs, which the evaluator reads for
        its initialization and fidelity costs), plus the :meth:`curves`."""
        from ..tables import Table

        sp = get_space(space) if isinstance(space, str) else space
        epochs = self.val_accuracy.shape[1]
        columns = {
            "val_accuracy": self.final_val_accuracy,
            "test_accuracy": self.test_accuracy,
            "test_loss": self.test_loss,
            f"train_seconds_{epochs}": self.train_seconds,
        }
        return Table(
            sp,
            self.batch,
            columns,
            name=name,
            default_metric="val_accuracy",
            test_metric="test_accuracy",
            curves=self.curves(),
        )

    def subset(self, rows: Any) -> TrainResult:
        """The result of the architectures at ``rows`` only."""
        from dataclasses import replace

        rows = np.asarray(rows, dtype=np.int64)
        per_arch = (
            "train_loss train_accuracy val_loss val_accuracy test_loss test_accuracy train_seconds diverged"
        ).split()
        return replace(self, batch=take(self.batch, rows), **{k: getattr(self, k)[rows] for k in per_arch})

    def records(self, space: Any = "nb201") -> list[dict[str, Any]]:
        """One JSON-ready dict per architecture: ``arch`` (the space's string), the curves, the
        final validation and test accuracy and the training seconds."""
        sp = get_space(space) if isinstance(space, str) else space
        names = sp.to_strings(self.batch)
        out = []
        for i, arch in enumerate(names):
            out.append(
                {
                    "arch": arch,
                    "val_accuracy": float(self.val_accuracy[i, -1]),
                    "test_accuracy": float(self.test_accuracy[i]),
                    "test_loss": float(self.test_loss[i]),
                    "train_seconds": float(self.train_seconds[i]),
                    "diverged": bool(self.diverged[i]),
                    "curves": {
                        "train_loss": self.train_loss[i].tolist(),
                        "train_accuracy": self.train_accuracy[i].tolist(),
                        "val_loss": self.val_loss[i].tolist(),
                        "val_accuracy": self.val_accuracy[i].tolist(),
                    },
                }
            )
        return out


class Trainer:
    """Train many architectures of a cell space at once on an image dataset.

    Every architecture of a group runs through one compiled program (the cell enters as data,
    see :class:`pyengine.nets.NB201Net`), vmapped over the group; a group's architectures see the
    same initial weights (from ``seed``) and the same minibatch order, so an architecture's result
    does not depend on which group it lands in.

    Parameters
    ----------
    space : str
        The cell space ("nb201").
    channels, cells_per_stage : int
        The network skeleton: ``channels`` in the first stage (2x, 4x in the next two) and cells
        per stage. The default (8, 1) suits 8x8 inputs; the benchmark's network is (16, 5).
    epochs, batch_size : int
    optimizer : {"sgd", "adam"}
        SGD with Nesterov momentum (NAS-Bench-201's recipe) or Adam; cosine learning-rate decay
        to zero over the run, weight decay added to the gradient (coupled, as PyTorch's SGD does).
    learning_rate, momentum, weight_decay : float
    group_size : int, optional
        Architectures trained at once. Default: 1 on CPU (XLA's CPU backend runs one network at
        a time with its native convolution faster than a vmapped group; see ``pyengine bench
        train``) and 32 on accelerators.
    weight_init : {"pytorch", "flax"}
    seed : int
        Initial weights and minibatch order.
    progress : bool
        Show a progress bar.
    """

    def __init__(
        self,
        space: str = "nb201",
        *,
        channels: int = 8,
        cells_per_stage: int = 1,
        epochs: int = 12,
        batch_size: int = 64,
        optimizer: str = "sgd",
        learning_rate: float = 0.1,
        momentum: float = 0.9,
        weight_decay: float = 5e-4,
        group_size: int | None = None,
        weight_init: str = "pytorch",
        seed: int = 0,
        progress: bool = False,
    ) -> None:
        self.space = space
        self.channels = channels
        self.cells_per_stage = cells_per_stage
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.group_size = group_size
        self.weight_init = weight_init
        self.seed = seed
        self.progress = progress
        self._compiled: dict[Any, Any] = {}

    def get_params(self) -> dict[str, Any]:
        keys = (
            "space channels cells_per_stage epochs batch_size optimizer learning_rate momentum weight_decay "
            "group_size weight_init seed"
        ).split()
        return {k: getattr(self, k) for k in keys}

    def _validate(self) -> None:
        from ..nets import INITS

        owner = "Trainer"
        for name in ("channels", "cells_per_stage", "epochs", "batch_size"):
            setattr(self, name, check_positive_int(getattr(self, name), name, owner))
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise InvalidValueError(
                f"The 'seed' parameter of Trainer must be a non-negative int. Got {self.seed!r} instead."
            )
        for name in ("learning_rate", "momentum", "weight_decay"):
            check_non_negative(getattr(self, name), name, owner)
        if self.learning_rate <= 0:
            raise InvalidValueError(
                f"The 'learning_rate' parameter of Trainer must be positive. Got {self.learning_rate!r}."
            )
        if self.optimizer not in OPTIMIZERS:
            raise InvalidValueError(
                f"The 'optimizer' parameter of Trainer must be one of {OPTIMIZERS}. Got {self.optimizer!r}."
            )
        if self.weight_init not in INITS:
            raise InvalidValueError(
                f"The 'weight_init' parameter of Trainer must be one of {INITS}. Got {self.weight_init!r}."
            )
        space = get_space(self.space).name if isinstance(self.space, str) else getattr(self.space, "name", None)
        if space not in TRAINABLE_SPACES:
            raise InvalidValueError(
                f"The trainer trains architectures of the spaces {list(TRAINABLE_SPACES)}; not {space!r}. "
                "Train its architectures through your own function with pyengine.search.FunctionObjective."
            )

    def _group_size(self) -> int:
        if self.group_size is None:
            import jax

            return 1 if jax.default_backend() == "cpu" else 32
        return check_positive_int(self.group_size, "group_size", "Trainer")

    # -- the compiled program ---------------------------------------------------------------
    def _network(self, n_classes: int, group: int) -> Any:
        from ..nets import NB201Net

        return NB201Net(
            channels=self.channels,
            cells_per_stage=self.cells_per_stage,
            n_classes=n_classes,
            weight_init=self.weight_init,
            native_conv=group == 1,
        )

    def _build(self, data: ImageDataset, group: int, steps: int) -> dict[str, Any]:
        import jax
        import jax.numpy as jnp
        import optax

        from ..nets import init_variables

        model = self._network(data.n_classes, group)
        b = self.batch_size
        schedule = optax.cosine_decay_schedule(self.learning_rate, max(self.epochs * steps, 1))
        if self.optimizer == "sgd":
            opt = optax.sgd(schedule, momentum=self.momentum or None, nesterov=self.momentum > 0)
        else:
            opt = optax.adam(schedule)
        tx = optax.chain(optax.add_decayed_weights(self.weight_decay), opt)
        x0 = jax.ShapeDtypeStruct((2, *data.image_shape), jnp.float32)
        onehot0 = jax.ShapeDtypeStruct((6, 5), jnp.float32)
        shapes = jax.eval_shape(
            lambda k, x, o: model.init(k, x, o, train=False), jax.random.key(self.seed), x0, onehot0
        )
        self._check_memory(model, shapes, data, group)
        variables = init_variables(model, jax.random.key(self.seed), x0, onehot0, train=False)
        params0, stats0 = variables["params"], variables["batch_stats"]
        opt0 = tx.init(params0)

        def loss_fn(params: Any, stats: Any, onehot: Any, xb: Any, yb: Any) -> Any:
            logits, upd = model.apply(
                {"params": params, "batch_stats": stats}, xb, onehot, train=True, mutable=["batch_stats"]
            )
            loss = optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()
            return loss, (upd["batch_stats"], logits)

        def arch_step(params: Any, stats: Any, opt_state: Any, onehot: Any, xb: Any, yb: Any) -> Any:
            (loss, (stats, logits)), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, stats, onehot, xb, yb)
            updates, opt_state = tx.update(grads, opt_state, params)
            params = optax.apply_updates(params, updates)
            correct = (logits.argmax(-1) == yb).sum()
            return params, stats, opt_state, loss, correct

        group_step = _over_group(arch_step, (0, 0, 0, 0, None, None), group)

        def step(state: Any, onehots: Any, x: Any, y: Any, i: Any) -> Any:
            params, stats, opt_state = state
            params, stats, opt_state, loss, correct = group_step(params, stats, opt_state, onehots, x[i], y[i])
            return (params, stats, opt_state), loss, correct

        def arch_eval(params: Any, stats: Any, onehot: Any, x: Any, y: Any, mask: Any) -> Any:
            def body(carry: Any, inp: Any) -> Any:
                xb, yb, mb = inp
                logits = model.apply({"params": params, "batch_stats": stats}, xb, onehot, train=False)
                loss = optax.softmax_cross_entropy_with_integer_labels(logits, yb)
                return carry, ((loss * mb).sum(), ((logits.argmax(-1) == yb) * mb).sum())

            if x.shape[0] == 1:  # one chunk: no loop (XLA's CPU convolutions are slow inside loops)
                _, (loss, correct) = body(None, (x[0], y[0], mask[0]))
            else:
                _, (loss, correct) = jax.lax.scan(body, None, (x, y, mask))
            n = mask.sum()
            return loss.sum() / n, correct.sum() / n * 100.0

        evaluate = _over_group(arch_eval, (0, 0, 0, None, None, None), group)

        def stack(tree: Any) -> Any:
            return jax.tree.map(lambda a: jnp.broadcast_to(a, (group, *a.shape)), tree)

        state0 = (stack(params0), stack(stats0), stack(opt0))
        return {
            "model": model,
            "state0": state0,
            "step": jax.jit(step, donate_argnums=0),
            "evaluate": jax.jit(evaluate),
            "steps": steps,
            "batch": b,
        }

    def _check_memory(self, model: Any, shapes: Any, data: ImageDataset, group: int) -> None:
        """Estimate the group program's memory from the residuals one training step keeps for the
        backward pass, plus parameters, gradients and optimiser state; refuse before training."""
        import jax
        import jax.numpy as jnp

        xb = jax.ShapeDtypeStruct((self.batch_size, *data.image_shape), jnp.float32)
        oh = jax.ShapeDtypeStruct((6, 5), jnp.float32)

        def loss(params: Any, stats: Any, onehot: Any, x: Any) -> Any:
            logits, _ = model.apply({"params": params, "batch_stats": stats}, x, onehot, True, mutable=["batch_stats"])
            return logits.sum()

        def residuals(params: Any, stats: Any, onehot: Any, x: Any) -> Any:
            return jax.vjp(lambda p: loss(p, stats, onehot, x), params)[1]

        res = jax.eval_shape(residuals, shapes["params"], shapes["batch_stats"], oh, xb)
        per_arch = sum(int(np.prod(a.shape)) * a.dtype.itemsize for a in jax.tree.leaves(res))
        n_params = sum(int(np.prod(a.shape)) for a in jax.tree.leaves(shapes["params"]))
        per_arch += 5 * 4 * n_params
        data_bytes = sum(a.nbytes for a in (data.x_train, data.x_val, data.x_test))
        need = group * per_arch + data_bytes
        have = available_memory()
        if need > 0.8 * have:
            raise TrainMemoryError(
                f"A group of {group} architectures needs about {need / 2**30:.1f} GiB "
                f"({per_arch / 2**20:.1f} MiB each) but {have / 2**30:.1f} GiB are available. "
                f"Lower the 'group_size' parameter of Trainer (at most about {max(int(0.8 * have // per_arch), 1)})."
            )

    # -- training -------------------------------------------------------------------------------
    def train(self, batch: Any, dataset: Any = "digits") -> TrainResult:
        """Train every architecture of ``batch`` (a batch of the space, or a list of its strings).

        Parameters
        ----------
        batch : the space's batch, shape (n_archs, ...)
        dataset : "digits", a ``.npz`` path or an :class:`ImageDataset`

        Returns
        -------
        TrainResult
            Ctrl-C stops training after the architectures of the finished groups: those are
            returned with ``interrupted=True``.
        """
        import jax
        import jax.numpy as jnp

        from ..nets import nb201_onehot

        self._validate()
        sp = get_space(self.space) if isinstance(self.space, str) else self.space
        if isinstance(batch, (list, tuple)) and batch and isinstance(batch[0], str):
            batch = sp.from_strings(list(batch))
        batch = sp.check(batch)
        n = len(batch.ops)
        data = load_dataset(dataset)
        n_train = len(data.y_train)
        if n_train < self.batch_size:
            raise InvalidValueError(
                f"The 'batch_size' parameter of Trainer ({self.batch_size}) exceeds the {n_train} training images."
            )
        group = min(self._group_size(), n)
        steps = n_train // self.batch_size
        key = (group, steps, data.image_shape, data.n_classes)
        if key not in self._compiled:
            prog = self._build(data, group, steps)
            self._compiled = {key: prog}
        prog = self._compiled[key]

        onehots = nb201_onehot(batch.ops)
        rng = np.random.default_rng(self.seed)
        idx = np.stack([rng.permutation(n_train)[: steps * self.batch_size] for _ in range(self.epochs)])
        idx = idx.reshape(self.epochs, steps, self.batch_size).astype(np.int32)
        x_tr, y_tr = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
        idx_dev = [[jnp.asarray(i) for i in epoch] for epoch in idx]
        chunk = min(_EVAL_CHUNK, max(len(data.y_val), len(data.y_test)))
        evals = {
            name: _eval_chunks(getattr(data, f"x_{name}"), getattr(data, f"y_{name}"), chunk)
            for name in ("val", "test")
        }

        if "compile_seconds" not in prog:
            t = time.perf_counter()
            oh0 = jnp.asarray(onehots[np.zeros(group, np.int64)])
            prog["step"] = prog["step"].lower(prog["state0"], oh0, x_tr, y_tr, jnp.asarray(idx[0, 0])).compile()
            compiled: dict[Any, Any] = {}
            for _name, chunks in evals.items():
                shape = chunks[0].shape
                if shape not in compiled:
                    compiled[shape] = (
                        prog["evaluate"].lower(prog["state0"][0], prog["state0"][1], oh0, *chunks).compile()
                    )
                prog.setdefault("eval_by_shape", {})[shape] = compiled[shape]
            prog["evaluate"] = {name: prog["eval_by_shape"][chunks[0].shape] for name, chunks in evals.items()}
            prog["compile_seconds"] = time.perf_counter() - t

        out: dict[str, list] = {k: [] for k in ("tl", "ta", "vl", "va", "el", "ea", "sec")}
        interrupted = False
        done = 0
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=n, unit="arch", desc="train", leave=False)
        try:
            for start in range(0, n, group):
                rows = np.arange(start, min(start + group, n))
                padded = np.concatenate([rows, np.full(group - len(rows), rows[-1])])
                oh = jnp.asarray(onehots[padded])
                state = jax.tree.map(jnp.copy, prog["state0"])
                curves = np.zeros((4, self.epochs, group), np.float64)
                t0 = time.perf_counter()
                for e in range(self.epochs):
                    losses, correct = [], []
                    for i in idx_dev[e]:
                        state, loss, right = prog["step"](state, oh, x_tr, y_tr, i)
                        losses.append(loss)
                        correct.append(right)
                    vl, va = prog["evaluate"]["val"](state[0], state[1], oh, *evals["val"])
                    loss, right, vl, va = jax.device_get((jnp.stack(losses), jnp.stack(correct), vl, va))
                    curves[:, e] = loss.mean(0), right.sum(0) / idx[e].size * 100.0, vl, va
                    if bar is not None:
                        bar.set_postfix_str(f"epoch {e + 1}/{self.epochs}")
                tl, te = jax.device_get(prog["evaluate"]["test"](state[0], state[1], oh, *evals["test"]))
                wall = time.perf_counter() - t0
                k = len(rows)
                out["tl"].append(curves[0, :, :k].T)
                out["ta"].append(curves[1, :, :k].T)
                out["vl"].append(curves[2, :, :k].T)
                out["va"].append(curves[3, :, :k].T)
                out["el"].append(np.asarray(tl)[:k])
                out["ea"].append(np.asarray(te)[:k])
                out["sec"].append(np.full(k, wall / k))
                done += k
                if bar is not None:
                    bar.update(k)
        except KeyboardInterrupt:
            interrupted = True
            log.warning("Training interrupted: keeping the %d of %d architectures already trained.", done, n)
        finally:
            if bar is not None:
                bar.close()
        return self._result(sp, batch, done, out, prog["compile_seconds"], interrupted, data)

    def _result(
        self, sp: Any, batch: Any, done: int, out: dict[str, list], compile_seconds: float, interrupted: bool, data: Any
    ) -> TrainResult:
        e = self.epochs

        def cat(k: str, shape: tuple[int, ...]) -> np.ndarray:
            return np.concatenate(out[k]) if out[k] else np.zeros(shape)

        train_loss = cat("tl", (0, e))
        diverged = ~np.isfinite(train_loss).all(axis=1) if done else np.zeros(0, bool)
        if diverged.any():
            log.warning("%d architectures diverged (a training loss went NaN or infinite).", int(diverged.sum()))
        config = {**self.get_params(), "dataset": repr(data), "n_classes": data.n_classes}
        config["space"] = sp.name
        return TrainResult(
            batch=take(batch, np.arange(done)) if done else None,
            train_loss=train_loss,
            train_accuracy=cat("ta", (0, e)),
            val_loss=cat("vl", (0, e)),
            val_accuracy=cat("va", (0, e)),
            test_loss=cat("el", (0,)),
            test_accuracy=cat("ea", (0,)),
            train_seconds=cat("sec", (0,)),
            diverged=diverged,
            compile_seconds=float(compile_seconds or 0.0),
            interrupted=interrupted,
            config=config,
        )


def _over_group(fn: Any, in_axes: tuple[Any, ...], group: int) -> Any:
    """``fn`` mapped over a group of architectures: vmapped, or, for a group of one, called on
    the single architecture (no batch dimension, so XLA can use its native convolution)."""
    import jax

    if group > 1:
        return jax.vmap(fn, in_axes=in_axes)

    def single(*args: Any) -> Any:
        args = [a if ax is None else jax.tree.map(lambda v: v[0], a) for a, ax in zip(args, in_axes, strict=False)]
        return jax.tree.map(lambda v: v[None], fn(*args))

    return single


_EVAL_CHUNK = 1024


def _eval_chunks(x: np.ndarray, y: np.ndarray, chunk: int) -> tuple[Any, Any, Any]:
    """Split an evaluation set into chunks of ``chunk`` images (padded, with a mask)."""
    import jax.numpy as jnp

    n = len(y)
    m = -(-n // chunk)
    pad = m * chunk - n
    xs = np.concatenate([x, np.zeros((pad, *x.shape[1:]), x.dtype)]).reshape(m, chunk, *x.shape[1:])
    ys = np.concatenate([y, np.zeros(pad, y.dtype)]).reshape(m, chunk)
    mask = np.concatenate([np.ones(n, np.float32), np.zeros(pad, np.float32)]).reshape(m, chunk)
    return jnp.asarray(xs), jnp.asarray(ys), jnp.asarray(mask)
