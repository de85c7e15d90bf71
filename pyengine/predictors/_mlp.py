"""Multilayer perceptrons on vector encodings: the BANANAS ensemble (path encoding) and a single
MLP on any encoding, trained by the shared ensemble program."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from flax import linen as nn

from ..errors import InvalidValueError
from . import _fitted_models  # noqa: F401  (registers the BayesianRidge codec DNGO's state needs)
from ._nn import NeuralPredictor, TrainConfig, _positive_int
from ._persist import register_module

__all__ = ["MLP", "MLPPredictor", "BananasPredictor"]

_LOSSES = ("mae", "mse")


@register_module
class MLP(nn.Module):
    """``n_layers`` Dense(width) + ReLU layers and a linear output; Xavier-uniform weights, zero
    biases. Input (B, d), output (B,)."""

    n_layers: int = 10
    width: int = 20

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        h = x.astype(jax.numpy.float32)
        init = nn.initializers.xavier_uniform()
        for _ in range(self.n_layers):
            h = jax.nn.relu(nn.Dense(self.width, kernel_init=init)(h))
        return nn.Dense(1, kernel_init=init)(h)[:, 0]


class MLPPredictor(NeuralPredictor):
    """An MLP (or an ensemble of ``n_ensemble`` MLPs) on any vector encoding.

    Parameters
    ----------
    space : str or SearchSpace, optional; needed when X holds architectures
    encoding : str, default "adjacency_one_hot"
    n_layers : int, default 10
    width : int, default 20
    loss : "mae" or "mse", default "mae"
    n_ensemble : int, default 1; 2 or more give ``predict(X, return_std=True)`` their spread
    epochs : int, default 150
    batch_size : int, default 32
    lr : float, default 0.01; Adam with betas (0.9, 0.99), constant rate
    weight_decay : float, default 0.0
    early_stopping, validation_fraction, patience : as in :class:`GCNPredictor`
    random_state : int, optional
    zc : tuple of str or comma-separated str, default ()
        Zero-cost scores (names of ``pyengine.proxies.PROXIES``) appended, signed-log
        transformed and z-scored, to the encoding; given as ``fit(X, y, zc={name: array})`` /
        ``predict(X, zc=...)`` or computed from the architectures
        (:mod:`pyengine.predictors._zc`).

    Notes
    -----
    Targets are z-scored for training (rankings do not depend on the units of ``y``).
    """

    name = "mlp"
    _default_encoding = "adjacency_one_hot"

    def __init__(
        self,
        space: Any = None,
        encoding: str = "adjacency_one_hot",
        n_layers: int = 10,
        width: int = 20,
        loss: str = "mae",
        n_ensemble: int = 1,
        epochs: int = 150,
        batch_size: int = 32,
        lr: float = 0.01,
        weight_decay: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 30,
        random_state: int | None = None,
        zc: str | Sequence[str] = (),
    ) -> None:
        self.space = space
        self.encoding = encoding
        self.n_layers = n_layers
        self.width = width
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

    def _validate(self) -> None:
        super()._validate()
        _positive_int(self, "n_layers", minimum=0)
        _positive_int(self, "width")
        if self.loss not in _LOSSES:
            raise InvalidValueError(
                f"The 'loss' parameter of {type(self).__name__} must be one of {_LOSSES}. Got {self.loss!r} instead."
            )
        from ..encodings import ENCODINGS

        name = ENCODINGS.canonical_name(self.encoding)
        if name == "gcn":
            raise InvalidValueError(
                f"The 'encoding' parameter of {type(self).__name__} must be a vector encoding, not 'gcn'."
            )

    def _module(self, arrays: tuple[np.ndarray, ...]) -> nn.Module:
        return MLP(n_layers=int(self.n_layers), width=int(self.width))

    def _config(self) -> TrainConfig:
        return TrainConfig(
            loss=self.loss,
            epochs=int(self.epochs),
            batch_size=int(self.batch_size),
            lr=float(self.lr),
            betas=(0.9, 0.99),
            weight_decay=float(self.weight_decay),
            schedule="constant",
            patience=int(self.patience) if self.early_stopping else 0,
        )


class BananasPredictor(MLPPredictor):
    """The BANANAS meta neural network (White et al.): an ensemble of 5 MLPs of 10 x 20 ReLU
    units on the path encoding, Adam(0.01, betas 0.9/0.99), batch 32, 150 epochs, MAE loss.
    ``predict(X, return_std=True)`` gives the ensemble mean and standard deviation that the
    BANANAS acquisition functions use. Parameters as :class:`MLPPredictor`."""

    name = "bananas"

    def __init__(
        self,
        space: Any = None,
        encoding: str = "path",
        n_layers: int = 10,
        width: int = 20,
        loss: str = "mae",
        n_ensemble: int = 5,
        epochs: int = 150,
        batch_size: int = 32,
        lr: float = 0.01,
        weight_decay: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 30,
        random_state: int | None = None,
        zc: str | Sequence[str] = (),
    ) -> None:
        super().__init__(
            space=space,
            encoding=encoding,
            n_layers=n_layers,
            width=width,
            loss=loss,
            n_ensemble=n_ensemble,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            patience=patience,
            random_state=random_state,
            zc=zc,
        )


class DNGOPredictor(MLPPredictor):
    """DNGO (Snoek et al. 2015): an MLP trained as :class:`MLPPredictor` (one member, one jit
    program), then Bayesian linear regression on its last hidden layer, with the noise and prior
    precisions set by maximising the marginal likelihood (scikit-learn's BayesianRidge).
    ``predict(X, return_std=True)`` returns the predictive mean and standard deviation.
    Parameters as :class:`MLPPredictor` (``n_ensemble`` is 1); default 3 layers of 50 units, as
    in the DNGO paper."""

    name = "dngo"
    has_uncertainty = True  # the Bayesian linear model's predictive std
    _fitted_attributes = ("params_", "blr_")

    def __init__(
        self,
        space: Any = None,
        encoding: str = "adjacency_one_hot",
        n_layers: int = 3,
        width: int = 50,
        loss: str = "mse",
        n_ensemble: int = 1,
        epochs: int = 150,
        batch_size: int = 32,
        lr: float = 0.01,
        weight_decay: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 30,
        random_state: int | None = None,
        zc: str | Sequence[str] = (),
    ) -> None:
        super().__init__(
            space=space,
            encoding=encoding,
            n_layers=n_layers,
            width=width,
            loss=loss,
            n_ensemble=n_ensemble,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            patience=patience,
            random_state=random_state,
            zc=zc,
        )

    def _validate(self) -> None:
        super()._validate()
        if self.n_ensemble != 1:
            raise InvalidValueError(f"The 'n_ensemble' parameter of DNGOPredictor must be 1. Got {self.n_ensemble!r}.")
        if int(self.n_layers) < 1:
            raise InvalidValueError(f"The 'n_layers' parameter of DNGOPredictor must be >= 1. Got {self.n_layers!r}.")

    def _basis(self, x: np.ndarray) -> np.ndarray:
        """The last hidden layer's activations, shape (n, width), float64."""
        p = self.params_
        h = np.asarray(x, np.float32)
        for i in range(int(self.n_layers)):
            d = p[f"Dense_{i}"]
            h = np.maximum(h @ np.asarray(d["kernel"])[0] + np.asarray(d["bias"])[0], 0.0)
        return h.astype(np.float64)

    def fit(self, X: Any, y: Any, zc: Any = None) -> DNGOPredictor:
        from sklearn.linear_model import BayesianRidge

        super().fit(X, y, zc=zc)
        arrays = self._with_zc(X, self._encode_host(X), zc, fit=False)
        target = self._targets(y, len(arrays[0]))
        self.blr_ = BayesianRidge(fit_intercept=True).fit(
            self._basis(arrays[0]), (target - self.y_mean_) / self.y_scale_
        )
        return self

    def predict(self, X: Any, return_std: bool = False, zc: Any = None) -> Any:
        self._check_fitted()
        arrays = self._host_inputs(X, zc)
        mean, std = self.blr_.predict(self._basis(arrays[0]), return_std=True)
        mean = mean * self.y_scale_ + self.y_mean_
        return (mean, std * self.y_scale_) if return_std else mean
