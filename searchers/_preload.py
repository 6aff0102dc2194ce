"""Imported by the fork server that starts tunelab's worker processes (tunelab.searchers.process_pool),
never by tunelab itself: the imports a worker needs, Numba's first load of a compiled function, and the
kernels of tunelab's models, done once in the server so that every worker forked from it starts with
them instead of loading them in its first trial. The server stops at an error of its own (its
preload imports are checked, its warm-up fits are not: a worker meets any such error in its trial).

The kernels are loaded by fitting each model with each optimizer for one epoch on 8 rows (0.2-0.3 s
on a 2-core Xeon with Numba's cache warm). On a machine's first run they compile here, once, rather
than in every worker at the same time. Nothing here starts a thread: forking the server stays safe.
"""

import warnings

import numpy as np

import tunelab.searchers.search_cv  # noqa: F401  (the objective of SearchCV)
from tunelab.core import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor
from tunelab.optimizers import GD, SGD, Adam, Momentum
from tunelab.searchers.process_pool import warm_numba


def warm_kernels():
    """Fit, predict with (and predict probabilities of) each model and optimizer once, on tiny data."""
    rng = np.random.default_rng(0)
    X = rng.random((8, 3))  # (8, 3)
    labels = np.arange(8) % 3  # three classes; labels % 2: two
    targets = {"regression": X[:, 0], "binary": labels % 2, "multiclass": labels}
    models = [(LinearRegression, {}, "regression"), (LogisticRegression, {}, "binary"),
              (LogisticRegression, {}, "multiclass"), (MLPRegressor, {"hidden_layer_sizes": (2,)}, "regression"),
              (MLPClassifier, {"hidden_layer_sizes": (2,)}, "binary"),
              (MLPClassifier, {"hidden_layer_sizes": (2,)}, "multiclass")]
    optimizers = [None, GD(), SGD(batch_size=1), SGD(batch_size=4), Momentum(batch_size=4), Adam(batch_size=4)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one epoch does not converge
        for cls, params, task in models:
            for optimizer in optimizers:
                kwargs = params if optimizer is None else {**params, "optimizer": optimizer}
                try:
                    model = cls(max_epochs=1, **kwargs).fit(X, targets[task])
                    model.predict(X)
                    if hasattr(model, "predict_proba"):
                        model.predict_proba(X)
                except Exception:  # only a head start: a worker meets the same error in its trial
                    continue


warm_numba()
warm_kernels()
