"""LinearRegression and LogisticRegression: exact solutions, optima, references, training controls, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.core import kernels as lk
from tunelab.core.validation import ConvergenceError, NotFittedError
from tunelab.core.base import clone
from tunelab.core.linear_model import LinearRegression, LogisticRegression
from tunelab.core.neural_network import MLPClassifier
from tunelab.core.preprocessing import StandardScaler
from tunelab.core.training import offers_training_problem
from tunelab.optimizers import GD, LBFGS, SGD, Adam, Momentum

def regression_data(n=200, d=5, seed=0, noise=0.1, shift=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) + shift
    y = X @ rng.normal(size=d) + 1.5 + noise * rng.normal(size=n)
    return X, y


def classification_data(n=300, d=4, n_classes=2, seed=0, shift=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    scores = X @ rng.normal(size=(d, n_classes)) + rng.normal(size=(n, n_classes))
    return X + shift, scores.argmax(axis=1)


def ridge_reference(X, y, alpha, fit_intercept=True):
    """min 1/(2n)|X w + b - y|^2 + alpha/2 |w|^2 as an ordinary least-squares problem with sqrt(n alpha) I
    appended (numpy's lstsq; the minimum-norm solution when alpha = 0 and X is rank deficient)."""
    n, d = X.shape
    x_bar = X.mean(axis=0) if fit_intercept else np.zeros(d)
    y_bar = y.mean() if fit_intercept else 0.0
    A = np.vstack([X - x_bar, np.sqrt(n * alpha) * np.eye(d)])
    w = np.linalg.lstsq(A, np.r_[y - y_bar, np.zeros(d)], rcond=None)[0]
    return w, y_bar - x_bar @ w


def objective_gradient(model, X, y):
    """The gradient of the model's own training objective at its fitted weights, by the kernel."""
    if isinstance(model, LinearRegression):
        theta, Y, kernel = np.r_[model.coef_, model.intercept_], y.reshape(-1, 1).astype(float), lk.squared_loss_grad
    else:
        codes = np.searchsorted(model.classes_, y)
        theta = np.r_[model.coef_.T.ravel(), model.intercept_]
        if len(model.classes_) == 2:
            Y, kernel = codes.reshape(-1, 1).astype(float), lk.logistic_loss_grad
        else:
            Y, kernel = np.eye(len(model.classes_))[codes], lk.softmax_loss_grad
    grad = np.empty_like(theta)
    spec = np.array([int(model.fit_intercept)], np.int64)
    kernel(theta, np.ascontiguousarray(X, dtype=float), Y, np.arange(len(y), dtype=np.int64), model.alpha, spec, grad)
    return grad


# ------------------------------------------------------------------------------------------------
# LinearRegression: the exact solve and the optimizers reach the same optimum
# ------------------------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 60), d=st.integers(1, 8), alpha=st.sampled_from([0.0, 1e-6, 0.1, 10.0]),
       fit_intercept=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_exact_ridge_matches_the_lstsq_reference(n, d, alpha, fit_intercept, seed):
    X, y = regression_data(n, d, seed)
    model = LinearRegression(alpha=alpha, fit_intercept=fit_intercept).fit(X, y)
    w, b = ridge_reference(X, y, alpha, fit_intercept)
    scale = 1.0 + np.abs(w).max()
    np.testing.assert_allclose(model.coef_, w, rtol=1e-7, atol=1e-7 * scale)
    assert model.intercept_ == pytest.approx(b, rel=1e-7, abs=1e-7 * scale)
    np.testing.assert_allclose(model.predict(X), X @ w + b, rtol=1e-7, atol=1e-6 * scale * (1 + np.abs(X).max()))


def test_exact_ridge_is_a_stationary_point_of_the_kernel_objective():
    X, y = regression_data(150, 6, 1)
    model = LinearRegression(alpha=0.3).fit(X, y)
    assert np.abs(objective_gradient(model, X, y)).max() < 1e-12
    assert model.n_epochs_ == 1 and len(model.loss_curve_) == 1


def test_exact_ridge_rank_deficient_gives_the_minimum_norm_solution():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(5, 9))  # n < d: X^T X is singular
    y = rng.normal(size=5)
    model = LinearRegression(alpha=0.0).fit(X, y)
    w, b = ridge_reference(X, y, 0.0)
    np.testing.assert_allclose(model.coef_, w, atol=1e-10)
    np.testing.assert_allclose(model.predict(X), y, atol=1e-10)  # interpolates


