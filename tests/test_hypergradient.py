"""HypergradientSearch and implicit differentiation: the hypergradient against central finite differences
of the validation loss, convergence to the best alpha of a ridge problem (fine grid of exact solutions)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.core import _linear_kernels as lk
from tunelab.optimizers._checks import ConvergenceError
from tunelab.searchers.hypergradient import (
    HypergradientSearch, conjugate_gradient, finite_difference_hvp, implicit_hypergradient)
from tunelab.searchers.space import Categorical, Integer, Real
from tunelab.searchers.study import Study
from tunelab.searchers.trial import TrialState

NO_SPEC = np.zeros(0, dtype=np.int64)


def design(X):
    return np.hstack([X, np.ones((X.shape[0], 1))])  # (n, d + 1): theta = (w, b)


def ridge_solution(X, y, rows, alpha):
    """Exact minimiser of 1/(2m) |X w + b - y|^2 + alpha/2 |w|^2 over `rows` (normal equations)."""
    A = design(X[rows])
    m, p = A.shape
    D = np.eye(p)
    D[-1, -1] = 0.0  # the intercept is not penalised
    return np.linalg.solve(A.T @ A / m + alpha * D, A.T @ y[rows] / m)


def logistic_solution(X, y, rows, alpha, iters=60):
    """Newton's method with the Hessian formed in numpy (a reference independent of the kernels)."""
    A, t = design(X[rows]), y[rows]
    m, p = A.shape
    D = np.eye(p)
    D[-1, -1] = 0.0
    theta = np.zeros(p)
    for _ in range(iters):
        z = A @ theta
        prob = 0.5 * (1 + np.tanh(z / 2))
        g = A.T @ (prob - t) / m + alpha * D @ theta
        H = (A * (prob * (1 - prob))[:, None]).T @ A / m + alpha * D
        step = np.linalg.solve(H, g)
        theta -= step
        if np.max(np.abs(step)) < 1e-14:
            break
    return theta


def val_loss(kernel, theta, X, Y, rows):
    return kernel(theta, X, Y, rows, 0.0, NO_SPEC, np.empty_like(theta))


def problem(seed, n, d, classify):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = rng.normal(size=d)
    if classify:
        y = (X @ w + 0.8 * rng.normal(size=n) > 0).astype(np.float64)
        y[:2] = [0.0, 1.0]
    else:
        y = X @ w + rng.normal(size=n) * 1.5
    rows = rng.permutation(n)
    return X, y, rows[: 2 * n // 3].astype(np.int64), rows[2 * n // 3:].astype(np.int64)


# ---- conjugate gradients -------------------------------------------------------------------------

@given(p=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=25, deadline=None)
def test_conjugate_gradient_solves_positive_definite_systems(p, seed):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(p, p))
    H = M @ M.T + 0.1 * np.eye(p)
    b = rng.normal(size=p)
    x, n_iter = conjugate_gradient(lambda v: H @ v, b, rtol=1e-12)
    np.testing.assert_allclose(H @ x, b, atol=1e-8 * max(1.0, np.abs(b).max()) * np.linalg.cond(H))
    assert n_iter <= 2 * p + 10


def test_conjugate_gradient_refuses_negative_curvature():
    H = np.diag([1.0, -1.0])
    with pytest.raises(ConvergenceError, match="not positive definite"):
        conjugate_gradient(lambda v: H @ v, np.array([1.0, 1.0]))


# ---- the hypergradient against finite differences -----------------------------------------------

@given(n=st.integers(12, 60), d=st.integers(1, 6), log_alpha=st.floats(-6.0, 2.0), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=25, deadline=None)
def test_ridge_hypergradient_matches_central_finite_differences(n, d, log_alpha, seed):
    X, y, train, val = problem(seed, n, d, classify=False)
    Y = y.reshape(-1, 1)
    alpha = math.exp(log_alpha)
    theta = ridge_solution(X, y, train, alpha)
    E, dE, _ = implicit_hypergradient(lk.squared_loss_grad, lk.squared_hvp, theta, X, Y, train, val, alpha, NO_SPEC)
    assert E == pytest.approx(val_loss(lk.squared_loss_grad, theta, X, Y, val), rel=1e-12)
    h = 1e-4
    E_plus = val_loss(lk.squared_loss_grad, ridge_solution(X, y, train, alpha * math.exp(h)), X, Y, val)
    E_minus = val_loss(lk.squared_loss_grad, ridge_solution(X, y, train, alpha * math.exp(-h)), X, Y, val)
    fd = (E_plus - E_minus) / (2 * h)
    assert dE == pytest.approx(fd, rel=1e-5, abs=1e-8 * (1 + E))


