"""The one-shot estimator as a predictor of the common registry (``oneshot``): ``fit`` trains a
supernet, ``predict`` scores architectures by their sub-networks' one-shot accuracy or loss."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from ..errors import InvalidTypeError, InvalidValueError
from ..predictors._base import Predictor
from ._supernet import SCORES, Supernet, SupernetError

__all__ = ["OneShotPredictor"]


class OneShotPredictor(Predictor, BaseEstimator):
    """One-shot estimator (weight sharing): a supernet of the space trained by path sampling on
    an image dataset; an architecture's prediction is its sub-network's validation accuracy
    (or negated loss) with the inherited weights.

    The estimator learns from the images, not from the labels of the training architectures:
    ``fit(X, y)`` checks ``y`` (finite, one per architecture) so that it can stand wherever a
    predictor does, and trains the supernet. Predictions rank; they are not on the scale of
    ``y``.

    Parameters
    ----------
    space : str
        "nb201".
    strategy : {"uniform", "deiso", "fair"}
        Path sampling (see :func:`pyengine.oneshot.sample_paths`).
    epochs, paths_per_step, learning_rate, channels, cells_per_stage, checkpoint_every :
        Supernet training (see :class:`pyengine.oneshot.Supernet`).
    temporal : int
        Average the scores of this many last checkpoints (temporal ensemble); with 2 or more,
        ``predict(X, return_std=True)`` returns their standard deviation.
    recalibrate : int
        Batch-norm statistics recomputed per sub-network on this many training minibatches
        before scoring (0: the supernet's running statistics).
    score_by : {"accuracy", "loss"}
        The one-shot score: accuracy, or the negated cross-entropy (``score`` in files saved
        before the estimator's ``score`` became Kendall tau; they load with it renamed).
    dataset : str
        "digits" or a ``.npz`` path (see :func:`pyengine.train.load_dataset`).
    random_state : int, optional
        Supernet seed (0 when None).
    """

    name = "oneshot"
    _renamed_params = {"score": "score_by"}  # parameters of earlier versions, as saved files hold them
    arch_input = True  # takes architectures, not an encoding
    _fitted_attributes = ("checkpoints_",)
    learns_labels = False

    def __init__(
        self,
        space: Any = "nb201",
        strategy: str = "deiso",
        epochs: int = 30,
        paths_per_step: int = 1,
        learning_rate: float = 0.05,
        channels: int = 8,
        cells_per_stage: int = 1,
        checkpoint_every: int = 5,
        temporal: int = 1,
        recalibrate: int = 0,
        score_by: str = "accuracy",
        dataset: str = "digits",
        random_state: int | None = None,
    ) -> None:
        self.space = space
        self.strategy = strategy
        self.epochs = epochs
        self.paths_per_step = paths_per_step
        self.learning_rate = learning_rate
        self.channels = channels
        self.cells_per_stage = cells_per_stage
        self.checkpoint_every = checkpoint_every
        self.temporal = temporal
        self.recalibrate = recalibrate
        self.score_by = score_by
        self.dataset = dataset
        self.random_state = random_state

    @property
    def has_uncertainty(self) -> bool:
        return isinstance(self.temporal, int) and self.temporal > 1

    def _supernet(self) -> Supernet:
        return Supernet(
            self.space if isinstance(self.space, str) else self.space.name,
            strategy=self.strategy,
            paths_per_step=self.paths_per_step,
            channels=self.channels,
            cells_per_stage=self.cells_per_stage,
            epochs=self.epochs,
            learning_rate=self.learning_rate,
            checkpoint_every=self.checkpoint_every,
            seed=0 if self.random_state is None else int(self.random_state),
        )

    def _archs(self, X: Any, net: Supernet) -> Any:
        sp = net._validate()
        if isinstance(X, np.ndarray):
            raise InvalidTypeError(
                "OneShotPredictor scores architectures (a batch of the space or its strings), not encoded features."
            )
        return sp.as_batch(X)

    def fit(self, X: Any, y: Any = None) -> OneShotPredictor:
        """Train the supernet. ``X``: the training architectures (checked to be of the space);
        ``y``: their values (checked; the supernet does not read them)."""
        if self.score_by not in SCORES:
            raise SupernetError(
                f"The 'score_by' parameter of OneShotPredictor must be one of {SCORES}. Got {self.score_by!r}."
            )
        net = self._supernet()
        batch = self._archs(X, net)
        n = len(batch.ops)
        if y is not None:
            t = np.asarray(y, dtype=np.float64)
            if t.shape != (n,):
                raise InvalidValueError(f"'y' must have shape ({n},). Got {t.shape} instead.")
            if not np.isfinite(t).all():
                raise InvalidValueError(
                    f"'y' holds a non-finite value at position {int(np.flatnonzero(~np.isfinite(t))[0])}."
                )
        net.train(self.dataset)
        epochs = sorted(net.checkpoints_)
        self.checkpoint_epochs_ = np.asarray(epochs, np.int64)
        self.checkpoints_ = [net.checkpoints_[e] for e in epochs]
        self.image_shape_ = np.asarray(net.image_shape_, np.int64)
        self.n_classes_ = int(net.n_classes_)
        self.train_loss_ = np.asarray(net.train_loss_, np.float64)
        self._net = net
        return self

    def _fitted_net(self) -> Supernet:
        self._check_fitted()
        net = getattr(self, "_net", None)
        if net is None:  # loaded from a file
            net = self._supernet()
            net.checkpoints_ = dict(zip((int(e) for e in self.checkpoint_epochs_), self.checkpoints_, strict=True))
            net.image_shape_ = tuple(int(d) for d in self.image_shape_)
            net.n_classes_ = self.n_classes_
            self._net = net
        return net

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """One-shot scores of ``X`` (higher is better); with ``return_std`` (temporal >= 2) also
        the standard deviation of the scores over the averaged checkpoints."""
        net = self._fitted_net()
        batch = self._archs(X, net)
        if return_std and not self.has_uncertainty:
            raise InvalidValueError("OneShotPredictor has no uncertainty with temporal=1; set temporal >= 2.")
        epochs = [int(e) for e in self.checkpoint_epochs_][-int(self.temporal) :]
        per = []
        for e in epochs:
            s = net.score(batch, self.dataset, epoch=e, recalibrate=self.recalibrate)
            per.append(s["accuracy"] if self.score_by == "accuracy" else -s["loss"])
        per = np.asarray(per)
        if not np.isfinite(per).all():
            raise SupernetError("The supernet gave non-finite scores (a sub-network's loss overflowed).")
        if return_std:
            return per.mean(0), per.std(0)
        return per.mean(0)
