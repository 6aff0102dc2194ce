"""Edge-case data and arguments: inputs of extreme magnitude, warm starts whose architecture changed, labels
absent or of mixed types, negative seeds, grids too large to list, fitting before predict."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.core import (
    LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor, StandardScaler, StratifiedKFold,
    UndefinedMetricWarning, cross_val_score, f1_score, load_breast_cancer, precision_score, recall_score,
    train_test_split,
)
from tunelab.core.kernels import logistic_loss_grad
from tunelab.core.validation import ConvergenceError, NotFittedError
from tunelab.optimizers import GD, LBFGS
from tunelab.searchers import GridSearch, Integer, Real, Space, Study
from tunelab.searchers import space as space_module


@pytest.fixture(scope="module")
def cancer():
    """Five standardised breast-cancer features: not separable, so the unpenalised optimum is finite."""
    X, y = load_breast_cancer()
    return StandardScaler().fit_transform(X)[:, :5], y


# ------------------------------------------------------------------------------------------------
# inputs of any magnitude
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("s", [1e12, 1e15, 1e100, 1e300])
def test_logistic_regression_fits_inputs_of_any_magnitude(cancer, s):
    """f(w) = L(s X w) + alpha/2 |w|^2 has its optimum at w = v / s, v that of L(X v) + alpha/(2 s^2) |v|^2."""
    X, y = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning, no overflow
        model = LogisticRegression().fit(X * s, y)
        reference = LogisticRegression(alpha=1e-4 / s / s).fit(X, y)
    assert model.n_epochs_ > 0 and model.converged_
    # both stop at max|grad| <= 1e-6 in their own coordinates: a flat optimum, known to about 1e-4
    np.testing.assert_allclose(model.coef_ * s, reference.coef_, rtol=1e-3)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=1e-3)
    np.testing.assert_array_equal(model.predict(X * s), reference.predict(X))
    assert model.score(X * s, y) > 0.85


@pytest.mark.parametrize("s", [1e-15, 1e-300])
def test_logistic_regression_on_tiny_inputs_fits_the_intercept(cancer, s):
    """With inputs of magnitude s -> 0 the penalty alpha/2 |w|^2 holds w x at O(s^2 / alpha), and the optimum is
    b = log(p / (1 - p)), p the share of class 1."""
    X, y = cancer
    model = LogisticRegression().fit(X * s, y)
    assert model.n_epochs_ > 0 and model.converged_
    p = y.mean()  # gtol bounds |mean(sigmoid(b)) - p| by 1e-6, so |b - b*| <= 1e-6 / (p (1 - p))
    np.testing.assert_allclose(model.intercept_, [np.log(p / (1 - p))], rtol=0, atol=1e-6 / (p * (1 - p)))
    assert np.abs((X * s) @ model.coef_[0]).max() < 1e-12


def test_the_scaled_fit_is_a_stationary_point_of_the_original_objective(cancer):
    """The gradient of f in w, relative to the magnitude of the inputs, vanishes at the fitted weights."""
    X, y = cancer
    Xs = np.ascontiguousarray(X * 1e15)
    model = LogisticRegression(alpha=1e-3).fit(Xs, y)
    theta = np.r_[model.coef_[0], model.intercept_]
    grad = np.empty_like(theta)
    logistic_loss_grad(theta, Xs, y.astype(float).reshape(-1, 1), np.arange(len(y)), 1e-3, np.array([1]), grad)
    assert np.abs(grad[:-1]).max() / np.abs(Xs).max() <= 1e-6 and abs(grad[-1]) <= 1e-6


@pytest.mark.parametrize("s", [1e-20, 1e10, 1e200])
def test_least_squares_by_lbfgs_matches_the_exact_solve_at_any_magnitude(s):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = X @ [1.0, -2.0, 0.5, 3.0] + 0.1 * rng.normal(size=200)
    exact = LinearRegression().fit(X * s, y)
    by_lbfgs = LinearRegression(optimizer=LBFGS()).fit(X * s, y)
    np.testing.assert_allclose(by_lbfgs.coef_ * s, exact.coef_ * s, rtol=1e-5)  # gtol 1e-6 on the scaled gradient
    np.testing.assert_allclose(by_lbfgs.intercept_, exact.intercept_, rtol=0, atol=1e-6)  # |mean residual| <= gtol


def test_a_first_order_fit_that_diverges_on_huge_inputs_names_their_scale(cancer):
    X, y = cancer
    with pytest.raises(ConvergenceError, match=r"the inputs reach max\|x\| = .*e\+15.*StandardScaler"):
        LogisticRegression(optimizer=GD(lr=0.1)).fit(X * 1e15, y)


@pytest.mark.parametrize("make, s", [(MLPClassifier, 1e300), (MLPClassifier, 1e-300), (MLPRegressor, 1e154),
                                     (MLPRegressor, 1e100)])
def test_an_mlp_refuses_inputs_its_float64_training_cannot_handle(cancer, make, s):
    X, y = cancer
    target = y if make is MLPClassifier else X[:, 0]
    with pytest.raises(ValueError, match=r"`X` reaches max\|x\| = [\d.]+e[+-]\d+.*StandardScaler"):
        make(max_epochs=2, random_state=0).fit(X * s, target)
    with pytest.raises(ValueError, match=r"`X` reaches max\|x\|"):
        make(max_epochs=2, random_state=0).partial_fit(X * s, target, **({"classes": [0, 1]} if make is MLPClassifier
                                                                           else {}))


def test_an_mlp_regressor_refuses_targets_of_overflowing_magnitude(cancer):
    X, _ = cancer
    with pytest.raises(ValueError, match=r"`y` reaches max\|y\| = [\d.]+e\+154.*StandardScaler"):
        MLPRegressor(max_epochs=2, random_state=0).fit(X, X[:, 0] * 1e154)


def test_an_mlp_still_fits_inputs_of_moderate_magnitude(cancer):
    X, y = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few epochs: a ConvergenceWarning is expected
        model = MLPClassifier(max_epochs=20, random_state=0).fit(X * 1e3, y)
    assert model.score(X * 1e3, y) > 0.85


@pytest.mark.parametrize("s", [1e-300, 1e-20, 1e20, 1e154, 1e300])
def test_standard_scaler_gives_the_same_standardisation_at_any_magnitude(cancer, s):
    X, _ = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or underflow warning
        scaler = StandardScaler().fit(X * s)
        Z = scaler.transform(X * s)
    np.testing.assert_allclose(Z, StandardScaler().fit_transform(X), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(scaler.scale_, X.std(axis=0) * s, rtol=1e-9)
    np.testing.assert_allclose(scaler.inverse_transform(Z), X * s, rtol=1e-9, atol=1e-12 * s)


def test_standard_scaler_handles_values_at_the_ends_of_float64():
    big = np.finfo(np.float64).max
    X = np.array([[big], [big], [big], [-big]])  # mean 0.5 big; x - mean overflows for the last row
    Z = StandardScaler().fit_transform(X)
    expected = (np.array([1.0, 1.0, 1.0, -1.0]) - 0.5) / np.sqrt(0.75)
    np.testing.assert_allclose(Z[:, 0], expected, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 20), d=st.integers(1, 4), seed=st.integers(0, 2**32 - 1),
       exponents=st.lists(st.integers(-300, 300), min_size=4, max_size=4))
def test_standard_scaler_moments_are_right_for_any_finite_input(n, d, seed, exponents):
    """Column j scaled by 10^e_j standardises as the unscaled column does."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) + rng.normal(size=d)
    scales = 10.0 ** np.array(exponents[:d], dtype=float)
    Z = StandardScaler().fit_transform(X * scales)
    assert np.isfinite(Z).all()
    np.testing.assert_allclose(Z, StandardScaler().fit_transform(X), rtol=1e-8, atol=1e-10)