@pytest.mark.parametrize("optimizer", [GD(lr=0.5), Momentum(lr=0.1, momentum=0.9), LBFGS(gtol=1e-12)],
                         ids=["GD", "Momentum", "LBFGS"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_optimizers_reach_the_exact_ridge_solution(optimizer, fit_intercept):
    X, y = regression_data(200, 5, 3)
    exact = LinearRegression(alpha=0.1, fit_intercept=fit_intercept).fit(X, y)
    fitted = LinearRegression(alpha=0.1, fit_intercept=fit_intercept, optimizer=optimizer, max_epochs=2000,
                              tol=None).fit(X, y)
    theta_exact, theta_fit = np.r_[exact.coef_, exact.intercept_], np.r_[fitted.coef_, fitted.intercept_]
    assert np.linalg.norm(theta_fit - theta_exact) / np.linalg.norm(theta_exact) < 1e-6
    if not fit_intercept:
        assert fitted.intercept_ == 0.0 == exact.intercept_


def test_lbfgs_on_features_with_large_means_reaches_the_exact_solution():
    """The L-BFGS path centres X internally; the published intercept is back in the original coordinates."""
    X, y = regression_data(200, 4, 4, shift=300.0)
    exact = LinearRegression(alpha=0.01).fit(X, y)
    fitted = LinearRegression(alpha=0.01, optimizer=LBFGS(gtol=1e-11), tol=None).fit(X, y)
    np.testing.assert_allclose(fitted.coef_, exact.coef_, rtol=1e-6)
    assert fitted.intercept_ == pytest.approx(exact.intercept_, rel=1e-6)


def test_agrees_with_sklearn_ridge():
    sklearn = pytest.importorskip("sklearn.linear_model")
    X, y = regression_data(120, 6, 5)
    alpha = 0.05
    ours = LinearRegression(alpha=alpha).fit(X, y)
    theirs = sklearn.Ridge(alpha=len(y) * alpha, solver="cholesky").fit(X, y)  # sklearn's alpha = n * ours
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-8)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-8)


# ------------------------------------------------------------------------------------------------
# LogisticRegression: the optimum, scikit-learn, labels
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_classes", [2, 4])
def test_logistic_reaches_the_optimum_of_its_objective(n_classes):
    X, y = classification_data(300, 5, n_classes, seed=6)
    tight = LogisticRegression(alpha=1e-3, optimizer=LBFGS(gtol=1e-9)).fit(X, y)
    assert np.linalg.norm(objective_gradient(tight, X, y)) < 1e-6
    default = LogisticRegression(alpha=1e-3).fit(X, y)  # L-BFGS to its gtol = 1e-6 on the max-norm
    assert np.abs(objective_gradient(default, X, y)).max() <= 1e-6


@pytest.mark.parametrize("shift", [0.0, 50.0])
def test_logistic_shift_of_the_inputs_moves_only_the_intercept(shift):
    """x -> x + c leaves the optimal coef_ and moves the intercept by -c . coef_ (the objective is invariant)."""
    X, y = classification_data(200, 3, 3, seed=7)
    base = LogisticRegression(alpha=1e-2, optimizer=LBFGS(gtol=1e-10)).fit(X, y)
    moved = LogisticRegression(alpha=1e-2, optimizer=LBFGS(gtol=1e-10)).fit(X + shift, y)
    np.testing.assert_allclose(moved.coef_, base.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(moved.intercept_, base.intercept_ - shift * base.coef_.sum(axis=1), rtol=1e-6,
                               atol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_logistic_agrees_with_sklearn(n_classes):
    sklearn = pytest.importorskip("sklearn.linear_model")
    X, y = classification_data(250, 4, n_classes, seed=8)
    alpha = 1e-2
    ours = LogisticRegression(alpha=alpha, optimizer=LBFGS(gtol=1e-10)).fit(X, y)
    theirs = sklearn.LogisticRegression(C=1.0 / (len(y) * alpha), tol=1e-12, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-7)
    assert ours.coef_.shape == theirs.coef_.shape and ours.intercept_.shape == theirs.intercept_.shape


@pytest.mark.parametrize("labels", [["cat", "dog"], [-3, 7], [0.0, 2.0], ["a", "b", "c"], [True, False]])
def test_logistic_accepts_any_label_values(labels):
    X, codes = classification_data(150, 3, len(labels), seed=9)
    y = np.asarray(labels)[codes]
    model = LogisticRegression(alpha=1e-3).fit(X, y)
    np.testing.assert_array_equal(model.classes_, np.unique(y))
    predicted = model.predict(X)
    assert predicted.dtype == y.dtype and set(predicted) <= set(y)
    assert model.score(X, y) > 0.7
    P = model.predict_proba(X)
    assert P.shape == (150, len(labels)) and np.allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.classes_[P.argmax(axis=1)], predicted)
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), P, rtol=1e-12)
    Z = model.decision_function(X)
    if len(labels) == 2:
        assert Z.shape == (150,)
        np.testing.assert_array_equal(model.classes_[(Z > 0).astype(int)], predicted)
    else:
        assert Z.shape == (150, len(labels))


