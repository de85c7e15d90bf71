"""NASLib's predictor interface over every registered predictor.

:class:`NASLibPredictor` wraps a predictor of ``pyengine.predictors.PREDICTORS`` (by name or as an
instance) behind the methods NASLib's ``PredictorEvaluator`` and its search optimizers call:
``set_ss_type``, ``pre_process``, ``get_data_reqs``, ``pre_compute``, ``reset_hyperparams``,
``fit(xtrain, ytrain, train_info)``, ``get_hyperparams`` and ``query(xtest, info)``.
Architectures come as NASLib writes them (NB101 56-tuples or ``(matrix, ops)`` specs, NB201
6-tuples, NB301 compact tuples, their string forms, or NASLib graph objects), as arch strings,
record dicts or batches of the space; learning curves come as NASLib's per-architecture info
dicts (``{"lc": [...]}`` or ``{"VAL_ACCURACY_lc": [...], ...}``). NASLib itself is optional.
"""

from ._adapter import NASLibPredictor

__all__ = ["NASLibPredictor"]