# ------------------------------------------------------------------------------------------------
# warm starts whose architecture changed
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("change", [{"hidden_layer_sizes": (5,)}, {"hidden_layer_sizes": 5},
                                    {"activation": "tanh"}])
def test_a_warm_start_refuses_a_changed_architecture(cancer, change):
    X, y = cancer
    model = MLPClassifier(hidden_layer_sizes=(3,), warm_start=True, max_epochs=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
        model.set_params(**change)
        name = next(iter(change))
        with pytest.raises(ValueError, match=rf"`{name}`.*warm_start=False"):
            model.fit(X, y)
        with pytest.raises(ValueError, match=rf"`{name}`"):
            model.partial_fit(X, y)
        assert [W.shape for W in model.coefs_] == [(5, 3), (3, 1)]  # the fitted network is left as it was
        model.set_params(warm_start=False).fit(X, y)  # a fresh fit takes the new architecture
    width = 5 if "hidden_layer_sizes" in change else 3
    assert [W.shape for W in model.coefs_] == [(5, width), (width, 1)]


def test_a_warm_start_keeps_working_with_the_same_architecture_spelled_otherwise(cancer):
    X, y = cancer
    model = MLPClassifier(hidden_layer_sizes=(3,), warm_start=True, max_epochs=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
        epochs = model.n_epochs_
        model.set_params(hidden_layer_sizes=3).fit(X, y)  # 3 and (3,) are one architecture
    assert model.n_epochs_ == epochs + 2


def test_a_warm_start_of_a_linear_model_refuses_a_changed_intercept(cancer):
    X, y = cancer
    model = LogisticRegression(warm_start=True).fit(X, y)
    model.set_params(fit_intercept=False)
    with pytest.raises(ValueError, match=r"`fit_intercept`.*warm_start=False"):
        model.fit(X, y)


# ------------------------------------------------------------------------------------------------
# labels: absent, mixed types; fitting before predict; seeds
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("metric", [f1_score, precision_score, recall_score])
@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
def test_scores_of_labels_absent_from_the_data_warn(metric, average):
    with pytest.warns(UndefinedMetricWarning, match="ill-defined"):
        value = metric([0, 1, 0, 1], [0, 1, 1, 1], labels=[5, 6], average=average)
    np.testing.assert_array_equal(value, 0.0)


def test_predict_before_fit_is_not_fitted_error(cancer):
    X, _ = cancer
    for model in (MLPClassifier(), MLPRegressor(), LogisticRegression(), LinearRegression()):
        with pytest.raises(NotFittedError, match="is not fitted yet"):
            model.predict(X)


MIXED = np.array([1, "a", 2, "b"] * 10, dtype=object)


@pytest.mark.parametrize("call", [
    lambda X: LogisticRegression().fit(X, MIXED),
    lambda X: MLPClassifier(max_epochs=1).partial_fit(X, MIXED),
    lambda X: list(StratifiedKFold(2).split(X, MIXED)),
    lambda X: train_test_split(X, MIXED, stratify=MIXED),
    lambda X: cross_val_score(LogisticRegression(), X, MIXED, cv=2),
])
def test_labels_of_mixed_types_name_y(call):
    X = np.random.default_rng(0).normal(size=(len(MIXED), 2))
    with pytest.raises(ValueError, match=r"`(y|stratify)` mixes labels of types int, str"):
        call(X)


def test_a_none_among_labels_names_y():
    X = np.random.default_rng(0).normal(size=(6, 2))
    with pytest.raises(ValueError, match=r"`y` mixes labels of types NoneType, int"):
        LogisticRegression().fit(X, np.array([1, None, 1, None, 2, 2], dtype=object))


@pytest.mark.parametrize("call, name", [
    (lambda X, y: LogisticRegression(random_state=-1).fit(X, y), "random_state"),
    (lambda X, y: MLPClassifier(random_state=-5, max_epochs=1).fit(X, y), "random_state"),
    (lambda X, y: train_test_split(X, y, random_state=-1), "random_state"),
    (lambda X, y: Study({"x": Real(0, 1)}, seed=-1), "seed"),
])
def test_a_negative_seed_names_the_argument(cancer, call, name):
    X, y = cancer
    with pytest.raises(ValueError, match=rf"`{name}` must be a non-negative int seed.*; got -\d"):
        call(X, y)


# ------------------------------------------------------------------------------------------------
# grids too large to list
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def no_listing(monkeypatch):
    """Fail a test that lists the values of a grid axis: a size is computed, not counted."""
    def refuse(self, n_points=None):
        raise AssertionError(f"{self!r}.grid() listed its values")

    for cls in (space_module.Real, space_module.Integer):
        monkeypatch.setattr(cls, "grid", refuse)


def test_grid_size_is_computed_without_listing_the_axes(no_listing):
    space = Space({"x": Real(0, 1), "n": Integer(0, 10**12), "c": ["a", "b"]})
    assert space.grid_shape(10**12) == (10**12, 10**12 + 1, 2)
    assert space.grid_size(10**12) == 10**12 * (10**12 + 1) * 2
    assert space.grid_size({"x": 3}) == 3 * (10**12 + 1) * 2


@pytest.mark.parametrize("space, searcher, shape", [
    ({"x": Real(0, 1)}, GridSearch(n_points=10**12), "1,000,000,000,000"),
    ({"n": Integer(0, 10**12)}, GridSearch(), "1,000,000,000,001"),
    ({"x": Real(0, 1), "y": Real(0, 1)}, GridSearch(n_points={"x": 10**9}), "1,000,000,000 x 10"),
])
def test_a_grid_over_max_grid_size_is_refused_before_it_is_built(no_listing, space, searcher, shape):
    with pytest.raises(ValueError, match=rf"\({shape}\), more than `max_grid_size`=100,000"):
        Study(space, searcher)


def test_a_grid_within_max_grid_size_is_built_as_before():
    study = Study({"x": Real(0, 1), "n": Integer(0, 2)}, GridSearch(n_points=3), seed=0)
    assert study.searcher.size() == 9
    points = [study.ask().params for _ in range(9)]
    assert points[:3] == [{"x": 0.0, "n": 0}, {"x": 0.0, "n": 1}, {"x": 0.0, "n": 2}]
    assert points[-1] == {"x": 1.0, "n": 2}



@pytest.mark.parametrize("s, t", [(1e-300, 1.0), (1e-160, 1.0), (1e-100, 1e-300), (1e160, 1.0), (1e300, 1e300),
                                  (1e-150, 1e-150)])
def test_the_exact_least_squares_solve_is_right_at_any_magnitude(s, t):
    """w(s X, t y) = (t / s) w(X, y) and b(s X, t y) = t b(X, y) for the unpenalised least-squares solution."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = X @ [1.0, -2.0, 0.5, 3.0] + 0.3 + 0.1 * rng.normal(size=200)
    reference = LinearRegression().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow in the normal equations
        model = LinearRegression().fit(X * s, y * t)
    np.testing.assert_allclose(model.coef_ * (s / t), reference.coef_, rtol=1e-12)
    np.testing.assert_allclose(model.intercept_ / t, reference.intercept_, rtol=1e-12)


def test_least_squares_weights_beyond_float64_are_refused():
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match=r"the least-squares weights overflow float64.*StandardScaler"):
        LinearRegression().fit(X * 1e-300, X[:, 0] * 1e300)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_grid_shape_counts_what_the_grid_lists(data):
    dims = {}
    for i in range(data.draw(st.integers(1, 3))):
        kind = data.draw(st.sampled_from(["real", "integer", "categorical"]))
        low = data.draw(st.integers(-5, 5))
        dims[f"d{i}"] = {"real": Real(float(low), low + 1.5), "integer": Integer(low, low + data.draw(st.integers(1, 4))),
                         "categorical": ["a", "b", "c"][:data.draw(st.integers(1, 3))]}[kind]
    space = Space(dims)
    n_points = data.draw(st.one_of(st.integers(1, 4), st.fixed_dictionaries({}, optional={"d0": st.integers(1, 4)})))
    assert space.grid_shape(n_points) == tuple(len(axis) for axis in space.grid_axes(n_points))
    assert space.grid_size(n_points) == len(space.grid(n_points))


@settings(max_examples=30, deadline=None)
@given(e=st.integers(-300, 300), f=st.integers(-300, 300), seed=st.integers(0, 2**32 - 1))
def test_the_exact_solve_scales_as_the_data_at_any_magnitude(e, f, seed):
    """w(2^e X, 2^f y) = 2^(f-e) w(X, y) and b = 2^f b(X, y), to the last bit where the result is a normal float."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 3))
    y = X @ rng.normal(size=3) + rng.normal() + 0.1 * rng.normal(size=30)
    reference = LinearRegression().fit(X, y)
    model = LinearRegression().fit(np.ldexp(X, e), np.ldexp(y, f))
    if np.abs(np.ldexp(reference.coef_, f - e)).min() > np.finfo(float).tiny * 2**60:  # representable, normal
        np.testing.assert_allclose(np.ldexp(model.coef_, e - f), reference.coef_, rtol=1e-12)
    np.testing.assert_allclose(np.ldexp(model.intercept_, -f), reference.intercept_, rtol=1e-12)