@given(n=st.integers(20, 60), d=st.integers(1, 5), log_alpha=st.floats(-5.0, 1.0), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=20, deadline=None)
def test_logistic_hypergradient_matches_central_finite_differences(n, d, log_alpha, seed):
    X, y, train, val = problem(seed, n, d, classify=True)
    Y = y.reshape(-1, 1)
    alpha = math.exp(log_alpha)
    theta = logistic_solution(X, y, train, alpha)
    E, dE, _ = implicit_hypergradient(lk.logistic_loss_grad, lk.logistic_hvp, theta, X, Y, train, val, alpha, NO_SPEC)
    h = 1e-4
    E_plus = val_loss(lk.logistic_loss_grad, logistic_solution(X, y, train, alpha * math.exp(h)), X, Y, val)
    E_minus = val_loss(lk.logistic_loss_grad, logistic_solution(X, y, train, alpha * math.exp(-h)), X, Y, val)
    fd = (E_plus - E_minus) / (2 * h)
    assert dE == pytest.approx(fd, rel=1e-4, abs=1e-7 * (1 + E))
    # the same with Hessian-vector products by finite differences of the gradient
    _, dE_fd_hvp, _ = implicit_hypergradient(lk.logistic_loss_grad, None, theta, X, Y, train, val, alpha, NO_SPEC)
    assert dE_fd_hvp == pytest.approx(dE, rel=1e-5, abs=1e-9)


def test_finite_difference_hvp_matches_the_exact_kernel():
    X, y, train, _ = problem(0, 50, 4, classify=True)
    Y = y.reshape(-1, 1)
    theta = np.random.default_rng(1).normal(size=5)
    v = np.random.default_rng(2).normal(size=5)
    exact = np.empty(5)
    lk.logistic_hvp(theta, X, Y, train, 0.3, NO_SPEC, v, exact)
    approx = finite_difference_hvp(lk.logistic_loss_grad, theta, X, Y, train, 0.3, NO_SPEC)(v)
    np.testing.assert_allclose(approx, exact, rtol=1e-6, atol=1e-9)


# ---- the searcher on a ridge problem with a known best alpha --------------------------------------

class RidgeObjective:
    """Validation loss of the exact ridge solution at alpha, with its hypergradient kept for the searcher."""

    def __init__(self, seed=0, n=90, d=30):
        self.X, self.y, self.train, self.val = problem(seed, n, d, classify=False)
        self.Y = self.y.reshape(-1, 1)
        self.fits = 0

    def loss(self, alpha):
        theta = ridge_solution(self.X, self.y, self.train, alpha)
        return val_loss(lk.squared_loss_grad, theta, self.X, self.Y, self.val)

    def __call__(self, trial):
        alpha = trial.params["alpha"]
        self.fits += 1
        theta = ridge_solution(self.X, self.y, self.train, alpha)
        E, dE, _ = implicit_hypergradient(lk.squared_loss_grad, lk.squared_hvp, theta, self.X, self.Y, self.train,
                                          self.val, alpha, NO_SPEC)
        trial.set_attr("hypergradient", {"alpha": dE / alpha})
        return E


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_line_search_converges_to_the_best_alpha_of_a_fine_grid(seed):
    objective = RidgeObjective(seed, n=90, d=30)  # 60 training rows, 30 features: alpha matters
    grid = np.logspace(-6, 3, 2001)
    losses = np.array([objective.loss(a) for a in grid])
    best_alpha, best_loss = grid[np.argmin(losses)], losses.min()
    assert 1e-5 < best_alpha < 1e2  # an interior optimum
    study = Study({"alpha": Real(1e-6, 1e3, log=True)}, HypergradientSearch(), seed=0)
    study.optimize(objective, n_trials=30, progress=False)
    assert study.stop_reason == "exhausted" and len(study.trials) <= 10  # it stopped by itself
    assert study.best_value <= best_loss * (1 + 1e-5)
    assert math.log(study.best_params["alpha"]) == pytest.approx(math.log(best_alpha), abs=0.02)
    within = [t.number for t in study.trials if t.value <= best_loss * 1.01]
    assert within and within[0] < 10  # within 1% of the best validation loss in at most 10 fits


