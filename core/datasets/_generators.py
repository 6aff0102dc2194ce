"""Synthetic data sets for tests and examples; every random draw comes from one seeded Generator.

Same `random_state` (an int) -> the same arrays. The generators follow scikit-learn's
`sklearn.datasets.make_*` in spirit and signature, not bit for bit.
"""

import numbers

import numpy as np

from tunelab.core.validation import check_bool, check_random_state, check_scalar


def _class_sizes(n_samples, n_classes, weights):
    """n_k = floor(n * w_k), then one more to the classes with the largest remainders n * w_k - n_k
    (ties: lower class first); returns int64 (K,)."""
    if weights is None:
        w = np.full(n_classes, 1.0 / n_classes)
    else:
        w = np.asarray(weights, dtype=np.float64).ravel()
        if len(w) == n_classes - 1:  # scikit-learn's shorthand: the last class gets the rest
            w = np.append(w, 1.0 - w.sum())
        if len(w) != n_classes or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError(
                f"`weights` must hold n_classes={n_classes} (or n_classes - 1 summing to <= 1) "
                f"non-negative finite numbers with a positive sum; got {weights!r}."
            )
        w = w / w.sum()
    exact = n_samples * w
    sizes = np.floor(exact + 1e-9).astype(np.int64)
    remainder = np.round(exact - sizes, 9)  # rounded so that equal shares tie exactly
    for k in np.argsort(-remainder, kind="stable")[: n_samples - int(sizes.sum())]:
        sizes[k] += 1
    return sizes


def _hypercube_vertices(n_vertices, n_dims, rng):
    """n_vertices distinct random vertices of {-1, +1}^n_dims; returns float64 (n_vertices, n_dims)."""
    if n_dims <= 20:
        index = rng.choice(2**n_dims, size=n_vertices, replace=False)  # (n_vertices,)
        bits = (index[:, None] >> np.arange(n_dims)) & 1  # (n_vertices, n_dims)
        return 2.0 * bits - 1.0
    while True:  # 2^n_dims >= 2^21 vertices: a repeat is so unlikely that redrawing is cheap
        V = rng.choice([-1.0, 1.0], size=(n_vertices, n_dims))
        if len(np.unique(V, axis=0)) == n_vertices:
            return V


def make_classification(n_samples=100, n_features=20, *, n_informative=2, n_redundant=2, n_classes=2,
                        class_sep=1.0, flip_y=0.01, weights=None, random_state=None):
    """A classification problem with one Gaussian cluster per class at a vertex of a hypercube.

    Informative features: x = class_sep * v_k + e, e ~ N(0, I), where v_k in {-1, +1}^n_informative is a
    distinct random vertex per class (so n_classes <= 2^n_informative). Redundant features are random
    linear combinations x @ B, B ~ U(-1, 1); the remaining features are N(0, 1) noise. Columns come in
    that order (informative, redundant, noise); rows are shuffled. Then a fraction `flip_y` of the labels
    is replaced by a class drawn uniformly (it may equal the old one), as in scikit-learn.

    Returns (X float64 (n_samples, n_features), y int64 (n_samples,) in 0..n_classes-1).
    Unlike scikit-learn there is one cluster per class, no random covariance per cluster and no column
    shuffle. Source of the design: I. Guyon, "Design of experiments for the NIPS 2003 variable selection
    benchmark" (2003), as used by sklearn.datasets.make_classification.
    """
    check_scalar(n_samples, "n_samples", numbers.Integral, low=1)
    check_scalar(n_features, "n_features", numbers.Integral, low=1)
    check_scalar(n_informative, "n_informative", numbers.Integral, low=1)
    check_scalar(n_redundant, "n_redundant", numbers.Integral, low=0)
    check_scalar(n_classes, "n_classes", numbers.Integral, low=2)
    check_scalar(class_sep, "class_sep", numbers.Real, low=0)
    check_scalar(flip_y, "flip_y", numbers.Real, low=0, high=1)
    if n_informative + n_redundant > n_features:
        raise ValueError(
            f"`n_informative` + `n_redundant` must be <= `n_features`; got {n_informative} + {n_redundant} "
            f"> {n_features}."
        )
    if n_classes > 2**n_informative:
        raise ValueError(
            f"`n_classes` must be <= 2**n_informative (one hypercube vertex per class); got n_classes="
            f"{n_classes} with n_informative={n_informative}. Raise n_informative."
        )
    sizes = _class_sizes(n_samples, n_classes, weights)
    rng = check_random_state(random_state)

    V = class_sep * _hypercube_vertices(n_classes, n_informative, rng)  # (K, n_informative)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), sizes)  # (n,)
    X_informative = V[y] + rng.standard_normal((n_samples, n_informative))  # (n, n_informative)
    B = rng.uniform(-1.0, 1.0, size=(n_informative, n_redundant))
    X_redundant = X_informative @ B  # (n, n_redundant)
    X_noise = rng.standard_normal((n_samples, n_features - n_informative - n_redundant))
    X = np.hstack([X_informative, X_redundant, X_noise])  # (n, n_features)

    flip = rng.random(n_samples) < flip_y
    y[flip] = rng.integers(0, n_classes, size=int(flip.sum()))
    order = rng.permutation(n_samples)
    return np.ascontiguousarray(X[order]), y[order]


