"""Shipped data sets (shapes, counts, identity with scikit-learn's copies) and seeded generators."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.core import datasets
from tunelab.core.datasets import (
    load_breast_cancer,
    load_digits,
    load_wine,
    make_classification,
    make_moons,
    make_regression,
    make_xor,
)
from tunelab.core.datasets._loaders import DATA_DIR

LOADERS = {
    "digits": (load_digits, (1797, 64), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]),
    "breast_cancer": (load_breast_cancer, (569, 30), [212, 357]),
    "wine": (load_wine, (178, 13), [59, 71, 48]),
}


# ----------------------------------------------------------------------------- shipped data


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_loader_shapes_dtypes_and_class_counts(name):
    loader, shape, counts = LOADERS[name]
    X, y = loader()
    assert X.shape == shape and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (shape[0],) and y.dtype == np.int64
    assert np.bincount(y).tolist() == counts
    assert np.isfinite(X).all()


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_loader_names(name):
    loader, shape, counts = LOADERS[name]
    X, y, feature_names, target_names = loader(return_names=True)
    assert len(feature_names) == shape[1] and len(set(feature_names)) == shape[1]
    assert len(target_names) == len(counts)
    assert np.array_equal(X, loader()[0])


def test_digits_are_pixel_counts_0_to_16():
    X, _ = load_digits()
    assert np.array_equal(X, np.round(X)) and X.min() == 0 and X.max() == 16


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_loaders_equal_sklearn(name):
    sk_datasets = pytest.importorskip("sklearn.datasets")
    loader = LOADERS[name][0]
    X, y, feature_names, target_names = loader(return_names=True)
    reference = getattr(sk_datasets, f"load_{name}")()
    np.testing.assert_array_equal(X, reference.data)
    np.testing.assert_array_equal(y, reference.target)
    assert list(feature_names) == [str(f) for f in reference.feature_names]
    assert list(target_names) == [str(t) for t in reference.target_names]


def test_data_files_and_attribution_are_shipped():
    for name in LOADERS:
        assert (DATA_DIR / f"{name}.csv.gz").is_file()
    text = (DATA_DIR / "DATA_LICENSE.txt").read_text()
    for needle in ("CC BY 4.0", "Alpaydin", "Wolberg", "Forina", "UCI Machine Learning Repository"):
        assert needle in text


def test_loader_rejects_non_bool_return_names():
    with pytest.raises(TypeError, match="return_names"):
        load_wine(return_names="yes")


def test_public_names():
    assert set(datasets.__all__) == {
        "load_breast_cancer", "load_digits", "load_wine",
        "make_classification", "make_moons", "make_regression", "make_xor",
    }


# ----------------------------------------------------------------------------- make_classification


def _nearest_vertex_accuracy(X, y, n_informative):
    """Label each row by the class whose informative-column mean is closest; fraction matching y."""
    Z = X[:, :n_informative]
    centres = np.array([Z[y == k].mean(axis=0) for k in np.unique(y)])
    guess = np.argmin(((Z[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    return np.mean(guess == y)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 60), n_informative=st.integers(1, 4), n_redundant=st.integers(0, 3),
       n_noise=st.integers(0, 3), n_classes=st.integers(2, 5), seed=st.integers(0, 2**32 - 1))
def test_make_classification_shapes_counts_and_determinism(n, n_informative, n_redundant, n_noise, n_classes, seed):
    n_classes = min(n_classes, 2**n_informative)
    d = n_informative + n_redundant + n_noise
    kwargs = dict(n_informative=n_informative, n_redundant=n_redundant, n_classes=n_classes, flip_y=0.0,
                  random_state=seed)
    X, y = make_classification(n, d, **kwargs)
    assert X.shape == (n, d) and X.dtype == np.float64 and y.dtype == np.int64
    # with flip_y = 0, classes get floor(n / K) samples, the first n % K classes one more
    expected = np.full(n_classes, n // n_classes)
    expected[: n % n_classes] += 1
    assert np.bincount(y, minlength=n_classes).tolist() == expected.tolist()
    X2, y2 = make_classification(n, d, **kwargs)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_make_classification_different_seeds_differ():
    X0, _ = make_classification(50, 5, random_state=0)
    X1, _ = make_classification(50, 5, random_state=1)
    assert not np.array_equal(X0, X1)


def test_make_classification_redundant_columns_are_linear_in_informative_ones():
    X, _ = make_classification(200, 8, n_informative=3, n_redundant=2, random_state=3)
    informative, redundant = X[:, :3], X[:, 3:5]
    B, *_ = np.linalg.lstsq(informative, redundant, rcond=None)
    np.testing.assert_allclose(informative @ B, redundant, atol=1e-10)
    noise = X[:, 5:]
    _, residual, *_ = np.linalg.lstsq(informative, noise, rcond=None)
    assert (residual > 1.0).all()  # noise columns are not explained by the informative ones


def test_make_classification_clusters_sit_on_hypercube_vertices():
    class_sep = 4.0
    X, y = make_classification(3000, 3, n_informative=3, n_redundant=0, n_classes=4, class_sep=class_sep,
                               flip_y=0.0, random_state=0)
    for k in range(4):
        centre = X[y == k].mean(axis=0)
        np.testing.assert_allclose(np.abs(centre), class_sep, atol=0.15)  # +-class_sep in each coordinate
        np.testing.assert_allclose(X[y == k].std(axis=0), 1.0, atol=0.1)  # unit Gaussian around it
    centres = np.sign([X[y == k].mean(axis=0) for k in range(4)])
    assert len(np.unique(centres, axis=0)) == 4  # distinct vertices


def test_make_classification_flip_y_fraction():
    # well separated clusters: a label disagrees with its cluster when flipped to another class,
    # which happens with probability flip_y * (K - 1) / K
    X, y = make_classification(6000, 2, n_informative=2, n_redundant=0, class_sep=6.0, flip_y=0.4,
                               random_state=1)
    signs = (X[:, :2] > 0).astype(int)
    cluster = np.unique(signs, axis=0, return_inverse=True)[1].ravel()  # the two occupied quadrants
    agree = max(np.mean(cluster == y), np.mean(cluster != y))
    assert abs((1 - agree) - 0.4 * 0.5) < 0.02


def test_make_classification_weights():
    _, y = make_classification(1000, 4, weights=[0.9], flip_y=0.0, random_state=0)
    assert np.bincount(y).tolist() == [900, 100]
    _, y = make_classification(100, 4, n_classes=3, weights=[2, 1, 1], flip_y=0.0, random_state=0)
    assert np.bincount(y).tolist() == [50, 25, 25]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_samples=0), ValueError, "n_samples"),
    (dict(n_samples=10.0), TypeError, "n_samples"),
    (dict(n_features=3, n_informative=2, n_redundant=2), ValueError, "n_features"),
    (dict(n_informative=1, n_classes=3), ValueError, "n_classes"),
    (dict(n_classes=1), ValueError, "n_classes"),
    (dict(flip_y=1.5), ValueError, "flip_y"),
    (dict(class_sep=-1.0), ValueError, "class_sep"),
    (dict(weights=[0.5, 0.3, 0.2]), ValueError, "weights"),
    (dict(weights=[-0.5, 1.5]), ValueError, "weights"),
    (dict(random_state="seed"), TypeError, "random_state"),
])
def test_make_classification_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_classification(**kwargs)


# ----------------------------------------------------------------------------- make_regression


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 50), d=st.integers(1, 8), k=st.integers(0, 10), bias=st.floats(-10, 10),
       seed=st.integers(0, 2**32 - 1))
def test_make_regression_is_exactly_linear_without_noise(n, d, k, bias, seed):
    X, y, w = make_regression(n, d, n_informative=k, bias=bias, coef=True, random_state=seed)
    assert X.shape == (n, d) and y.shape == (n,) and w.shape == (d,)
    np.testing.assert_allclose(y, X @ w + bias, rtol=1e-12, atol=1e-9)
    k = min(k, d)
    assert (w[k:] == 0).all() and (w[:k] > 0).all() and (w <= 100).all()
    X2, y2 = make_regression(n, d, n_informative=k, bias=bias, random_state=seed)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_make_regression_noise_level():
    X, y, w = make_regression(20000, 3, noise=2.5, coef=True, random_state=0)
    residual = y - X @ w
    assert abs(residual.std() - 2.5) < 0.05 and abs(residual.mean()) < 0.05


@pytest.mark.parametrize("kwargs, error", [
    (dict(noise=-1.0), ValueError), (dict(n_features=0), ValueError), (dict(coef=1), TypeError),
    (dict(n_informative=-1), ValueError),
])
def test_make_regression_bad_input(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        make_regression(**kwargs)


# ----------------------------------------------------------------------------- make_moons / make_xor


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 80), seed=st.integers(0, 2**32 - 1))
def test_make_moons_points_lie_on_the_two_half_circles(n, seed):
    X, y = make_moons(n, random_state=seed)
    assert X.shape == (n, 2) and y.dtype == np.int64
    assert np.bincount(y, minlength=2).tolist() == [n // 2, n - n // 2]
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert (upper[:, 1] >= -1e-12).all() and (lower[:, 1] <= 0.5 + 1e-12).all()


def test_make_moons_noise_and_determinism():
    X, y = make_moons(400, noise=0.1, random_state=7)
    X2, y2 = make_moons(400, noise=0.1, random_state=7)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    radius = np.hypot(X[y == 0, 0], X[y == 0, 1])
    assert 0.05 < np.std(radius - 1.0) < 0.15


def test_make_moons_equals_sklearn_without_noise():
    sk_datasets = pytest.importorskip("sklearn.datasets")
    X, y = make_moons(51, shuffle=False)
    X_ref, y_ref = sk_datasets.make_moons(51, shuffle=False)
    np.testing.assert_allclose(X, X_ref, atol=1e-15)
    np.testing.assert_array_equal(y, y_ref)


def test_make_moons_bad_input():
    with pytest.raises(ValueError, match="noise"):
        make_moons(10, noise=-0.1)
    with pytest.raises(TypeError, match="shuffle"):
        make_moons(10, shuffle="no")


def test_make_xor_labels_and_determinism():
    X, y = make_xor(500, n_features=3, random_state=0)
    assert X.shape == (500, 3) and ((X >= -1) & (X <= 1)).all()
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    assert 0.4 < y.mean() < 0.6
    X2, y2 = make_xor(500, n_features=3, random_state=0)
    np.testing.assert_array_equal(X, X2)
    with pytest.raises(ValueError, match="n_features"):
        make_xor(10, n_features=1)