def test_predict_proba_is_finite_for_huge_scores():
    X, y = classification_data(100, 2, 3, seed=10)
    model = LogisticRegression(alpha=1e-3).fit(X, y)
    P = model.predict_proba(X * 1e6)
    assert np.isfinite(P).all() and np.allclose(P.sum(axis=1), 1.0)
    assert np.isfinite(model.predict_log_proba(X * 1e6)).all()


# ------------------------------------------------------------------------------------------------
# training controls: seeds, warm start, partial_fit, early stopping, divergence
# ------------------------------------------------------------------------------------------------
def sgd_logistic(**params):
    defaults = dict(alpha=1e-3, optimizer=Momentum(lr=0.05, momentum=0.9, batch_size=16), tol=None, random_state=3)
    return LogisticRegression(**{**defaults, **params})


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_same_seed_same_model(seed):
    X, y = classification_data(120, 3, 3, seed=11)
    a = sgd_logistic(random_state=seed, max_epochs=3).fit(X, y)
    b = sgd_logistic(random_state=seed, max_epochs=3).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.loss_curve_ == b.loss_curve_
    c = sgd_logistic(random_state=np.random.default_rng(seed), max_epochs=3).fit(X, y)
    np.testing.assert_array_equal(a.coef_, c.coef_)  # a Generator with the same seed draws the same shuffles


def test_different_seeds_shuffle_differently():
    X, y = classification_data(120, 3, 3, seed=11)
    assert not np.array_equal(sgd_logistic(random_state=1, max_epochs=2).fit(X, y).coef_,
                              sgd_logistic(random_state=2, max_epochs=2).fit(X, y).coef_)


@pytest.mark.parametrize("optimizer", [Momentum(lr=0.05, batch_size=16), Adam(lr=0.01, batch_size=16),
                                       SGD(lr=0.05, batch_size=8)], ids=["Momentum", "Adam", "SGD"])
