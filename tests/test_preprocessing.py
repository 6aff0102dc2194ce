"""StandardScaler: z = (x - mean) / std per column; round trip, constant columns, sklearn agreement."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tunelab.core.validation import NotFittedError
from tunelab.core.base import clone
from tunelab.core.preprocessing import StandardScaler


def test_by_hand():
    X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    scaler = StandardScaler().fit(X)
    np.testing.assert_array_equal(scaler.mean_, [3.0, 10.0])
    np.testing.assert_allclose(scaler.var_, [8 / 3, 0.0])
    np.testing.assert_allclose(scaler.scale_, [np.sqrt(8 / 3), 1.0])  # zero variance -> scale 1
    assert scaler.n_features_in_ == 2 and scaler.n_samples_seen_ == 3
    Z = scaler.transform(X)
    np.testing.assert_allclose(Z[:, 0], np.array([-2.0, 0.0, 2.0]) / np.sqrt(8 / 3))
    np.testing.assert_array_equal(Z[:, 1], 0.0)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 30), d=st.integers(1, 5), seed=st.integers(0, 2**32 - 1),
       loc=st.floats(-1e3, 1e3), spread=st.floats(1e-3, 1e3))
@example(n=2, d=2, seed=259, loc=512.0, spread=0.001)
def test_standardises_and_round_trips(n, d, seed, loc, spread):
    rng = np.random.default_rng(seed)
    X = loc + spread * rng.normal(size=(n, d))
    X[:, 0] = loc  # one constant column
    scaler = StandardScaler()
    Z = scaler.fit_transform(X)
    # the mean, rounded to float64, is off by up to half an ulp of |loc|, which shifts z by that over the column's
    # std (n=2, loc=512, std 4e-5: 1.4e-9)
    rounding = np.finfo(float).eps * (abs(loc) + spread) / np.maximum(X[:, 1:].std(axis=0), 1e-300)
    np.testing.assert_allclose(Z[:, 1:].mean(axis=0), 0.0, atol=1e-9 + float(rounding.max(initial=0.0)))
    np.testing.assert_allclose(Z[:, 1:].std(axis=0), 1.0, rtol=1e-9)
    np.testing.assert_array_equal(Z[:, 0], 0.0)
    np.testing.assert_allclose(scaler.inverse_transform(Z), X, rtol=1e-12, atol=1e-9 * (abs(loc) + spread))
    np.testing.assert_array_equal(Z, scaler.transform(X))


@pytest.mark.parametrize("with_mean, with_std", [(True, True), (True, False), (False, True), (False, False)])
def test_agrees_with_sklearn(with_mean, with_std):
    skp = pytest.importorskip("sklearn.preprocessing")
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, size=(40, 4))
    X[:, 2] = 7.0
    ours = StandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
    theirs = skp.StandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
    for name in ("mean_", "var_", "scale_"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    X_new = rng.normal(size=(5, 4))
    np.testing.assert_allclose(ours.transform(X_new), theirs.transform(X_new), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(X_new), theirs.inverse_transform(X_new), rtol=1e-12)


def test_does_not_modify_or_return_the_input():
    X = np.array([[1.0, 2.0], [3.0, 5.0]])
    before = X.copy()
    scaler = StandardScaler(with_mean=False, with_std=False).fit(X)
    Z = scaler.transform(X)
    np.testing.assert_array_equal(Z, X)
    assert Z is not X
    StandardScaler().fit(X).transform(X)
    StandardScaler().fit(X).inverse_transform(X)
    np.testing.assert_array_equal(X, before)


def test_params_and_clone():
    scaler = StandardScaler(with_mean=False)
    assert scaler.get_params() == {"with_mean": False, "with_std": True}
    copy = clone(scaler.fit(np.ones((3, 2))))
    assert copy.get_params() == scaler.get_params() and not hasattr(copy, "mean_")


def test_bad_input():
    with pytest.raises(NotFittedError, match="not fitted"):
        StandardScaler().transform(np.ones((2, 2)))
    scaler = StandardScaler().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="2 features"):
        scaler.transform(np.ones((3, 3)))
    with pytest.raises(ValueError, match="2 features"):
        scaler.inverse_transform(np.ones((3, 1)))
    with pytest.raises(ValueError, match="NaN"):
        StandardScaler().fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match="empty"):
        StandardScaler().fit(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="2-D"):
        StandardScaler().fit(np.arange(3.0))
    with pytest.raises(TypeError, match="with_mean"):
        StandardScaler(with_mean=1).fit(np.ones((2, 2)))
