"""HypergradientSearch and implicit differentiation: the hypergradient against central finite differences
of the validation loss, convergence to the best alpha of a ridge problem (fine grid of exact solutions)."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tunelab.core import kernels as lk
from tunelab.optimizers.validation import ConvergenceError
from tunelab.searchers.gradient import HypergradientSearch
from tunelab.searchers.gradient.implicit import conjugate_gradient, finite_difference_hvp, implicit_hypergradient
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


def val_loss(kernel, theta, X, Y, rows, spec=NO_SPEC):
    return kernel(theta, X, Y, rows, 0.0, spec, np.empty_like(theta))


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
        conjugate_gradient(lambda v: H @ v, np.array([1.0, 2.0]))
    with pytest.raises(ConvergenceError, match="not positive definite"):
        conjugate_gradient(lambda v: H @ v, np.array([0.0, 1.0]))


def test_conjugate_gradient_solves_on_the_range_of_a_singular_matrix():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(6, 5))
    H = M @ M.T  # (6, 6) of rank 5
    b = H @ rng.normal(size=6)  # in the range of H
    x, _ = conjugate_gradient(lambda v: H @ v, b, rtol=1e-12)
    np.testing.assert_allclose(H @ x, b, atol=1e-8)


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


def test_conditional_and_define_by_run_spaces_are_refused():
    space = {"alpha": Real(1e-3, 1.0, log=True), "penalty": Categorical({"l2": {"beta": Real(0.0, 1.0)}, "none": None})}
    with pytest.raises(ValueError, match="this space has dimensions that exist only under a choice. Declare a flat"):
        Study(space, HypergradientSearch(method="adam"), seed=0)
    with pytest.raises(ValueError, match="this space is defined by run"):
        Study(None, HypergradientSearch(), seed=0)
    with pytest.raises(ValueError, match="RandomSearch, GridSearch or BayesSearch"):
        Study({"alpha": Real(0.0, 1.0, step=0.1)}, HypergradientSearch(), seed=0)


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


# ---- the MLP: Hessian-vector products by finite differences of the gradient -----------------------

def test_mlp_hypergradient_matches_central_finite_differences():
    from tunelab.core import kernels as mk
    from tunelab.searchers.gradient.implicit import polish

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    y = (X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=80) > 0).astype(np.float64)
    Y = y.reshape(-1, 1)
    train, val = np.arange(50, dtype=np.int64), np.arange(50, 80, dtype=np.int64)
    spec = np.array([mk.ACTIVATION_TANH, mk.OUTPUT_SIGMOID, 4, 5, 1], dtype=np.int64)
    theta0 = rng.normal(size=mk.n_params(spec)) * 0.5
    for alpha in (3e-3, 3e-2):
        theta = polish(mk.mlp_loss_grad, None, theta0, X, Y, train, alpha, spec, gtol=1e-10)
        E, dE, _ = implicit_hypergradient(mk.mlp_loss_grad, None, theta, X, Y, train, val, alpha, spec)
        h = 1e-4
        E_pm = [val_loss(mk.mlp_loss_grad, polish(mk.mlp_loss_grad, None, theta, X, Y, train, alpha * math.exp(s * h),
                                                  spec, gtol=1e-11), X, Y, val, spec) for s in (1, -1)]
        assert dE == pytest.approx((E_pm[0] - E_pm[1]) / (2 * h), rel=1e-3, abs=1e-7)


# ---- HypergradientCV and SearchCV on tunelab's models ---------------------------------------------

from tunelab.core.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from tunelab.searchers.gradient import HypergradientCV  # noqa: E402
from tunelab.searchers.search_cv import SearchCV  # noqa: E402


class _Trial:
    """The part of a Trial an objective uses."""

    def __init__(self, alpha):
        self.params, self.attrs = {"alpha": alpha}, {}

    def set_attr(self, key, value):
        self.attrs[key] = value


def classification(seed, n=150, d=6, k=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Z = X @ rng.normal(size=(d, k)) + rng.normal(size=(n, k)) * 1.5
    return X, np.array(["a", "b", "c", "d"])[Z.argmax(axis=1)] if k > 1 else None


@pytest.mark.parametrize("case", ["ridge", "binary", "multinomial", "no_intercept"])
@given(log_alpha=st.floats(-6.0, 1.0), seed=st.integers(0, 1000))
@example(log_alpha=-4.70703125, seed=257)
@settings(max_examples=10, deadline=None)
def test_cv_hypergradient_matches_finite_differences_of_the_mean_validation_loss(case, log_alpha, seed):
    if case in ("ridge", "no_intercept"):
        X, y, _, _ = problem(seed, 90, 12, classify=False)
        model = LinearRegression(fit_intercept=case == "ridge")
    else:
        X, y = classification(seed, k=2 if case == "binary" else 3)
        model = LogisticRegression()
    alpha = math.exp(log_alpha)

    def run(a):
        trial = _Trial(a)
        HypergradientCV(model, X, y, cv=3, gtol=1e-11)(trial)
        return trial.attrs
    attrs = run(alpha)
    h = 1e-3  # the losses must differ well above the error of the fitted optimum (max |gradient| ~ 1e-11)
    fd = (run(alpha * math.exp(h))["hyperloss"] - run(alpha * math.exp(-h))["hyperloss"]) / (2 * h)
    # (the mean of 3 fold losses, each fitted anew, differs by ~1e-6 relative between the two sides; where the
    # hypergradient is near 0 the difference quotient itself wanders by ~5e-8 as h goes from 2.5e-4 to 4e-3,
    # measured on binary, seed 257, log_alpha -4.707: hence the absolute tolerance)
    assert attrs["hypergradient"]["alpha"] * alpha == pytest.approx(fd, rel=1e-3, abs=2e-7)
    assert len(attrs["split_test_scores"]) == 3


def test_search_cv_with_hypergradients_finds_the_best_ridge_alpha():
    X, y, _, _ = problem(3, 90, 30, classify=False)
    space = {"alpha": Real(1e-6, 1e3, log=True)}
    search = SearchCV(LinearRegression(), space, searcher=HypergradientSearch(), n_trials=30, cv=3,
                      scoring="neg_mean_squared_error", random_state=0)
    search.fit(X, y)
    trials = search.study_.trials
    assert search.study_.stop_reason == "exhausted" and len(trials) <= 12
    assert list(search.cv_results_["state"]) == ["complete"] * len(trials)
    grid = np.logspace(-6, 3, 181)  # the same folds, every alpha of a fine grid
    reference = HypergradientCV(LinearRegression(), X, y, cv=3)
    losses = []
    for a in grid:
        trial = _Trial(a)
        reference(trial)
        losses.append(trial.attrs["hyperloss"])
    best = min(t.attrs["hyperloss"] for t in trials)
    assert best <= min(losses) * (1 + 1e-4)
    assert search.best_estimator_.alpha == search.best_params_["alpha"]


def test_search_cv_refuses_what_it_cannot_differentiate():
    X, y, _, _ = problem(0, 60, 3, classify=False)
    with pytest.raises(ValueError, match="`alpha` only; \\['tol'\\]"):
        SearchCV(LinearRegression(), {"alpha": Real(1e-3, 1.0, log=True), "tol": Real(1e-6, 1e-2, log=True)},
                 searcher=HypergradientSearch(method="adam"), cv=3).fit(X, y)
    with pytest.raises(ValueError, match="BayesSearch"):
        SearchCV(LinearRegression(), {"alpha": Real(1e-3, 1.0, log=True), "max_epochs": Integer(1, 10)},
                 searcher=HypergradientSearch(method="adam"), cv=3).fit(X, y)
    sklearn = pytest.importorskip("sklearn.linear_model")
    with pytest.raises(ValueError, match="got Ridge"):
        SearchCV(sklearn.Ridge(), {"alpha": Real(1e-3, 1.0, log=True)}, searcher=HypergradientSearch(), cv=3).fit(X, y)
