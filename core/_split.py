"""Splitters: train_test_split, KFold, StratifiedKFold, fixed (train, test) pairs, and check_cv.

A splitter's `split(X, y)` yields (train, test) pairs of int64 index arrays that partition the rows,
with scikit-learn's fold sizes and allocation. Exported from `tunelab.core.model_selection`.
"""

import math
import numbers
import warnings

import numpy as np

from tunelab.core.base import BaseEstimator
from tunelab.core.validation import check_bool, check_random_state, check_scalar, is_class_labels, unique_labels


# ----------------------------------------------------------------------------- indexing helpers


def _num_samples(a, name="X"):
    shape = getattr(a, "shape", None)
    if shape is not None and len(shape) >= 1:
        return int(shape[0])
    if hasattr(a, "__len__") and not isinstance(a, (str, bytes)):
        return len(a)
    if hasattr(a, "__array__"):  # array-likes that only convert to an array
        return _num_samples(np.asarray(a), name)
    raise TypeError(f"`{name}` must be an array-like with a length; got {type(a).__name__}.")


def _take(a, index):
    """Rows `index` of an array, a pandas object (via .iloc), a list (returned as a list), a sparse matrix."""
    if a is None:
        return None
    if isinstance(a, np.ndarray):
        return a[index]
    if hasattr(a, "iloc"):
        return a.iloc[index]
    if isinstance(a, (list, tuple)):
        return [a[i] for i in index]
    if hasattr(a, "tocsr"):  # scipy sparse, in any format: rows of its CSR form
        return a.tocsr()[index]
    if hasattr(a, "shape") and hasattr(a, "__getitem__"):  # other array types
        return a[index]
    return np.asarray(a)[index]


# ----------------------------------------------------------------------------- train_test_split


def _check_size(value, name, n):
    """None, an int count in [1, n - 1] or a float fraction in (0, 1)."""
    if value is None:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):  # a count: 1 to n_samples - 1
        return int(check_scalar(value, name, numbers.Integral, low=1, high=n - 1))
    if isinstance(value, numbers.Real) and not isinstance(value, bool):  # a fraction
        return float(check_scalar(value, name, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False))
    raise TypeError(f"`{name}` must be an int, a float or None; got {value!r}.")


def _split_sizes(n, test_size, train_size):
    """(n_train, n_test) from float fractions (test rounds up, train down) or int counts, as scikit-learn."""
    if test_size is None and train_size is None:
        test_size = 0.25
    test_size, train_size = _check_size(test_size, "test_size", n), _check_size(train_size, "train_size", n)
    if isinstance(test_size, float) and isinstance(train_size, float) and test_size + train_size > 1:
        raise ValueError(f"`test_size` + `train_size` must be <= 1; got {test_size} + {train_size}.")
    n_test = (math.ceil(test_size * n) if isinstance(test_size, float) else test_size)
    n_train = (math.floor(train_size * n) if isinstance(train_size, float) else train_size)
    if n_test is None:
        n_test = n - n_train
    if n_train is None:
        n_train = n - n_test
    if n_train + n_test > n:
        raise ValueError(f"train and test sizes {n_train} + {n_test} exceed n_samples={n}.")
    if n_train == 0 or n_test == 0:
        raise ValueError(
            f"With n_samples={n}, test_size={test_size} and train_size={train_size} one of the sets is empty; "
            "adjust the sizes."
        )
    return n_train, n_test


def _apportion(counts, n_draws, rng):
    """Split n_draws over classes in proportion to counts: floor(n_draws * c_k / sum c), then one more to
    the classes with the largest remainders (ties broken at random); never more than c_k. int64 (K,)."""
    exact = n_draws * counts / counts.sum()
    share = np.floor(exact).astype(np.int64)
    remainder = exact - share
    for k in np.lexsort((rng.random(len(counts)), -remainder)):
        if share.sum() == n_draws:
            break
        if share[k] < counts[k]:
            share[k] += 1
    return share


