"""What `tunelab demo` and `tunelab tune` share: the searchers by name, the models' search spaces, and one
run of SearchCV per searcher summarised as a leaderboard row."""

import time

import numpy as np

from tunelab.core import (
    LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor, f1_score, is_classifier, precision_score,
    recall_score,
)
from tunelab.optimizers import Adam, Momentum
from tunelab.searchers import (
    BayesSearch, Categorical, EvolutionSearch, GridSearch, RandomSearch, Real, SearchCV, Study, TPESearch, TrialState,
)

SEARCHER_NAMES = ("grid", "random", "bayes", "evolution", "tpe")


def make_searcher(name, budget, n_dims):
    """A searcher by its command-line name; grid points per real dimension chosen to fit the budget."""
    if name == "grid":
        return GridSearch(n_points=max(2, int(round(budget ** (1.0 / max(n_dims, 1))))))
    if name == "random":
        return RandomSearch(sampler="sobol")
    if name == "bayes":  # a third of a small budget for the initial design, so the GP still gets to choose
        return BayesSearch(n_initial=min(10, max(2, budget // 3)))
    if name == "evolution":
        return EvolutionSearch()
    if name == "tpe":  # as for bayes: a third of a small budget for the startup trials
        return TPESearch(n_startup_trials=min(10, max(2, budget // 3)))
    raise ValueError(f"searcher must be one of {', '.join(SEARCHER_NAMES)}; got {name!r}.")


def model_and_space(model, classification, max_epochs, random_state):
    """The estimator and search space for `--model linear|logistic|mlp`."""
    if model == "mlp":
        estimator_class = MLPClassifier if classification else MLPRegressor
        estimator = estimator_class(hidden_layer_sizes=(32,), max_epochs=max_epochs, tol=1e-4, n_iter_no_change=5,
                                    optimizer=Momentum(lr=0.05, momentum=0.9, batch_size=64),
                                    random_state=random_state)
        lr = Real(1e-3, 0.2, log=True)  # one name under both choices, so declared equal under each
        space = {  # the optimizer is chosen with its own hyperparameters: a conditional space
            "alpha": Real(1e-6, 1e-1, log=True),
            "hidden_layer_sizes": Categorical([(16,), (32,), (64,)]),
            "optimizer": Categorical({
                Momentum(lr=0.05, momentum=0.9, batch_size=64): {
                    "optimizer__lr": lr, "optimizer__batch_size": Categorical([16, 32, 64, 128]),
                    "optimizer__momentum": Real(0.5, 0.95)},
                Adam(lr=0.003, batch_size=64): {
                    "optimizer__lr": lr, "optimizer__batch_size": Categorical([16, 32, 64, 128]),
                    "optimizer__beta1": Real(0.8, 0.95), "optimizer__beta2": Real(0.99, 0.9999)},
            }),
        }
        return estimator, space
    if model == "logistic":
        if not classification:
            raise ValueError("`--model logistic` needs a class target; use `--model linear` for a numeric one.")
        return LogisticRegression(random_state=random_state), {"alpha": Real(1e-6, 10.0, log=True)}
    if model == "linear":
        if classification:
            raise ValueError("`--model linear` needs a numeric target; use `--model logistic` or `mlp` for classes.")
        return LinearRegression(), {"alpha": Real(1e-8, 100.0, log=True)}
    raise ValueError(f"`--model` must be one of linear, logistic, mlp; got {model!r}.")


def open_stored_study(storage, name, space, *, budget, seed, context):
    """Create, or resume, the study kept in `storage` (the searcher `name`, maximising), refusing one run in
    another `context`; returns the number of its earlier trials."""
    searcher = make_searcher(name, budget, len(space))
    with Study(space, searcher, direction="maximize", storage=storage, seed=seed, context=context) as study:
        return len(study)


class SearchInterrupted(Exception):
    """Ctrl-C ended a search early: its `study` (finished trials kept) and leaderboard `row` (None when no
    trial completed)."""

    def __init__(self, name, study, row):
        super().__init__(f"the {name} search was interrupted")
        self.name, self.study, self.row = name, study, row

    def note(self):
        """A line for a report: the search stopped short of its budget."""
        return (f"**Interrupted** (Ctrl-C): the {self.name} search stopped after {finished_trials(self.study)} "
                "finished trials, short of its budget; the scores below are those of the trials that finished.")


class Interrupted(Exception):
    """Ctrl-C ended a command: `finished` trials are kept in `where` (a study file or a report's trials.json)."""

    def __init__(self, finished, where):
        super().__init__(f"interrupted: {finished} finished trials kept in {where}")
        self.finished, self.where = finished, where


def finished_trials(study):
    """The trials of `study` that ran to their end (complete, failed or pruned; not lost to an interrupt)."""
    return sum(t.state is not TrialState.RUNNING and not t.lost for t in study.trials)


def _interrupted(search):
    study = getattr(search, "study_", None)
    return study is not None and study.stop_reason == "interrupted"


def run_search(name, estimator, space, X_train, y_train, X_test, y_test, *, budget, cv, scoring, seed, n_jobs,
               progress, storage=None):
    """One SearchCV run; returns (leaderboard row, fitted SearchCV). A search that Ctrl-C ended raises
    SearchInterrupted, with the row of the trials that finished (None if none completed)."""
    searcher = make_searcher(name, budget, len(space))
    started = time.perf_counter()
    search = SearchCV(estimator, space, searcher=searcher, n_trials=budget, cv=cv, scoring=scoring, n_jobs=n_jobs,
                      random_state=seed, progress=progress, storage=storage)
    try:
        search.fit(X_train, y_train)
    except Exception:
        if _interrupted(search):  # e.g. "all trials failed" when the interrupt came before any finished
            raise SearchInterrupted(name, search.study_, None) from None
        raise
    row = _leaderboard_row(name, estimator, search, X_test, y_test, np.unique(y_train), time.perf_counter() - started)
    if _interrupted(search):
        raise SearchInterrupted(name, search.study_, row)
    return row, search


def _leaderboard_row(name, estimator, search, X_test, y_test, classes, seconds):
    """The leaderboard row of a fitted search: best CV score, test score (and precision, recall, F1 for a
    classifier, binary on classes[1] or macro-averaged), trials, failures, seconds, best params."""
    trials = search.study_.trials
    failed = sum(t.state is not TrialState.COMPLETE for t in trials)
    row = {"searcher": name, "best_cv": float(search.best_score_), "test_score": float(search.score(X_test, y_test)),
           "trials": len(trials), "failed": failed, "seconds": seconds,
           "best_params": _show_params(search.best_params_)}
    if is_classifier(estimator):
        predicted = search.predict(X_test)
        average = "binary" if len(classes) == 2 else "macro"
        pos = {"pos_label": classes[1]} if average == "binary" else {}
        row["precision"] = float(precision_score(y_test, predicted, average=average, **pos))
        row["recall"] = float(recall_score(y_test, predicted, average=average, **pos))
        row["f1"] = float(f1_score(y_test, predicted, average=average, **pos))
    return row


def _show_params(params):
    def show(value):
        if isinstance(value, float):
            return f"{value:.3g}"
        return type(value).__name__ if hasattr(value, "get_params") else str(value)  # a chosen optimizer by its kind

    return ", ".join(f"{k}={show(v)}" for k, v in sorted(params.items()))
