"""HypergradientCV: the objective that gives HypergradientSearch the hypergradient of tunelab's models.

For each fold of a cross-validation the model's training problem at its fitted weights
(`model.training_problem(y)`, tunelab.core.training) is made stationary (`polish`) and differentiated
implicitly in its L2 strength alpha (`implicit_hypergradient`, Pedregosa, "Hyperparameter optimization with
approximate gradient", ICML 2016); the polished weights go back into the model by `model.set_weights`.
Any estimator that offers these two methods can be searched this way (tunelab's LinearRegression,
LogisticRegression, MLPClassifier and MLPRegressor do).
"""

import time

import numpy as np

from tunelab.core.base import clone, is_classifier
from tunelab.core.metrics import check_scoring
from tunelab.core.model_selection import check_cv
from tunelab.core.training import offers_training_problem
from tunelab.searchers.gradient.implicit import implicit_hypergradient, polish
from tunelab.searchers.trial import set_cv_attrs

_OTHER_SEARCHERS = ("use RandomSearch, GridSearch or BayesSearch (tunelab.searchers) for such hyperparameters, "
                    "or fix them and tune only the L2 strength `alpha` by its gradient")


def check_differentiable(estimator, names):
    """Raise a ValueError unless `names` is ["alpha"] and `estimator` offers its training problem
    (offers_training_problem: LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor)."""
    if not offers_training_problem(estimator):
        raise ValueError(f"HypergradientSearch differentiates through the training loss of tunelab's LinearRegression, "
                         f"LogisticRegression, MLPClassifier and MLPRegressor; got {type(estimator).__name__}. "
                         f"For other estimators, use RandomSearch, GridSearch or BayesSearch.")
    other = [name for name in names if name != "alpha"]
    if other:
        raise ValueError(f"HypergradientSearch differentiates the validation loss in the L2 strength `alpha` only; "
                         f"{other} {'does' if len(other) == 1 else 'do'} not enter the fitted optimum smoothly "
                         f"(integers, choices, learning rates, epochs): {_OTHER_SEARCHERS}.")


class HypergradientCV:
    """objective(trial) for HypergradientSearch: the mean cross-validated score of `estimator` with
    trial.params["alpha"], keeping the mean validation loss as "hyperloss" and its derivative in alpha
    as "hypergradient" (the mean of the per-fold hypergradients, which are summed as in Pedregosa 2016).

    Each fold's model is fitted once by its own `fit`, then warm-started: the next trial sets the new alpha
    and continues from the last weights. Newton steps (L-BFGS for the MLP) then bring the weights to the
    optimum (max|gradient| <= gtol), where implicit differentiation holds; the hypergradient uses the
    kernel's exact Hessian-vector products (linear models) or finite differences of its gradient (MLP,
    which must then sit at a strict local minimum: a Hessian with negative curvature fails the trial).
    The validation loss is the model's own training loss without penalty: half the mean squared error,
    or the mean log-loss. The per-fold scores, fit and score times are kept as SearchCV reads them.
    """

    def __init__(self, estimator, X, y, cv=5, scoring=None, gtol=1e-9):
        check_differentiable(estimator, ["alpha"])
        self.estimator, self.gtol = estimator, gtol
        self.X = np.ascontiguousarray(X, dtype=np.float64)  # (n, d)
        self.y = np.asarray(y)
        self.splits = [(np.asarray(tr, dtype=np.int64), np.asarray(te, dtype=np.int64)) for tr, te in
                       check_cv(cv, self.y, classifier=is_classifier(estimator)).split(self.X, self.y)]
        self.scorer = check_scoring(estimator, scoring)
        self._models = [None] * len(self.splits)  # the warm-started model of each fold

    def _fold(self, k, alpha):
        """(score, validation loss, dE/d log alpha, fit seconds, score seconds) of fold k."""
        train, test = self.splits[k]
        start = time.perf_counter()
        model = self._models[k]
        if model is None:
            model = clone(self.estimator).set_params(alpha=alpha)
            model.fit(self.X[train], self.y[train])
            self._models[k] = model
        model.set_params(alpha=alpha)
        problem = model.training_problem(self.y)  # targets Y (n, k) of every row, for the kernel
        kernel, hvp, Y, spec = problem.kernel, problem.hvp, problem.Y, problem.spec
        theta = polish(kernel, hvp, problem.theta, self.X, Y, train, problem.alpha, spec, gtol=self.gtol)
        model.set_weights(theta)
        fit_time = time.perf_counter() - start
        E, dE, _ = implicit_hypergradient(kernel, hvp, theta, self.X, Y, train, test, problem.alpha, spec)
        start = time.perf_counter()
        score = float(self.scorer(model, self.X[test], self.y[test]))
        return score, E, dE, fit_time, time.perf_counter() - start

    def __call__(self, trial):
        check_differentiable(self.estimator, list(trial.params))
        alpha = float(trial.params["alpha"])
        if not alpha > 0:
            raise ValueError(f"`alpha` must be > 0 for a gradient in log(alpha); got {alpha!r}.")
        folds = [self._fold(k, alpha) for k in range(len(self.splits))]
        scores, E, dE, fit_times, score_times = (list(column) for column in zip(*folds))
        trial.set_attr("hyperloss", float(np.mean(E)))
        trial.set_attr("hypergradient", {"alpha": float(np.mean(dE)) / alpha})
        set_cv_attrs(trial, scores, fit_times, score_times)
        return float(np.mean(scores))
