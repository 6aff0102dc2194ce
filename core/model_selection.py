"""Cross-validating an estimator, and learning and validation curves, with scikit-learn's
`model_selection` semantics; the splitters (train_test_split, KFold, StratifiedKFold, check_cv) live in
`_split.py` and are exported from here.

`cross_validate` fits a clone of the estimator on each train part of a splitter and scores it on the test
part; searchers turn that into an objective(params) -> float. `learning_curve` and `validation_curve` do
the same over training-set sizes or over the values of one hyperparameter.
"""

import numbers
import time
import warnings

import numpy as np

from tunelab.core._split import (  # noqa: F401  (re-exported: the public home of the splitters)
    KFold, StratifiedKFold, _num_samples, _take, check_cv, train_test_split,
)
from tunelab.core.base import clone, is_classifier
from tunelab.core.metrics import check_scoring, get_scorer
from tunelab.core.validation import check_bool, check_random_state

__all__ = [
    "FitFailedWarning", "KFold", "StratifiedKFold", "check_cv", "train_test_split", "cross_validate",
    "cross_val_score", "learning_curve", "validation_curve",
]


class FitFailedWarning(RuntimeWarning):
    """A fit (or its scoring) raised during cross-validation and `error_score` was recorded instead."""


# ----------------------------------------------------------------------------- cross-validation


def _check_scorers(estimator, scoring, y=None):
    """(dict name -> scorer, multimetric?) from None, a name, a callable, a list of names or a dict; each
    scorer is checked against the estimator and the target y (check_scoring) before any fit."""
    if scoring is None or isinstance(scoring, str) or callable(scoring):
        return {"score": check_scoring(estimator, scoring, y=y)}, False
    if isinstance(scoring, dict):
        if not scoring:
            raise ValueError("`scoring` is an empty dict; give at least one name -> scorer.")
        return {str(k): check_scoring(estimator, get_scorer(v), y=y) for k, v in scoring.items()}, True
    if isinstance(scoring, (list, tuple, set)):
        names = list(scoring)
        if not names or not all(isinstance(s, str) for s in names):
            raise ValueError(f"`scoring` as a list must hold scorer names (use a dict for callables); got {scoring!r}.")
        if len(set(names)) != len(names):
            raise ValueError(f"`scoring` repeats a name: {names}.")
        return {s: check_scoring(estimator, s, y=y) for s in names}, True
    raise TypeError(f"`scoring` must be None, a name, a callable, a list of names or a dict; got {scoring!r}.")


def _check_error_score(error_score):
    if isinstance(error_score, str) and error_score == "raise":
        return error_score
    if isinstance(error_score, numbers.Real) and not isinstance(error_score, bool):
        return float(error_score)
    error = ValueError if isinstance(error_score, str) else TypeError
    raise error(f"`error_score` must be 'raise' or a number (e.g. nan); got {error_score!r}.")


def _check_X_y_rows(X, y):
    n = _num_samples(X)
    if y is not None and _num_samples(y, "y") != n:
        raise ValueError(f"`X` and `y` must have the same number of rows; got {n} and {_num_samples(y, 'y')}.")
    return n


def _score_all(scorers, estimator, X, y, error_score, where):
    scores = {}
    for name, scorer in scorers.items():
        try:
            value = scorer(estimator, X, y)
        except Exception as exc:
            if error_score == "raise":
                raise
            warnings.warn(f"Scoring {name!r} failed on {where} ({type(exc).__name__}: {exc}); "
                          f"recorded error_score={error_score}.", FitFailedWarning)
            value = error_score
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"Scorer {name!r} must return a real number; got {value!r}.")
        scores[name] = float(value)
    return scores


def _fit(model, X, y, error_score, where, method="fit", **kwargs):
    """model.<method>(X[, y]); returns (fit seconds, error text or None). A failure re-raises when
    error_score="raise", else warns (FitFailedWarning)."""
    start = time.perf_counter()
    try:
        getattr(model, method)(X, y, **kwargs) if y is not None else getattr(model, method)(X, **kwargs)
        error = None
    except Exception as exc:
        if error_score == "raise":
            raise
        error = f"{type(exc).__name__}: {exc}"
        warnings.warn(f"Fit failed on {where} ({error}); recorded error_score={error_score}.", FitFailedWarning)
    return time.perf_counter() - start, error