def make_regression(n_samples=100, n_features=10, *, n_informative=10, noise=0.0, bias=0.0, coef=False,
                    random_state=None):
    """A linear regression problem: y = X w + bias + noise * e, X and e ~ N(0, 1).

    The first min(n_informative, n_features) entries of w are drawn from 100 * U(0, 1), the others are 0
    (as scikit-learn's ground truth, without its column shuffle).
    Returns (X float64 (n, d), y float64 (n,)), or (X, y, w) with w float64 (d,) when `coef=True`.
    """
    check_scalar(n_samples, "n_samples", numbers.Integral, low=1)
    check_scalar(n_features, "n_features", numbers.Integral, low=1)
    check_scalar(n_informative, "n_informative", numbers.Integral, low=0)
    check_scalar(noise, "noise", numbers.Real, low=0)
    check_scalar(bias, "bias", numbers.Real)
    check_bool(coef, "coef")
    rng = check_random_state(random_state)
    n_informative = min(n_informative, n_features)

    X = rng.standard_normal((n_samples, n_features))  # (n, d)
    w = np.zeros(n_features)
    w[:n_informative] = 100.0 * rng.uniform(size=n_informative)
    y = X @ w + bias  # (n,)
    if noise > 0:
        y = y + noise * rng.standard_normal(n_samples)
    return (X, y, w) if coef else (X, y)


def make_moons(n_samples=100, *, shuffle=True, noise=None, random_state=None):
    """Two interleaving half circles in 2-D: a classic data set that no straight line separates.

    Upper moon (class 0): (cos t, sin t); lower moon (class 1): (1 - cos t, 1/2 - sin t), t in [0, pi]
    on an even grid, floor(n/2) points up and the rest down; then Gaussian noise of std `noise` (if given).
    Returns (X float64 (n, 2), y int64 (n,)). Same construction as sklearn.datasets.make_moons.
    """
    check_scalar(n_samples, "n_samples", numbers.Integral, low=1)
    check_scalar(noise, "noise", numbers.Real, low=0, allow_none=True)
    check_bool(shuffle, "shuffle")
    rng = check_random_state(random_state)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    X = np.vstack([
        np.column_stack([np.cos(t_upper), np.sin(t_upper)]),
        np.column_stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)]),
    ])  # (n, 2)
    y = np.concatenate([np.zeros(n_upper, np.int64), np.ones(n_lower, np.int64)])
    if shuffle:
        order = rng.permutation(n_samples)
        X, y = X[order], y[order]
    if noise:
        X = X + noise * rng.standard_normal(X.shape)
    return np.ascontiguousarray(X), y


def make_xor(n_samples=100, *, n_features=2, noise=0.0, random_state=None):
    """XOR: x ~ U(-1, 1)^d, y = [x_0 > 0] xor [x_1 > 0]; then Gaussian noise of std `noise` on X.

    The label is read from the clean first two features, so with noise > 0 some points cross the axes.
    Extra features (n_features > 2) are pure noise. Returns (X float64 (n, d), y int64 (n,)).
    """
    check_scalar(n_samples, "n_samples", numbers.Integral, low=1)
    check_scalar(n_features, "n_features", numbers.Integral, low=2)
    check_scalar(noise, "noise", numbers.Real, low=0)
    rng = check_random_state(random_state)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, n_features))  # (n, d)
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)
    if noise > 0:
        X = X + noise * rng.standard_normal(X.shape)
    return X, y
