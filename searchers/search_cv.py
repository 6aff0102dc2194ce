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

Several objectives (scikit-learn's multi-metric `scoring` dict, plus the costs "fit_time" and "n_weights";
see tunelab.searchers.multi_metric): the study then has one direction per entry, `pareto_front_` lists
its non-dominated trials, and `refit` names the objective (or is a callable) that picks the refitted one.
"""

import copy
import functools
import numbers
import time
import types

import numpy as np

from tunelab.core.base import BaseEstimator, clone, estimator_type, is_classifier
from tunelab.core.metrics import check_scoring
from tunelab.core.model_selection import check_cv, cross_validate
from tunelab.core.validation import check_is_fitted
from tunelab.optimizers.validation import check_scalar
from tunelab.searchers.context import describe, fingerprint, import_path
from tunelab.searchers.multi_metric import (
    COSTS, MultiMetricObjective, check_multi_scoring, is_multi_metric, multi_cv_results, refit_index)
from tunelab.searchers.multifidelity import ASHA, EpochCV, Hyperband, SuccessiveHalving
from tunelab.searchers.sampling.random import RandomSearch
from tunelab.searchers.space import Space
from tunelab.searchers.study import Study
from tunelab.searchers.trial import FIT_TIMES, SCORE_TIMES, SPLIT_TEST_SCORES, TrialState, set_cv_attrs

_DEFAULT_TRIALS = 10  # for searchers without a finite size, as scikit-learn's RandomizedSearchCV(n_iter=10)


class _IfEstimatorHas:
    """A method of SearchCV that exists only when the estimator has a method of the same name (the refitted
    best estimator once fitted, `estimator` before): hasattr(search, "predict_proba") is False for a search
    over a model without predict_proba, as with scikit-learn's search tools (available_if), and
    scorers and checks that ask hasattr see the truth. refit=False leaves none of them."""

    def __init__(self, method):
        self.method = method
        functools.update_wrapper(self, method)

    def __get__(self, search, owner=None):
        if search is None:
            return self.method  # the plain function, for help() and documentation
        name = self.method.__name__
        if not search.refit:
            raise AttributeError(f"{name} needs the refitted best estimator; this SearchCV has refit=False.")
        target = search.__dict__.get("best_estimator_", search.estimator)
        if not callable(getattr(target, name, None)):
            raise AttributeError(f"This SearchCV has no {name}: its estimator {type(target).__name__} has none.")
        return types.MethodType(self.method, search)


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


def search_context(estimator, space, scoring, splits, X, y):
    """What the trials' scores depend on besides the searched params, as a study context (see
    tunelab.searchers.context): the estimator's class and fixed params, the scoring, the folds and
    fingerprints of X and y."""
    searched = tuple(space.names)
    fixed = {name: describe(value) for name, value in estimator.get_params(deep=True).items()
             if name not in searched and not name.startswith(tuple(f"{n}__" for n in searched))}
    marked = [np.concatenate([np.asarray(train), [-1], np.asarray(test), [-2]]) for train, test in splits]
    folds = fingerprint(np.concatenate(marked or [np.empty(0)]).astype(np.int64))  # -1, -2 end each part
    return {"estimator": import_path(type(estimator)), "estimator_params": fixed, "scoring": describe(scoring),
            "folds": f"{len(splits)} folds {folds.split(' ')[-1]}", "X": fingerprint(X), "y": fingerprint(y)}


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

    Each trial scores clone(estimator).set_params(**params) by its mean cross-validated score over folds
    computed once (the same for every trial); the study maximises it. The trials run
    `searcher.cv_objective(estimator, X, y, splits, scoring)` when the searcher builds one (HypergradientSearch:
    an objective that keeps with each trial what the searcher reads besides the score; see
    `Searcher.cv_objective`), else the mean cross-validated score. A trial whose fit or scoring raises (e.g.
    tunelab's ConvergenceError for a diverging learning rate) is recorded as failed, with its error in
    `cv_results_["error"]`; the search goes on (unless error_score="raise"). A fitted SearchCV pickles, its
    study included.

    Parameters
    ----------
    estimator : estimator
        Any object with get_params, set_params and fit (tunelab's or scikit-learn's, or a pipeline).
    space : Space or dict
        name -> Real, Integer, Categorical or a list of values; the names are estimator parameters (nested
        ones as `step__param`); a `Categorical({choice: sub-space})` chooses among objects whose own
        parameters (`optimizer__beta1`) exist only under their choice (see the module docstring).
    searcher : Searcher or None, default=None
        How the points are chosen; None means RandomSearch().
    n_trials : int or None, default=None
        Trials to run; None means every point for a searcher with a finite size (a grid), else 10.
    cv : int, splitter or list of (train, test) pairs, default=5
        An int is that many folds, stratified for a classifier.
    scoring : str, callable, dict or None, default=None
        None uses the estimator's `score`; a scorer name of tunelab.core.metrics, or a callable
        scorer(estimator, X, y) -> float; higher is better. A dict name -> scorer (or "fit_time", the mean
        fit seconds per fold, or "n_weights", the number of fitted weights) searches for all of them at
        once: a study of several objectives (see the module docstring).
    refit : bool, str or callable, default=True
        Refit the best parameters on all of X, y (`best_estimator_`, used by predict and score). With a
        scoring dict: the name of the objective whose best trial of the Pareto front is refitted, or a
        callable refit(cv_results_) -> row index (scikit-learn's), e.g. picking from
        cv_results_["pareto_front"]; True is not enough there.
    n_jobs : int, default=1
        Trials evaluated at once (-1: one per CPU); see `Study.optimize`.
    backend : {"threads", "processes"}, default="threads"
        Where parallel trials run (see `Study.optimize`).
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the searcher.
    timeout : float or None, default=None
        Seconds after which no new trial starts (not with `resource`).
    storage : str or None, default=None
        An SQLite file that keeps the study (see `Study`). A stored study records its context (the
        estimator's class and fixed params, scoring, folds, fingerprints of X and y) and `fit` continues it
        only in the same context.
    progress : bool, default=False
        Draw a progress bar on a terminal.
    resource : str or None, default=None
        The name of the estimator's parameter counting training epochs (e.g. "max_epochs"): then `pruner`
        trains the trials by epochs, continuing each fold's model (partial_fit / warm_start) and stopping the
        poor ones early (tunelab.searchers.multifidelity); n_trials None leaves the number to the pruner; trials
        run on threads; timeout does not apply. The refit trains pruner.max_resource epochs.
    pruner : SuccessiveHalving, Hyperband, ASHA or None, default=None
        The multi-fidelity schedule used with `resource`, from tunelab.searchers.multifidelity; None means
        Hyperband(max(1, R // 27), R), R the estimator's value of `resource`.
    error_score : np.nan or "raise", default=np.nan
        np.nan: a trial whose fit or scoring raises (e.g. tunelab's ConvergenceError for a diverging learning
        rate) is recorded as failed, with NaN scores and its error in `cv_results_["error"]`, and the search
        goes on; "raise": the first such error is raised, as it came.
    directions : list, dict or None, default=None
        With a scoring dict: "maximize" or "minimize" per entry (a list in the dict's order, or a dict by
        name); None maximises the scores and minimises "fit_time" and "n_weights".
    batch : {"sync", "async"} or None, default=None
        How n_jobs > 1 trials are asked (see `Study.optimize`): "sync" in batches of n_jobs, so the same
        random_state and n_jobs give the same trials; "async" whenever a worker is free (no idle worker,
        but a model-based searcher's trials then depend on timing). None: "sync" when random_state is
        given. Not with `resource`, whose pruner schedules the trials.

    Attributes
    ----------
    cv_results_ : dict of ndarray
        One entry per trial: params, param_<name> (masked arrays, masked where a trial's branch does not
        have the parameter), split<k>_test_score, mean_test_score, std_test_score, rank_test_score,
        mean_fit_time, std_fit_time, mean_score_time, std_score_time, state, error. With a scoring dict,
        split<k>_test_<name>, mean_test_<name>, std_test_<name> and rank_test_<name> per objective instead
        of the *_test_score entries, and pareto_front (bool).
    pareto_front_ : list of int
        The rows of the Pareto front, ascending: with a scoring dict the non-dominated complete trials,
        with one score the trials that share the best score.
    best_index_ : int
        The number (row of cv_results_) of the best trial.
    best_params_ : dict
        Its parameters.
    best_score_ : float
        Its mean cross-validated score (with a scoring dict: that of the objective `refit` names; absent
        for a callable refit).
    best_estimator_ : estimator
        The estimator refitted on all the data with best_params_ (only when refit).
    refit_time_ : float
        Seconds the refit took (only when refit).
    n_splits_ : int
        Number of cross-validation folds.
    scorer_ : callable
        The scorer used, scorer(estimator, X, y) -> float.
    study_ : Study
        The study, with every trial.
    pruner_ : SuccessiveHalving, Hyperband or ASHA
        The pruner used (only with `resource`).
    total_epochs_ : int
        Epochs trained over all trials and folds (only with `resource`).
    classes_ : ndarray of shape (n_classes,)
        The class labels of best_estimator_ (a classifier, refit=True).
    n_features_in_ : int
        Number of features of X (of best_estimator_ when refit=True).

    Notes
    -----
    predict, predict_proba, predict_log_proba, decision_function, transform and inverse_transform call the
    refitted best estimator's and exist only when it has them (refit=True). Tags follow the estimator:
    a search over a classifier is a classifier (stratified folds when the search is itself cross-validated).
    """

    def __init__(self, estimator, space, searcher=None, n_trials=None, cv=5, scoring=None, refit=True, n_jobs=1,
                 backend="threads", random_state=None, timeout=None, storage=None, progress=False,
                 resource=None, pruner=None, error_score=np.nan, directions=None, batch=None):
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
        self.error_score = error_score
        self.directions = directions
        self.batch = batch

    def _check_space(self):
        for method in ("fit", "get_params", "set_params"):
            if not callable(getattr(self.estimator, method, None)):
                raise TypeError(f"`estimator` must have get_params, set_params and fit; "
                                f"{type(self.estimator).__name__} has no {method}.")
        space = Space(self.space)
        _check_names(self.estimator, space)
        return space

    def _check_settings(self, y):
        """The Space, n_trials and the Study's `catch` from the settings; y must be given when the estimator
        is a classifier or a regressor."""
        space = self._check_space()
        n_trials = check_scalar(self.n_trials, "n_trials", numbers.Integral, low=1, allow_none=True)
        if is_multi_metric(self.scoring):
            if self.refit is True:
                raise ValueError(f"with several objectives, `refit` must be the name of one of them "
                                 f"({list(self.scoring)}), a callable refit(cv_results_) -> index, or False.")
            if not (isinstance(self.refit, (bool, str)) or callable(self.refit)):
                raise TypeError(f"`refit` must be False, a name of `scoring` or a callable; got {self.refit!r}.")
            if isinstance(self.refit, str) and self.refit not in self.scoring:
                raise ValueError(f"`refit` must be one of the names of `scoring` {list(self.scoring)}; "
                                 f"got {self.refit!r}.")
            if self.resource is not None:
                raise ValueError("`resource` (training by epochs) takes one score; give a scorer, not a dict.")
        elif not isinstance(self.refit, bool):
            raise TypeError(f"`refit` must be True or False; got {self.refit!r}.")
        elif self.directions is not None:
            raise ValueError("`directions` goes with a scoring dict (several objectives); one score is maximised.")
        raise_errors = isinstance(self.error_score, str) and self.error_score == "raise"
        if not raise_errors and not (isinstance(self.error_score, float) and np.isnan(self.error_score)):
            raise ValueError(f"`error_score` must be 'raise' or nan (a failed trial is recorded as failed, with NaN "
                             f"scores); got {self.error_score!r}.")
        if y is None and estimator_type(self.estimator) in ("classifier", "regressor"):
            raise ValueError(f"SearchCV over {type(self.estimator).__name__} requires y to be passed, but the "
                             "target y is None.")
        if is_multi_metric(self.scoring):  # every scorer that cannot score y fails before any trial
            self._directions = check_multi_scoring(self.estimator, self.scoring, self.directions, y)[1]
        else:
            check_scoring(self.estimator, self.scoring, y=y)
        return space, n_trials, not raise_errors

    def fit(self, X, y=None):
        """Run the search, fill `cv_results_` and the best_* attributes, refit the best model; returns self."""
        space, n_trials, catch = self._check_settings(y)
        for name in [name for name in vars(self) if name.endswith("_") and not name.startswith("_")]:
            del self.__dict__[name]  # a new search: nothing from an earlier fit stays behind
        splitter = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(splitter.split(X, y))  # computed once: every trial uses the same folds
        self.n_splits_ = len(splits)
        multi = is_multi_metric(self.scoring)
        self.scorer_ = ({name: check_scoring(self.estimator, s) for name, s in self.scoring.items()
                         if not (isinstance(s, str) and s in COSTS)} if multi
                        else check_scoring(self.estimator, self.scoring))
        context = None if self.storage is None else search_context(self.estimator, space, self.scoring, splits, X, y)
        goal = {"directions": self._directions} if multi else {"direction": "maximize"}
        study = Study(space, self.searcher if self.searcher is not None else RandomSearch(), storage=self.storage,
                      seed=self.random_state, context=context, **goal)
        if self.resource is not None:
            self._optimize_by_epochs(study, X, y, splits, catch)
        else:
            if n_trials is None:
                n_trials = study.searcher.size() or _DEFAULT_TRIALS
            objective = None if multi else study.searcher.cv_objective(self.estimator, X, y, splits, self.scoring)
            if multi:
                objective = MultiMetricObjective(self.estimator, X, y, splits, self.scoring, configured)
            elif objective is None:
                objective = _CrossValidationObjective(self.estimator, X, y, splits, self.scoring)
            study.optimize(objective, n_trials=n_trials, timeout=self.timeout, n_jobs=self.n_jobs,
                           backend=self.backend, progress=self.progress, pass_trial=True, catch=catch,
                           batch=self.batch)
        self.study_ = study
        self.cv_results_ = _cv_results(study.trials, space.names, self.n_splits_)
        self._check_a_trial_completed(study.trials)
        if multi:
            self._pick_from_front(study.trials)
        else:
            best = study.best_trial
            self.pareto_front_ = [t.number for t in study.best_trials]
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

    def _pick_from_front(self, trials):
        """cv_results_ of every objective, pareto_front_, and the trial `refit` picks (best_index_, ...)."""
        names = list(self.scoring)
        results = self.cv_results_
        for key in [k for k in results if k.endswith("_test_score")]:
            del results[key]  # one entry per objective instead
        multi_cv_results(results, trials, names, self._directions, self.n_splits_)
        self.pareto_front_ = np.flatnonzero(results["pareto_front"]).tolist()
        if not self.refit:
            return
        self.best_index_ = refit_index(self.refit, results, names, self._directions)
        self.best_params_ = dict(trials[self.best_index_].params)
        if isinstance(self.refit, str):
            self.best_score_ = float(results[f"mean_test_{self.refit}"][self.best_index_])

    def _check_a_trial_completed(self, trials):
        if any(t.state is TrialState.COMPLETE for t in trials):
            return
        if self.resource is not None and any(t.state is TrialState.PRUNED for t in trials):
            rungs = self.pruner_.rungs()
            raise ValueError(
                f"no trial reached {self.resource}={rungs[-1]}: {type(self.pruner_).__name__} promotes only the top "
                f"1/eta of each rung, so {len(trials)} trials were too few; give n_trials >= "
                f"{int(round(self.pruner_.eta ** (len(rungs) - 1)))} or a smaller max_resource.")
        first = next((t.error for t in trials if t.error), "no trial ran")
        raise ValueError(f"all {len(trials)} trials failed; the first error was: {first}")

    def _optimize_by_epochs(self, study, X, y, splits, catch):
        """Multi-fidelity search: the pruner trains each trial by epochs on the fixed folds. The pruner records
        a failing trial and goes on; with error_score="raise" the first failure is raised afterwards."""
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
        failed = [t for t in study.trials if t.state is TrialState.FAILED]
        if failed and not catch:
            raise ValueError(f"trial {failed[0].number} failed (error_score='raise'): {failed[0].error}")

    # ---- the refitted best estimator -------------------------------------------------------------

    def _best(self, method):
        check_is_fitted(self, "cv_results_")
        if not self.refit:
            raise AttributeError(f"{method} needs the refitted best estimator; this SearchCV has refit=False.")
        return self.best_estimator_

    @_IfEstimatorHas
    def predict(self, X):
        """best_estimator_.predict(X)."""
        return self._best("predict").predict(X)

    @_IfEstimatorHas
    def predict_proba(self, X):
        """best_estimator_.predict_proba(X)."""
        return self._best("predict_proba").predict_proba(X)

    @_IfEstimatorHas
    def predict_log_proba(self, X):
        """best_estimator_.predict_log_proba(X)."""
        return self._best("predict_log_proba").predict_log_proba(X)

    @_IfEstimatorHas
    def decision_function(self, X):
        """best_estimator_.decision_function(X)."""
        return self._best("decision_function").decision_function(X)

    @_IfEstimatorHas
    def transform(self, X):
        """best_estimator_.transform(X)."""
        return self._best("transform").transform(X)

    @_IfEstimatorHas
    def inverse_transform(self, X):
        """best_estimator_.inverse_transform(X)."""
        return self._best("inverse_transform").inverse_transform(X)

    def score(self, X, y=None):
        """The search's scorer (higher is better) on X, y for the refitted best estimator; with a scoring
        dict, the scorer `refit` names (or the first scorer, when it names a cost or is a callable)."""
        scorer = self.scorer_
        if isinstance(scorer, dict):
            if not scorer:
                raise AttributeError("this SearchCV scores no metric (its objectives are costs), so it has no score.")
            scorer = scorer.get(self.refit) if isinstance(self.refit, str) and self.refit in scorer else \
                next(iter(scorer.values()))
        return float(scorer(self._best("score"), X, y))

    @property
    def _estimator_type(self):  # a search over a classifier is a classifier (stratified folds when nested)
        return estimator_type(self.estimator)

    @property
    def classes_(self):
        """best_estimator_.classes_ (a search over a classifier, fitted with refit=True)."""
        return self._best("classes_").classes_

    @property
    def n_features_in_(self):
        """best_estimator_.n_features_in_; absent (AttributeError) before fit."""
        if "cv_results_" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__} has no n_features_in_ before fit.")
        return self._best("n_features_in_").n_features_in_

    def estimator_tags(self):
        """The estimator's tags (a search over a classifier is a classifier), read from tunelab's estimators;
        for others the type alone (and scikit-learn's own tags in __sklearn_tags__)."""
        tags = super().estimator_tags()  # type from _estimator_type, transformer from _IfEstimatorHas
        if isinstance(self.estimator, BaseEstimator):
            inner = self.estimator.estimator_tags()
            tags.update({key: inner[key] for key in ("requires_y", "multi_output", "allow_nan", "sparse",
                                                     "poor_score", "non_deterministic")})
        return tags

    def __sklearn_tags__(self):
        """scikit-learn's tags of the estimator (any estimator's), for the search (scikit-learn >= 1.6)."""
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        for field in ("target_tags", "classifier_tags", "regressor_tags", "input_tags"):
            setattr(tags, field, copy.deepcopy(getattr(inner, field)))
        return tags


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