def _fit_and_score(estimator, X, y, train, test, scorers, error_score, where, *, parameters=None,
                   train_score=False):
    """Fit clone(estimator), with `parameters` set, on the rows `train` and score it on `test` (and on
    `train` when `train_score`). Returns a dict: fit_time, score_time, test and train ({name: score}
    or None), estimator, error (None, or the text of the failure recorded as error_score)."""
    model = clone(estimator)
    if parameters:
        model.set_params(**parameters)
    X_train, y_train = _take(X, train), _take(y, train)
    fit_time, error = _fit(model, X_train, y_train, error_score, where)
    start = time.perf_counter()
    if error is not None:
        test_scores = dict.fromkeys(scorers, error_score)
        train_scores = dict.fromkeys(scorers, error_score) if train_score else None
    else:
        test_scores = _score_all(scorers, model, _take(X, test), _take(y, test), error_score, where)
        train_scores = _score_all(scorers, model, X_train, y_train, error_score, where) if train_score else None
    return dict(fit_time=fit_time, score_time=time.perf_counter() - start, test=test_scores, train=train_scores,
                estimator=model, error=error)


def cross_validate(estimator, X, y=None, *, cv=5, scoring=None, return_train_score=False,
                   return_estimator=False, error_score="raise"):
    """Fit clone(estimator) on each train part of `cv` and score it on the test part.

    Returns a dict of arrays, one entry per fold: "fit_time", "score_time" (seconds), "test_score"
    (or "test_<name>" for each scorer when `scoring` is a list or dict), "train_*" with
    `return_train_score`, and "estimator" (a list of fitted clones) with `return_estimator`.
    scoring=None uses estimator.score. Every scorer is checked against the estimator and y before the
    first fit (check_scoring: "roc_auc" on a multiclass y is an error here, not after the folds).
    error_score: "raise" re-raises a failing fit or scorer; a number (e.g. nan) is recorded instead,
    with a FitFailedWarning.
    """
    error_score = _check_error_score(error_score)
    _check_X_y_rows(X, y)
    scorers, multimetric = _check_scorers(estimator, scoring, y)
    splitter = check_cv(cv, y, classifier=is_classifier(estimator))
    folds = [_fit_and_score(estimator, X, y, train, test, scorers, error_score, f"fold {k}",
                            train_score=return_train_score)
             for k, (train, test) in enumerate(splitter.split(X, y))]
    if not folds:
        raise ValueError(f"`cv`={cv!r} produced no splits.")
    out = {key: np.array([f[key] for f in folds], dtype=np.float64) for key in ("fit_time", "score_time")}
    for prefix in ("test", "train") if return_train_score else ("test",):
        for name in scorers:
            key = f"{prefix}_{name}" if multimetric else f"{prefix}_score"
            out[key] = np.array([f[prefix][name] for f in folds], dtype=np.float64)
    if return_estimator:
        out["estimator"] = [f["estimator"] for f in folds]
    return out


def cross_val_score(estimator, X, y=None, *, cv=5, scoring=None, error_score="raise"):
    """The test scores of `cross_validate` with a single scorer: float64 (n_splits,)."""
    if scoring is not None and not (isinstance(scoring, str) or callable(scoring)):
        raise TypeError(f"cross_val_score takes one scorer (a name or a callable); got {scoring!r}. "
                        "Use cross_validate for several.")
    return cross_validate(estimator, X, y, cv=cv, scoring=scoring, error_score=error_score)["test_score"]


# ----------------------------------------------------------------------------- learning and validation curves


def _single_scorer(estimator, scoring, y, function):
    if scoring is not None and not (isinstance(scoring, str) or callable(scoring)):
        raise TypeError(f"{function} takes one scorer (a name or a callable); got {scoring!r}.")
    return {"score": check_scoring(estimator, scoring, y=y)}