def test_warm_start_and_partial_fit_continue_exactly_where_training_stopped(optimizer):
    """4 epochs, then 6 more (optimizer state and shuffling carried over) = 10 epochs in one go."""
    X, y = classification_data(150, 3, 3, seed=12)
    whole = sgd_logistic(optimizer=optimizer, max_epochs=10).fit(X, y)
    warm = sgd_logistic(optimizer=optimizer, max_epochs=4).fit(X, y)
    warm.set_params(warm_start=True, max_epochs=6).fit(X, y)
    parts = sgd_logistic(optimizer=optimizer)
    parts.partial_fit(X, y, epochs=4)
    parts.partial_fit(X, y, epochs=6)
    for model in (warm, parts):
        np.testing.assert_allclose(model.coef_, whole.coef_, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(model.loss_curve_, whole.loss_curve_, rtol=1e-12)
        assert model.n_epochs_ == 10


def test_fit_without_warm_start_starts_over():
    X, y = classification_data(150, 3, 2, seed=13)
    model = sgd_logistic(max_epochs=3).fit(X, y)
    first = model.coef_.copy()
    model.fit(X, y)
    np.testing.assert_array_equal(model.coef_, first)
    assert model.n_epochs_ == 3


def test_partial_fit_with_classes_accepts_batches_missing_a_class():
    X, y = classification_data(200, 3, 3, seed=14)
    model = sgd_logistic()
    model.partial_fit(X[y != 2], y[y != 2], classes=[0, 1, 2])
    model.partial_fit(X, y, epochs=20)
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert model.coef_.shape == (3, 3) and model.score(X, y) > 0.7


def test_partial_fit_regression_and_exact_solver():
    X, y = regression_data(100, 3, 15)
    exact = LinearRegression().partial_fit(X, y)  # the exact solve: partial_fit solves on the data given
    np.testing.assert_allclose(exact.coef_, LinearRegression().fit(X, y).coef_)
    model = LinearRegression(optimizer=SGD(lr=0.02, batch_size=10), tol=None, random_state=0)
    losses = [model.partial_fit(X, y, epochs=5).loss_curve_[-1] for _ in range(3)]
    assert model.n_epochs_ == 15 and losses[2] < losses[0]


@pytest.mark.parametrize("model,data", [
    (LogisticRegression(optimizer=SGD(lr=0.05, batch_size=8), early_stopping=True, n_iter_no_change=3,
                        max_epochs=300, random_state=0), classification_data(300, 3, 2, seed=16)),
    (LinearRegression(optimizer=SGD(lr=0.01, batch_size=8), early_stopping=True, n_iter_no_change=3,
                      max_epochs=300, random_state=0), regression_data(300, 3, 16)),
], ids=["accuracy", "R2"])
def test_early_stopping_records_validation_scores_and_stops(model, data):
    X, y = data
    model.fit(X, y)
    assert len(model.validation_scores_) == model.n_epochs_ == len(model.loss_curve_)
    assert model.n_epochs_ < 300
    assert max(model.validation_scores_) <= 1.0
    assert model.score(X, y) > 0.8
    no_stop = clone(model).set_params(early_stopping=False, max_epochs=2).fit(X, y)
    assert no_stop.validation_scores_ is None


def test_early_stopping_split_is_stratified_and_seeded():
    X, y = classification_data(200, 3, 2, seed=17)
    a = LogisticRegression(optimizer=SGD(lr=0.05), early_stopping=True, validation_fraction=0.2, random_state=5)
    b = clone(a)
    a.fit(X, y)
    b.fit(X, y)
    assert a.validation_scores_ == b.validation_scores_
    np.testing.assert_array_equal(a.coef_, b.coef_)


@pytest.mark.parametrize("make", [
    lambda: LinearRegression(optimizer=GD(lr=10.0)),
    lambda: LinearRegression(optimizer=GD(lr=10.0), tol=None, max_epochs=3000),
    lambda: LogisticRegression(alpha=0.0, optimizer=Momentum(lr=1e6, momentum=0.99), tol=None, max_epochs=500),
], ids=["patience-stop", "to-overflow", "logistic"])
def test_a_diverging_learning_rate_raises_convergence_error(make):
    X, y = regression_data(100, 3, 18)
    if isinstance(make(), LogisticRegression):
        y = (y > np.median(y)).astype(int)
    model = make()
    with pytest.raises(ConvergenceError, match="diverged"):
        model.fit(X, y)
    with pytest.raises(NotFittedError):  # a failed first fit leaves no weights behind
        model.predict(X)


def test_a_diverging_continuation_keeps_the_previous_weights():
    X, y = regression_data(100, 3, 19)
    model = LinearRegression(optimizer=GD(lr=0.1), max_epochs=20, tol=None, warm_start=True).fit(X, y)
    before = model.coef_.copy()
    model.set_params(optimizer=GD(lr=10.0), max_epochs=3000)
    with pytest.raises(ConvergenceError):
        model.fit(X, y)
    np.testing.assert_array_equal(model.coef_, before)
    assert np.isfinite(model.predict(X)).all()


# ------------------------------------------------------------------------------------------------
# parameters
# ------------------------------------------------------------------------------------------------
def test_get_and_set_nested_optimizer_params():
    model = LogisticRegression(optimizer=SGD(lr=0.1, batch_size=8))
    params = model.get_params()
    assert params["optimizer__lr"] == 0.1 and params["alpha"] == 1e-4
    shared = model.optimizer
    model.set_params(optimizer__lr=0.5, alpha=0.2)
    assert model.optimizer.lr == 0.5 and model.alpha == 0.2 and shared.lr == 0.1  # the caller's object untouched
    copy = clone(model)
    assert copy.get_params()["optimizer__lr"] == 0.5 and copy.optimizer is not model.optimizer
    assert not hasattr(copy, "coef_")


def test_constructor_only_stores_hyperparameters():
    model = LogisticRegression(alpha=-1.0, optimizer="nonsense")  # checked at fit, as in scikit-learn
    assert model.alpha == -1.0 and model.optimizer == "nonsense"


# ------------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------------
X_OK, Y_OK = classification_data(40, 3, 2, seed=20)


@pytest.mark.parametrize("params,error,message", [
    ({"alpha": -0.1}, ValueError, "`alpha` must be >= 0"),
    ({"alpha": np.nan}, ValueError, "`alpha` must be finite"),
    ({"optimizer": "sgd"}, TypeError, "`optimizer` must be None or one of"),
    ({"optimizer": SGD}, TypeError, "an instance is needed"),
    ({"optimizer": SGD(lr=-0.1)}, ValueError, "`lr` must be > 0"),
    ({"max_epochs": 0}, ValueError, "`max_epochs` must be >= 1"),
    ({"max_epochs": 2.5}, TypeError, "`max_epochs` must be an integer"),
    ({"tol": -1.0}, ValueError, "`tol` must be >= 0"),
    ({"n_iter_no_change": 0}, ValueError, "`n_iter_no_change` must be >= 1"),
    ({"validation_fraction": 1.0}, ValueError, "`validation_fraction` must be < 1"),
    ({"early_stopping": "yes"}, TypeError, "`early_stopping` must be True or False"),
    ({"fit_intercept": 1}, TypeError, "`fit_intercept` must be True or False"),
    ({"random_state": "seed"}, TypeError, "`random_state` must be None"),
])
@pytest.mark.parametrize("cls", [LinearRegression, LogisticRegression])
def test_bad_hyperparameters_name_the_argument(cls, params, error, message):
    if cls is LinearRegression and params.get("optimizer") is None and "random_state" in params:
        params = {**params, "optimizer": SGD()}  # the exact solve draws nothing at random
    y = Y_OK.astype(float) if cls is LinearRegression else Y_OK
    with pytest.raises(error, match=message):
        cls(**params).fit(X_OK, y)


@pytest.mark.parametrize("X,y,message", [
    (np.array([[1.0, np.nan], [0.0, 1.0]]), [0, 1], "NaN or infinite"),
    (np.array([[1.0, np.inf], [0.0, 1.0]]), [0, 1], "NaN or infinite"),
    (np.array([1.0, 2.0, 3.0]), [0, 1, 0], "must be 2-D"),
    (np.zeros((3, 2)), [0, 1], "same number of rows"),
    (np.zeros((0, 2)), [], "empty"),
    (np.zeros((3, 2)), [[0, 1], [1, 0], [0, 1]], "`y` must be 1-D"),
    (np.array([["a", "b"], ["c", "d"]]), [0, 1], "must be numeric"),
])
def test_bad_data_is_refused_with_a_clear_message(X, y, message):
    for model in (LinearRegression(), LogisticRegression()):
        with pytest.raises(ValueError, match=message):
            model.fit(X, y)


def test_regression_target_must_be_finite_numbers():
    with pytest.raises(ValueError, match="NaN or infinite"):
        LinearRegression().fit(X_OK, np.r_[np.nan, np.zeros(39)])
    with pytest.raises(ValueError, match="numeric"):
        LinearRegression().fit(X_OK[:2], ["a", "b"])


def test_one_class_is_refused():
    with pytest.raises(ValueError, match="only one class"):
        LogisticRegression().fit(X_OK, np.zeros(40))
    with pytest.raises(ValueError, match="only one class"):
        LogisticRegression().partial_fit(X_OK, np.zeros(40), classes=[0])


def test_predict_checks_fitting_and_features():
    with pytest.raises(NotFittedError, match="not fitted"):
        LogisticRegression().predict(X_OK)
    model = LogisticRegression().fit(X_OK, Y_OK)
    with pytest.raises(ValueError, match="3 features"):
        model.predict(X_OK[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        model.predict_proba(np.full((2, 3), np.nan))


def test_labels_unseen_at_the_first_fit_are_refused_when_continuing():
    model = sgd_logistic(warm_start=True, max_epochs=1).fit(X_OK, Y_OK)
    with pytest.raises(ValueError, match=r"labels \[5\] that are not among the classes"):
        model.fit(X_OK, np.where(Y_OK == 1, 5, 0))
    with pytest.raises(ValueError, match="differ from the classes"):
        model.partial_fit(X_OK, Y_OK, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="classifiers only"):
        LinearRegression(optimizer=SGD()).partial_fit(X_OK, Y_OK.astype(float), classes=[0, 1])
    with pytest.raises(ValueError, match="`epochs` must be >= 1"):
        sgd_logistic().partial_fit(X_OK, Y_OK, epochs=0)


def test_early_stopping_needs_enough_samples():
    with pytest.raises(ValueError, match="early_stopping needs at least 2 samples"):
        LinearRegression(optimizer=SGD(), early_stopping=True).fit(X_OK[:1], [1.0])


@pytest.mark.parametrize("make", [lambda: LogisticRegression(), lambda: MLPClassifier(max_epochs=2)])
def test_classifiers_refuse_continuous_labels(make):
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match="`y` holds continuous values"):
        make().fit(X, np.linspace(0.5, 2.5, 10))


# ------------------------------------------------------------------------------------------------
# the fitted training problem, read and written (what gradient-based hyperparameter search uses)
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model, data, hvp", [
    (LinearRegression(alpha=0.3), regression_data(80, 4, 2), lk.squared_hvp),
    (LinearRegression(alpha=0.3, fit_intercept=False, optimizer=LBFGS()), regression_data(80, 4, 2), lk.squared_hvp),
    (LogisticRegression(alpha=0.01), classification_data(120, 3, 2, seed=3), lk.logistic_hvp),
    (LogisticRegression(alpha=0.01), classification_data(120, 3, 4, seed=4), lk.softmax_hvp),
])
def test_training_problem_is_the_objective_that_fit_minimised(model, data, hvp):
    X, y = data
    model.fit(X, y)
    problem = model.training_problem(y)
    assert problem.hvp is hvp and problem.alpha == model.alpha
    rows = np.arange(len(y), dtype=np.int64)
    grad = np.empty_like(problem.theta)
    problem.kernel(problem.theta, np.ascontiguousarray(X), problem.Y, rows, problem.alpha, problem.spec, grad)
    np.testing.assert_array_equal(grad, objective_gradient(model, X, y))  # same kernel, weights and targets
    problem.theta[:] = 0.0  # a copy: the model keeps its weights
    assert np.abs(model.training_problem(y).theta).max() > 0