def _stratified_split(y, n_train, n_test, rng):
    classes, codes = unique_labels(np.asarray(y), "stratify", return_inverse=True)
    counts = np.bincount(codes)
    if counts.min() < 2:
        raise ValueError(
            f"The least populated class in `stratify` has only {counts.min()} member; every class needs at least 2."
        )
    for size, name in ((n_train, "train"), (n_test, "test")):
        if size < len(classes):
            raise ValueError(f"The {name} size {size} must be >= the number of classes {len(classes)} to stratify.")
    train_per_class = _apportion(counts, n_train, rng)
    test_per_class = _apportion(counts - train_per_class, n_test, rng)
    train, test = [], []
    for k in range(len(classes)):
        members = rng.permutation(np.flatnonzero(codes == k))
        train.append(members[:train_per_class[k]])
        test.append(members[train_per_class[k]:train_per_class[k] + test_per_class[k]])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def train_test_split(*arrays, test_size=None, train_size=None, random_state=None, shuffle=True, stratify=None):
    """Split each array into a random train part and test part (the same rows for every array).

    Sizes: a float is a fraction (test rounded up, train down), an int a count; with both None the test
    part is 25%. `stratify` (labels) keeps the class proportions in both parts. shuffle=False takes the
    first rows for training, the next ones for testing.
    Returns [a_train, a_test, b_train, b_test, ...].
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array.")
    n = _num_samples(arrays[0], "arrays[0]")
    for i, a in enumerate(arrays[1:], start=1):
        n_i = n if a is None else _num_samples(a, f"arrays[{i}]")
        if n_i != n:
            raise ValueError(f"All arrays must have the same length; arrays[0] has {n}, arrays[{i}] has {n_i}.")
    if n == 0:
        raise ValueError("Cannot split empty arrays.")
    n_train, n_test = _split_sizes(n, test_size, train_size)
    check_bool(shuffle, "shuffle")
    if not shuffle:
        if stratify is not None:
            raise ValueError("Stratified splitting needs shuffle=True.")
        train, test = np.arange(n_train), np.arange(n_train, n_train + n_test)
    else:
        rng = check_random_state(random_state)
        if stratify is not None:
            if _num_samples(stratify, "stratify") != n:
                raise ValueError(f"`stratify` must have {n} labels; got {_num_samples(stratify)}.")
            train, test = _stratified_split(stratify, n_train, n_test, rng)
        else:
            perm = rng.permutation(n)
            train, test = perm[:n_train], perm[n_train:n_train + n_test]
    out = []
    for a in arrays:
        out += [_take(a, train), _take(a, test)]
    return out


# ----------------------------------------------------------------------------- K-fold splitters


class KFold(BaseEstimator):
    """K consecutive folds (after a seeded shuffle if `shuffle`); each fold is the test set once.

    The first n % K folds get n // K + 1 samples, the others n // K. With an int `random_state` every call
    of `split` gives the same folds.
    """

    def __init__(self, n_splits=5, shuffle=False, random_state=None):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state
        self._check_params()

    def _check_params(self):
        check_scalar(self.n_splits, "n_splits", numbers.Integral, low=2)
        check_bool(self.shuffle, "shuffle")
        if not self.shuffle and self.random_state is not None:
            raise ValueError("Setting `random_state` has no effect since `shuffle` is False; "
                             "set shuffle=True or leave random_state=None.")

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits

    def _check_n(self, X):
        n = _num_samples(X)
        if self.n_splits > n:
            raise ValueError(f"Cannot have `n_splits`={self.n_splits} greater than the number of samples "
                             f"n_samples={n}.")
        return n

    def _test_folds(self, X, y):
        """fold[i] = index of the fold whose test set holds sample i; int64 (n,)."""
        n = self._check_n(X)
        order = check_random_state(self.random_state).permutation(n) if self.shuffle else np.arange(n)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        fold = np.empty(n, dtype=np.int64)
        fold[order] = np.repeat(np.arange(self.n_splits), sizes)
        return fold

    def split(self, X, y=None, groups=None):
        """Yield (train, test) int64 index arrays, each sorted, for k = 0..n_splits-1."""
        self._check_params()
        fold = self._test_folds(X, y)
        for k in range(self.n_splits):
            yield np.flatnonzero(fold != k).astype(np.int64), np.flatnonzero(fold == k).astype(np.int64)


class StratifiedKFold(KFold):
    """K folds that keep each class's share: a class with c members has floor or ceil of c/K in each fold.

    Scikit-learn's allocation: deal the label-sorted samples round robin over the folds to get the count of
    each class per fold; within a class, samples go to folds in data order (in a seeded random order when
    `shuffle`). A class with fewer than K members gives a warning; all classes below K, an error.
    """

    def _test_folds(self, X, y):
        n = self._check_n(X)
        if y is None:
            raise ValueError("StratifiedKFold.split needs the class labels `y`.")
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1 or len(y) != n:
            raise ValueError(f"`y` must be 1-D with one label per row of X ({n}); got shape {y.shape}.")
        if not is_class_labels(y):
            raise ValueError("StratifiedKFold needs class labels; `y` looks continuous. Use KFold for regression.")
        _, first_index, inverse = unique_labels(y, "y", return_index=True, return_inverse=True)
        code = np.argsort(np.argsort(first_index))[inverse]  # classes numbered by first appearance
        counts = np.bincount(code)
        K = self.n_splits
        if (counts < K).all():
            raise ValueError(f"`n_splits`={K} cannot be greater than the number of members in each class "
                             f"(largest class: {counts.max()}).")
        if counts.min() < K:
            warnings.warn(f"The least populated class in y has only {counts.min()} members, which is less than "
                          f"n_splits={K}.", UserWarning)
        y_sorted = np.sort(code)
        allocation = np.array([np.bincount(y_sorted[k::K], minlength=len(counts)) for k in range(K)])  # (K, C)
        rng = check_random_state(self.random_state)
        fold = np.empty(n, dtype=np.int64)
        for c in range(len(counts)):
            folds_for_class = np.repeat(np.arange(K), allocation[:, c])
            if self.shuffle:
                folds_for_class = rng.permutation(folds_for_class)
            fold[code == c] = folds_for_class
        return fold


class _FixedSplits:
    """A list of (train, test) index pairs given by the user, used as a splitter."""

    def __init__(self, pairs):
        self.pairs = []
        for i, pair in enumerate(pairs):
            try:
                train, test = pair
            except (TypeError, ValueError):
                raise ValueError(f"`cv` entry {i} must be a (train, test) pair of index arrays; "
                                 f"got {pair!r}.") from None
            train, test = np.asarray(train), np.asarray(test)
            for part, name in ((train, "train"), (test, "test")):
                if part.ndim != 1 or part.size == 0 or part.dtype.kind not in "iu":
                    raise ValueError(f"`cv` entry {i}: the {name} indices must be a non-empty 1-D integer array; "
                                     f"got {part!r}.")
            self.pairs.append((train.astype(np.int64), test.astype(np.int64)))
        if not self.pairs:
            raise ValueError("`cv` is an empty iterable; give at least one (train, test) pair.")

    def get_n_splits(self, X=None, y=None, groups=None):
        return len(self.pairs)

    def split(self, X=None, y=None, groups=None):
        n = None if X is None else _num_samples(X)
        for i, (train, test) in enumerate(self.pairs):
            if n is not None and (max(train.max(), test.max()) >= n or min(train.min(), test.min()) < -n):
                raise ValueError(f"`cv` entry {i} has indices out of range for {n} samples.")
            yield train, test

    def __repr__(self):
        return f"_FixedSplits(n_splits={len(self.pairs)})"


def check_cv(cv=5, y=None, classifier=False):
    """A splitter from `cv`: an int K (StratifiedKFold(K) for a classifier with class labels y, else
    KFold(K)); None means 5; an object with split/get_n_splits as is; an iterable of (train, test) pairs."""
    if cv is None:
        cv = 5
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if classifier and y is not None and is_class_labels(y):
            return StratifiedKFold(cv)
        return KFold(cv)
    if hasattr(cv, "split") and hasattr(cv, "get_n_splits"):
        return cv
    if hasattr(cv, "__iter__") and not isinstance(cv, (str, bytes, dict)):
        return _FixedSplits(cv)
    raise TypeError(f"`cv` must be an int, a splitter with split/get_n_splits, or an iterable of "
                    f"(train, test) pairs; got {cv!r}.")