def test_the_search_stops_on_a_plateau_at_the_bound():
    objective = RidgeObjective(1, n=120, d=8)  # many rows, few features: the least penalty is best
    study = Study({"alpha": Real(1e-6, 1e3, log=True)}, HypergradientSearch(), seed=0)
    study.optimize(objective, n_trials=30, progress=False)
    best = min(objective.loss(a) for a in np.logspace(-6, 3, 400))
    assert study.stop_reason == "exhausted" and len(study.trials) <= 10
    assert study.best_value <= best * (1 + 1e-4)


def test_adam_also_descends_the_ridge_validation_loss():
    objective = RidgeObjective(0)
    best_loss = min(objective.loss(a) for a in np.logspace(-6, 3, 400))
    study = Study({"alpha": Real(1e-6, 1e3, log=True)}, HypergradientSearch(method="adam", lr=0.1), seed=0)
    study.optimize(objective, n_trials=40, progress=False)
    assert study.best_value <= best_loss * 1.01
    assert study.best_value < study.trials[0].value


def test_the_searcher_is_deterministic_and_records_failures():
    def run():
        objective = RidgeObjective(1)

        def flaky(trial):
            if trial.number == 1:
                raise ConvergenceError("training diverged")
            return objective(trial)
        study = Study({"alpha": Real(1e-6, 1e3, log=True)}, HypergradientSearch(), seed=0)
        study.optimize(flaky, n_trials=15, progress=False)
        return study
    first, second = run(), run()
    assert [t.params for t in first.trials] == [t.params for t in second.trials]
    assert first.trials[1].state is TrialState.FAILED and "diverged" in first.trials[1].error
    assert first.trials[-1].state is TrialState.COMPLETE and len(first.trials) > 3


def test_maximize_follows_the_gradient_of_the_value():
    objective = RidgeObjective(2)

    def score(trial):
        value = objective(trial)
        trial.set_attr("hypergradient", {"alpha": -trial.attrs["hypergradient"]["alpha"]})
        return -value
    best = Study({"alpha": Real(1e-6, 1e3, log=True)}, HypergradientSearch(), seed=0)
    best.optimize(RidgeObjective(2), n_trials=20, progress=False)
    flipped = Study({"alpha": Real(1e-6, 1e3, log=True)}, HypergradientSearch(), direction="maximize", seed=0)
    flipped.optimize(score, n_trials=20, progress=False)
    assert [t.params for t in flipped.trials] == [t.params for t in best.trials]


# ---- errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [Integer(1, 10), Categorical(["l1", "l2"])])
def test_non_differentiable_hyperparameters_point_to_other_searchers(dim):
    with pytest.raises(ValueError, match="RandomSearch, GridSearch or BayesSearch"):
        Study({"alpha": Real(1e-3, 1.0, log=True), "k": dim}, HypergradientSearch(method="adam"), seed=0)


def test_line_search_is_one_dimensional():
    with pytest.raises(ValueError, match="method='adam'"):
        Study({"alpha": Real(1e-3, 1.0), "beta": Real(0.0, 1.0)}, HypergradientSearch(), seed=0)


def test_an_objective_without_gradient_gets_advice():
    study = Study({"alpha": Real(1e-3, 1.0, log=True)}, HypergradientSearch(), seed=0)
    with pytest.raises(ValueError, match="HypergradientCV"):
        study.optimize(lambda params: params["alpha"], n_trials=3, progress=False)


@pytest.mark.parametrize("kwargs, match", [({"method": "newton"}, "`method` must be one of"),
                                           ({"step": 0.0}, "`step` must be > 0"),
                                           ({"lr": -1.0}, "`lr` must be > 0"),
                                           ({"xtol": 0.0}, "`xtol` must be > 0")])
def test_bad_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Study({"alpha": Real(1e-3, 1.0, log=True)}, HypergradientSearch(**kwargs), seed=0)