def test_set_weights_republishes_the_fitted_attributes():
    X, y = classification_data(100, 3, 3, seed=5)
    model = LogisticRegression().fit(X, y)
    theta, Z, n_epochs = model.training_problem(y).theta, model.decision_function(X), model.n_epochs_
    assert model.set_weights(2.0 * theta) is model
    np.testing.assert_allclose(model.decision_function(X), 2.0 * Z, rtol=1e-12, atol=1e-12)  # scores are linear
    np.testing.assert_array_equal(model.training_problem(y).theta, 2.0 * theta)
    assert model.n_epochs_ == n_epochs
    X, y = regression_data(50, 3, 6)
    ridge = LinearRegression().fit(X, y).set_weights(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(ridge.coef_, [1.0, 2.0, 3.0])
    assert ridge.intercept_ == 4.0 and ridge.predict(np.ones((1, 3)))[0] == 10.0


def test_the_training_problem_needs_a_fitted_model_and_right_arguments():
    X, y = regression_data(40, 3, 7)
    with pytest.raises(NotFittedError):
        LinearRegression().training_problem(y)
    with pytest.raises(NotFittedError):
        LinearRegression().set_weights(np.zeros(4))
    model = LinearRegression().fit(X, y)
    with pytest.raises(ValueError, match=r"`theta` must have shape \(4,\)"):
        model.set_weights(np.zeros(3))
    with pytest.raises(ValueError, match="`theta` contains 1 NaN"):
        model.set_weights(np.array([0.0, np.nan, 0.0, 0.0]))
    with pytest.raises(ValueError, match="`y` must be 1-D"):
        model.training_problem(y.reshape(2, -1))
    with pytest.raises(ValueError, match="numeric"):
        model.training_problem(np.array(["a"] * 40))
    X, y = classification_data(40, 3, 2, seed=8)
    with pytest.raises(ValueError, match=r"labels \[7\] that are not among the classes"):
        LogisticRegression().fit(X, y).training_problem(np.r_[y[:-1], 7])


def test_models_offer_their_training_problem_and_others_do_not():
    assert offers_training_problem(LinearRegression()) and offers_training_problem(MLPClassifier())
    assert not offers_training_problem(LinearRegression)  # the class, not an estimator
    assert not offers_training_problem(StandardScaler())


def test_check_array_finds_nan_and_inf_after_the_fast_sum_test():
    from tunelab.core.validation import check_array

    X = np.ones((50, 3))
    X[7, 1] = np.inf
    X[8, 2] = -np.inf  # inf - inf: the sum is NaN, the full test counts both
    with pytest.raises(ValueError, match="contains 2 NaN or infinite"):
        check_array(X)
    np.testing.assert_array_equal(check_array(np.full((2, 2), 1e308)), np.full((2, 2), 1e308))  # sum overflows