def _raise_if_all_failed(results, what):
    errors = [r["error"] for r in results]
    if errors and all(e is not None for e in errors):
        raise ValueError(f"All the {len(errors)} fits of {what} failed; the first error was: {errors[0]}")


def _translate_train_sizes(train_sizes, n_max):
    """Absolute training sizes, sorted and unique: floats are fractions in (0, 1] of n_max (floor, at
    least 1), integers are counts in [1, n_max]. Duplicates are dropped with a RuntimeWarning."""
    sizes = np.asarray(train_sizes)
    if sizes.ndim != 1 or sizes.size == 0:
        raise ValueError(f"`train_sizes` must be a non-empty 1-D list of sizes; got {train_sizes!r}.")
    if sizes.dtype.kind == "f":
        if sizes.min() <= 0 or sizes.max() > 1 or not np.isfinite(sizes).all():
            raise ValueError(f"`train_sizes` as floats are fractions of the largest training set ({n_max} "
                             f"samples) and must lie in (0, 1]; got values in [{sizes.min()}, {sizes.max()}].")
        absolute = np.clip((sizes * n_max).astype(np.int64), 1, n_max)
    elif sizes.dtype.kind in "iu":
        if sizes.min() <= 0 or sizes.max() > n_max:
            raise ValueError(f"`train_sizes` as integers are numbers of training samples and must lie in "
                             f"[1, {n_max}]; got values in [{sizes.min()}, {sizes.max()}].")
        absolute = sizes.astype(np.int64)
    else:
        raise TypeError(f"`train_sizes` must hold floats (fractions) or integers (counts); got {train_sizes!r}.")
    unique = np.unique(absolute)
    if len(unique) < len(absolute):
        warnings.warn(f"Removed duplicate entries from `train_sizes`: {len(unique)} ticks instead of "
                      f"{len(absolute)} ({unique.tolist()}).", RuntimeWarning)
    return unique


def _incremental_fold(estimator, X, y, train, test, sizes, scorers, error_score, fold, classes):
    """One fold of an incremental learning curve: partial_fit on each new slice of `train`, then score;
    returns one result (as _fit_and_score's) per size. After a failure the fold's later sizes fail too."""
    model, results, error, start = clone(estimator), [], None, 0
    kwargs = {"classes": classes} if classes is not None else {}
    for n_train in sizes:
        where = f"fold {fold} with {n_train} training samples"
        part, subset = train[start:n_train], train[:n_train]
        fit_time = 0.0
        if error is None:
            fit_time, error = _fit(model, _take(X, part), _take(y, part), error_score, where, "partial_fit", **kwargs)
        begin = time.perf_counter()
        if error is None:
            test_scores = _score_all(scorers, model, _take(X, test), _take(y, test), error_score, where)
            train_scores = _score_all(scorers, model, _take(X, subset), _take(y, subset), error_score, where)
        else:
            test_scores = train_scores = dict.fromkeys(scorers, error_score)
        results.append(dict(fit_time=fit_time, score_time=time.perf_counter() - begin, test=test_scores,
                            train=train_scores, error=error))
        start = n_train
    return results


