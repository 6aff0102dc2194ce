"""Tuning an estimator by cross-validation, with scikit-learn's GridSearchCV interface on top of a Study.

The objective of each trial is the mean cross-validated score of clone(estimator).set_params(**params),
always on the same folds: the (train, test) indices are computed once in `fit` and reused by every
trial, so trials differ only by their hyperparameters. The study maximises that score.

A conditional space chooses among objects with their own hyperparameters, each set on the chosen one:

    {"optimizer": Categorical({Momentum(batch_size=64): {"optimizer__lr": Real(1e-3, 0.3, log=True),
                                                          "optimizer__momentum": Real(0.5, 0.99)},
                               Adam(batch_size=64): {"optimizer__lr": Real(1e-3, 0.3, log=True),
                                                     "optimizer__beta1": Real(0.8, 0.99)},
                               LBFGS(): {"optimizer__memory": Integer(3, 20)}})}

A trial sets `optimizer` to a clone of the chosen object, then its nested parameters; each name is checked
against the estimator's parameters with its branch chosen.
"""

import numbers
import time

import numpy as np

from tunelab.core.base import BaseEstimator, clone, is_classifier
from tunelab.core.metrics import check_scoring
from tunelab.core.model_selection import check_cv, cross_validate
from tunelab.core.validation import check_is_fitted
from tunelab.optimizers.validation import check_scalar
from tunelab.searchers.multifidelity import ASHA, EpochCV, Hyperband, SuccessiveHalving
from tunelab.searchers.sampling.random import RandomSearch
from tunelab.searchers.space import Space
from tunelab.searchers.study import Study
from tunelab.searchers.trial import FIT_TIMES, SCORE_TIMES, SPLIT_TEST_SCORES, TrialState, set_cv_attrs

_DEFAULT_TRIALS = 10  # for searchers without a finite size, as scikit-learn's RandomizedSearchCV(n_iter=10)


class _CrossValidationObjective:
    """trial -> mean test score over fixed folds; picklable, so the processes backend can send it."""

    def __init__(self, estimator, X, y, splits, scoring):
        self.estimator, self.X, self.y, self.splits, self.scoring = estimator, X, y, splits, scoring

    def __call__(self, trial):
        model = configured(self.estimator, trial.params)
        result = cross_validate(model, self.X, self.y, cv=self.splits, scoring=self.scoring)
        scores = result["test_score"]  # (n_splits,)
        set_cv_attrs(trial, scores, result["fit_time"], result["score_time"])
        return float(np.mean(scores))


def configured(estimator, params):
    """clone(estimator) with `params` set. A chosen object (an optimizer) is cloned first, so that setting its
    own hyperparameters (`optimizer__lr`) never changes the choice that every trial shares."""
    fresh = {name: clone(value) if hasattr(value, "get_params") and not isinstance(value, type) else value
             for name, value in params.items()}
    return clone(estimator).set_params(**fresh)


def _branches(space, name):
    """The choices above `name` under which it exists, as assignments {parent: choice, ...}: one per choice of
    its parent, the parent's own ancestors at their first choice; [{}] for an unconditional name."""
    condition = space.condition(name)
    if condition is None:
        return [{}]
    parent, choices = condition
    above = _branches(space, parent)[0]
    return [{**above, parent: choice} for choice in choices]


def _check_names(estimator, space):
    """Raise a ValueError unless every name of `space` is a parameter of `estimator` (nested names of a chosen
    object are looked up with that object set)."""
    valid = estimator.get_params(deep=True)
    unknown = [name for name in space.names if space.condition(name) is None and name not in valid]
    if unknown:
        choosers = [n.partition("__")[0] for n in unknown if n.partition("__")[0] in space]
        hint = (f"; to set it only on the `{choosers[0]}` objects that have it, declare it in the sub-space of the "
                f"choices that have it: {choosers[0]}=Categorical({{choice: {{{unknown[0]!r}: ...}}, ...}})"
                if choosers else "")
        raise ValueError(f"{unknown} {'is not a parameter' if len(unknown) == 1 else 'are not parameters'} of "
                         f"{type(estimator).__name__}; its parameters are {', '.join(sorted(valid))}{hint}.")
    for name in space.names:
        for branch in _branches(space, name):
            there = configured(estimator, branch).get_params(deep=True) if branch else valid
            if name not in there:
                where = ", ".join(f"{k}={v!r}" for k, v in branch.items())
                raise ValueError(f"{name!r} is not a parameter of {type(estimator).__name__} with {where}; its "
                                 f"parameters there are {', '.join(sorted(there))}.")