def learning_curve(estimator, X, y=None, *, train_sizes=(0.1, 0.325, 0.55, 0.775, 1.0), cv=5, scoring=None,
                   exploit_incremental_learning=False, shuffle=False, random_state=None, error_score=np.nan,
                   return_times=False):
    """Train and test scores against the number of training samples, to see under- and over-fitting.

    For each fold of `cv` and each size n of `train_sizes` (fractions of the largest training fold, or
    counts), clone(estimator) is fitted on the first n rows of the fold's training part (after a seeded
    permutation of them when `shuffle`) and scored on those rows and on the fold's test part.
    exploit_incremental_learning: one clone per fold grows by partial_fit on each new slice instead.
    Returns (train_sizes_abs (T,), train_scores (T, K), test_scores (T, K)), plus fit_times and
    score_times (T, K) with `return_times`, as scikit-learn's learning_curve. A failing fit records
    `error_score` with a FitFailedWarning ("raise" re-raises); if every fit fails, a ValueError.
    Source: Hastie, Tibshirani & Friedman (2009), The Elements of Statistical Learning, sec. 7.10.
    """
    error_score = _check_error_score(error_score)
    check_bool(shuffle, "shuffle")
    check_bool(exploit_incremental_learning, "exploit_incremental_learning")
    check_bool(return_times, "return_times")
    _check_X_y_rows(X, y)
    if exploit_incremental_learning and not hasattr(estimator, "partial_fit"):
        raise TypeError(f"exploit_incremental_learning=True needs partial_fit; {type(estimator).__name__} has none.")
    scorers = _single_scorer(estimator, scoring, y, "learning_curve")
    folds = list(check_cv(cv, y, classifier=is_classifier(estimator)).split(X, y))
    if not folds:
        raise ValueError(f"`cv`={cv!r} produced no splits.")
    sizes = _translate_train_sizes(train_sizes, len(folds[0][0]))
    if shuffle:
        rng = check_random_state(random_state)
        folds = [(rng.permutation(train), test) for train, test in folds]
    if exploit_incremental_learning:
        classes = np.unique(np.asarray(y)) if is_classifier(estimator) and y is not None else None
        results = [r for k, (train, test) in enumerate(folds)
                   for r in _incremental_fold(estimator, X, y, train, test, sizes, scorers, error_score, k, classes)]
    else:
        results = [_fit_and_score(estimator, X, y, train[:n], test, scorers, error_score,
                                  f"fold {k} with {n} training samples", train_score=True)
                   for k, (train, test) in enumerate(folds) for n in sizes]
    _raise_if_all_failed(results, "the learning curve")
    out = [sizes] + [_by_tick(results, key, len(sizes)) for key in ("train", "test")]
    if return_times:
        out += [_by_tick(results, key, len(sizes)) for key in ("fit_time", "score_time")]
    return tuple(out)


def _by_tick(results, key, n_ticks):
    """The fold-major list of results as a (n_ticks, n_folds) float64 array of `key`."""
    values = [r[key]["score"] if isinstance(r[key], dict) else r[key] for r in results]
    return np.array(values, dtype=np.float64).reshape(-1, n_ticks).T


def validation_curve(estimator, X, y, param_name, param_range, *, cv=5, scoring=None, error_score=np.nan):
    """Train and test scores against the values of one hyperparameter, to see under- and over-fitting.

    For each fold of `cv` and each value v in `param_range`, clone(estimator).set_params(param_name=v)
    (nested names such as "step__alpha" work) is fitted on the fold's training part and scored on it
    and on the test part. Returns (train_scores, test_scores), each float64 (len(param_range), n_folds),
    as scikit-learn's validation_curve. A failing fit records `error_score` with a FitFailedWarning
    ("raise" re-raises); if every fit fails, a ValueError.
    """
    error_score = _check_error_score(error_score)
    _check_X_y_rows(X, y)
    if not isinstance(param_name, str):
        raise TypeError(f"`param_name` must be a string; got {param_name!r}.")
    valid = estimator.get_params(deep=True)
    if param_name not in valid:
        raise ValueError(f"`param_name`={param_name!r} is not a parameter of {type(estimator).__name__}; "
                         f"its parameters are {', '.join(sorted(valid))}.")
    if isinstance(param_range, (str, bytes)) or not hasattr(param_range, "__iter__"):
        raise TypeError(f"`param_range` must be a sequence of values; got {param_range!r}.")
    values = list(param_range)
    if not values:
        raise ValueError("`param_range` is empty; give at least one value.")
    scorers = _single_scorer(estimator, scoring, y, "validation_curve")
    splitter = check_cv(cv, y, classifier=is_classifier(estimator))
    results = [_fit_and_score(estimator, X, y, train, test, scorers, error_score,
                              f"fold {k} with {param_name}={v!r}", parameters={param_name: v}, train_score=True)
               for k, (train, test) in enumerate(splitter.split(X, y)) for v in values]
    if not results:
        raise ValueError(f"`cv`={cv!r} produced no splits.")
    _raise_if_all_failed(results, "the validation curve")
    return _by_tick(results, "train", len(values)), _by_tick(results, "test", len(values))