class SearchCV(BaseEstimator):
    """Search hyperparameters of `estimator` over `space` by cross-validation (like GridSearchCV).

    Parameters
    ----------
    estimator : any object with get_params/set_params/fit (tunelab's or scikit-learn's).
    space : Space or dict name -> Real/Integer/Categorical/list; names are estimator parameters
        (nested ones as `step__param`); a `Categorical({choice: sub-space})` chooses among objects whose
        own parameters (`optimizer__beta1`) exist only under their choice (see the module docstring).
    searcher : a Searcher; None means RandomSearch().
    n_trials : trials to run; None means every point for a searcher with a finite size (a grid), else 10.
    cv : int (K folds, stratified for a classifier), a splitter, or a list of (train, test) pairs.
    scoring : None (the estimator's `score`), a scorer name of tunelab.core.metrics, or a callable
        scorer(estimator, X, y) -> float; higher is better.
    refit : refit the best parameters on all of X, y (`best_estimator_`, used by predict/score).
    n_jobs, backend : trials evaluated at once, on threads or processes (see `Study.optimize`).
    random_state : seed of the searcher.
    timeout, storage, progress : passed to the Study and `optimize`.
    resource : None, or the name of the estimator's parameter counting training epochs (e.g.
        "max_epochs"): then `pruner` (default Hyperband(max(1, R // 27), R), R the estimator's value of it)
        trains the trials by epochs, continuing each fold's model (partial_fit / warm_start) and stopping
        the poor ones early (tunelab.searchers.multifidelity); n_trials None leaves the number to the pruner;
        trials run on threads; timeout does not apply. The refit trains pruner.max_resource epochs.
    pruner : SuccessiveHalving, Hyperband or ASHA from tunelab.searchers.multifidelity (with `resource`).
    The trials run `searcher.cv_objective(estimator, X, y, splits, scoring)` when the searcher builds one
    (HypergradientSearch: an objective that keeps with each trial what the searcher reads besides the
    score; see `Searcher.cv_objective`), else the mean cross-validated score.

    A trial whose fit or scoring raises (e.g. tunelab's ConvergenceError for a diverging learning
    rate) is recorded as failed, with its error in `cv_results_["error"]`; the search goes on.

    Attributes
    ----------
    cv_results_ : dict of arrays, one entry per trial: params, param_<name> (masked arrays, masked where a
        trial does not have the name, as scikit-learn's), split<k>_test_score,
        mean/std_test_score, rank_test_score, mean/std_fit_time, mean/std_score_time, state, error.
    best_index_, best_params_, best_score_, best_estimator_ (refit=True), refit_time_, n_splits_,
    scorer_, study_ (the Study, with every trial); with `resource`: pruner_ and total_epochs_ (epochs
    trained over all folds).
    """

    def __init__(self, estimator, space, searcher=None, n_trials=None, cv=5, scoring=None, refit=True, n_jobs=1,
                 backend="threads", random_state=None, timeout=None, storage=None, progress=False,
                 resource=None, pruner=None):
        self.estimator = estimator
        self.space = space
        self.searcher = searcher
        self.n_trials = n_trials
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.n_jobs = n_jobs
        self.backend = backend
        self.random_state = random_state
        self.timeout = timeout
        self.storage = storage
        self.progress = progress
        self.resource = resource
        self.pruner = pruner

    def _check_space(self):
        for method in ("fit", "get_params", "set_params"):
            if not callable(getattr(self.estimator, method, None)):
                raise TypeError(f"`estimator` must have get_params, set_params and fit; "
                                f"{type(self.estimator).__name__} has no {method}.")
        space = Space(self.space)
        _check_names(self.estimator, space)
        return space

    def fit(self, X, y=None):
        """Run the search, fill `cv_results_` and the best_* attributes, refit the best model; returns self."""
        space = self._check_space()
        n_trials = check_scalar(self.n_trials, "n_trials", numbers.Integral, low=1, allow_none=True)
        if not isinstance(self.refit, bool):
            raise TypeError(f"`refit` must be True or False; got {self.refit!r}.")
        splitter = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(splitter.split(X, y))  # computed once: every trial uses the same folds
        self.n_splits_ = len(splits)
        self.scorer_ = check_scoring(self.estimator, self.scoring)
        study = Study(space, self.searcher if self.searcher is not None else RandomSearch(), direction="maximize",
                      storage=self.storage, seed=self.random_state)
        if self.resource is not None:
            self._optimize_by_epochs(study, X, y, splits)
        else:
            if n_trials is None:
                n_trials = study.searcher.size() or _DEFAULT_TRIALS
            objective = study.searcher.cv_objective(self.estimator, X, y, splits, self.scoring)
            if objective is None:
                objective = _CrossValidationObjective(self.estimator, X, y, splits, self.scoring)
            study.optimize(objective, n_trials=n_trials, timeout=self.timeout, n_jobs=self.n_jobs,
                           backend=self.backend, progress=self.progress, pass_trial=True)
        self.study_ = study
        trials = study.trials
        self.cv_results_ = _cv_results(trials, space.names, self.n_splits_)
        if not any(t.state is TrialState.COMPLETE for t in trials):
            if self.resource is not None and any(t.state is TrialState.PRUNED for t in trials):
                rungs = self.pruner_.rungs()
                raise ValueError(
                    f"no trial reached {self.resource}={rungs[-1]}: {type(self.pruner_).__name__} promotes only the top "
                    f"1/eta of each rung, so {len(trials)} trials were too few; give n_trials >= "
                    f"{int(round(self.pruner_.eta ** (len(rungs) - 1)))} or a smaller max_resource.")
            first = next((t.error for t in trials if t.error), "no trial ran")
            raise ValueError(f"all {len(trials)} trials failed; the first error was: {first}")
        best = study.best_trial
        self.best_index_ = best.number
        self.best_params_ = dict(best.params)
        self.best_score_ = best.value
        if self.refit:
            start = time.perf_counter()
            model = configured(self.estimator, self.best_params_)
            if self.resource is not None:
                model.set_params(**{self.resource: self.pruner_.max_resource})
            self.best_estimator_ = model.fit(X, y) if y is not None else model.fit(X)
            self.refit_time_ = time.perf_counter() - start
        return self

    def _optimize_by_epochs(self, study, X, y, splits):
        """Multi-fidelity search: the pruner trains each trial by epochs on the fixed folds."""
        objective = EpochCV(self.estimator, X, y, splits, self.scoring, resource=self.resource)
        pruner = self.pruner
        if pruner is None:
            R = self.estimator.get_params()[self.resource]
            pruner = Hyperband(max(1, R // 27), R)
        elif not isinstance(pruner, (SuccessiveHalving, Hyperband, ASHA)):
            raise TypeError("`pruner` must be SuccessiveHalving, Hyperband or ASHA from "
                            f"tunelab.searchers.multifidelity; got {pruner!r}.")
        self.pruner_ = pruner
        pruner.optimize(study, objective, n_trials=self.n_trials, n_jobs=self.n_jobs)
        self.total_epochs_ = pruner.total_epochs_ * len(splits)

    # ---- the refitted best estimator -------------------------------------------------------------

    def _best(self, method):
        check_is_fitted(self, "cv_results_")
        if not self.refit:
            raise AttributeError(f"{method} needs the refitted best estimator; this SearchCV has refit=False.")
        return self.best_estimator_

    def predict(self, X):
        return self._best("predict").predict(X)

    def predict_proba(self, X):
        return self._best("predict_proba").predict_proba(X)

    def decision_function(self, X):
        return self._best("decision_function").decision_function(X)

    def transform(self, X):
        return self._best("transform").transform(X)

    def score(self, X, y=None):
        """The search's scorer (higher is better) on X, y for the refitted best estimator."""
        return float(self.scorer_(self._best("score"), X, y))

    @property
    def _estimator_type(self):  # a search over a classifier is a classifier (stratified folds when nested)
        return getattr(self.estimator, "_estimator_type", None)

    @property
    def classes_(self):
        return self._best("classes_").classes_


def _cv_results(trials, names, n_splits):
    """scikit-learn's cv_results_ layout, one entry per trial (failed trials have NaN scores and times)."""
    m = len(trials)
    results = {"params": [dict(t.params) for t in trials]}
    for name in names:
        column = np.ma.MaskedArray(np.empty(m, dtype=object), mask=True)  # (m,)
        for i, t in enumerate(trials):
            if name in t.params:
                column[i] = t.params[name]
        results[f"param_{name}"] = column
    split_scores = np.full((m, n_splits), np.nan)  # (m, k)
    for i, t in enumerate(trials):
        if t.state is TrialState.COMPLETE and SPLIT_TEST_SCORES in t.attrs:
            split_scores[i] = t.attrs[SPLIT_TEST_SCORES]
    for k in range(n_splits):
        results[f"split{k}_test_score"] = split_scores[:, k]
    results["mean_test_score"] = split_scores.mean(axis=1)
    results["std_test_score"] = split_scores.std(axis=1)
    mean = results["mean_test_score"]
    # rank 1 is best; ties share the lowest rank (scikit-learn's "min" method); failed trials rank last
    order = np.where(np.isnan(mean), -np.inf, mean)
    results["rank_test_score"] = np.array([1 + np.sum(order > v) for v in order], dtype=np.int64)
    for what, key in (("fit", FIT_TIMES), ("score", SCORE_TIMES)):
        times = [t.attrs.get(key) for t in trials]
        results[f"mean_{what}_time"] = np.array([np.mean(x) if x else np.nan for x in times])
        results[f"std_{what}_time"] = np.array([np.std(x) if x else np.nan for x in times])
    results["state"] = np.array([t.state.value for t in trials], dtype=object)
    results["error"] = np.array([t.error or "" for t in trials], dtype=object)
    return results
