"""Several objectives for SearchCV: scikit-learn's multi-metric `scoring` dict, plus the costs of a model.

    SearchCV(model, space, scoring={"accuracy": "accuracy", "fit_time": "fit_time"},
             directions=["maximize", "minimize"], refit="accuracy")

Each entry of the dict is a scorer (a name of tunelab.core.metrics or a callable scorer(estimator, X, y),
mean over the test folds, maximised by default) or one of the costs, minimised by default:

    "fit_time"   mean seconds of a fold's fit
    "n_weights"  mean number of fitted weights of a fold's model: the entries of the floating-point arrays
                 among its fitted attributes (coef_, intercept_, coefs_, intercepts_, ...), loss curves
                 and class labels left out

The study's trials hold one value per entry; its Pareto front is `SearchCV.pareto_front_`.
"""

import numbers

import numpy as np

from tunelab.core.metrics import check_scoring
from tunelab.core.model_selection import cross_validate
from tunelab.searchers.pareto import is_pareto_efficient
from tunelab.searchers.trial import FIT_TIMES, SCORE_TIMES, TrialState

COSTS = ("fit_time", "n_weights")
_NOT_WEIGHTS = ("classes_", "loss_curve_", "validation_scores_", "feature_names_in_")


def n_weights(model):
    """The number of fitted weights of `model`: entries of the float arrays (alone or in lists) among its
    public attributes ending in "_", except class labels and curves (`_NOT_WEIGHTS`)."""
    total = 0
    for name, value in vars(model).items():
        if not name.endswith("_") or name.startswith("_") or name in _NOT_WEIGHTS or "curve" in name:
            continue
        arrays = value if isinstance(value, (list, tuple)) else [value]
        for a in arrays:
            if isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating):
                total += a.size
    return total


def is_multi_metric(scoring):
    return isinstance(scoring, dict)


def check_multi_scoring(estimator, scoring, directions, y=None):
    """(scorers, directions) for a multi-metric `scoring` dict: name -> checked scorer (None for a cost),
    and a list of directions (given as a list in the dict's order, a dict by name, or None: costs
    minimised, scores maximised)."""
    if not scoring:
        raise ValueError("`scoring` must name at least one objective; got an empty dict.")
    scorers = {}
    for name, scorer in scoring.items():
        if not isinstance(name, str):
            raise TypeError(f"the names of `scoring` must be strings; got {name!r}.")
        if isinstance(scorer, str) and scorer in COSTS:
            scorers[name] = None
        else:
            check_scoring(estimator, scorer, y=y)
            scorers[name] = scorer
    if directions is None:
        directions = ["minimize" if scorers[name] is None else "maximize" for name in scoring]
    elif isinstance(directions, dict):
        unknown = [k for k in directions if k not in scoring]
        if unknown:
            raise ValueError(f"`directions` names {unknown}, which are not in `scoring` ({list(scoring)}).")
        directions = [directions.get(name, "minimize" if scorers[name] is None else "maximize") for name in scoring]
    elif isinstance(directions, (list, tuple)) and len(directions) != len(scoring):
        raise ValueError(f"`directions` must hold one direction per entry of `scoring` ({len(scoring)}); "
                         f"got {list(directions)!r}.")
    return scorers, list(directions)


class MultiMetricObjective:
    """trial -> (mean test value of each entry of the scoring dict), over fixed folds; picklable."""

    def __init__(self, estimator, X, y, splits, scoring, configure):
        self.estimator, self.X, self.y, self.splits = estimator, X, y, splits
        self.scoring, self.configure = scoring, configure

    def __call__(self, trial):
        model = self.configure(self.estimator, trial.params)
        scorers = {name: s for name, s in self.scoring.items() if not (isinstance(s, str) and s in COSTS)}
        weights = any(isinstance(s, str) and s == "n_weights" for s in self.scoring.values())
        result = cross_validate(model, self.X, self.y, cv=self.splits, scoring=scorers or None,
                                return_estimator=weights)
        trial.set_attr(FIT_TIMES, result["fit_time"].tolist())
        trial.set_attr(SCORE_TIMES, result["score_time"].tolist())
        values = []
        for name, scorer in self.scoring.items():
            if scorer == "fit_time":
                split = result["fit_time"]
            elif scorer == "n_weights":
                split = np.array([n_weights(m) for m in result["estimator"]], dtype=np.float64)
            else:
                split = result[f"test_{name}"]  # a dict of scorers: one entry per name
            trial.set_attr(f"split_test_{name}", [float(v) for v in split])
            values.append(float(np.mean(split)))
        return tuple(values)


def _rank(mean, sign):
    """Rank 1 best (ties share the lowest rank); NaN last."""
    key = np.where(np.isnan(mean), np.inf, sign * mean)
    return np.array([1 + np.sum(key < v) for v in key], dtype=np.int64)


def multi_cv_results(results, trials, names, directions, n_splits):
    """Add to `results` (the cv_results_ of the params) split<k>_test_<name>, mean_test_<name>,
    std_test_<name> and rank_test_<name> for each objective, and `pareto_front` (bool): the non-dominated
    complete trials."""
    m = len(trials)
    losses = np.full((m, len(names)), np.inf)
    for j, (name, direction) in enumerate(zip(names, directions)):
        split = np.full((m, n_splits), np.nan)  # (m, k)
        for i, t in enumerate(trials):
            if t.state is TrialState.COMPLETE and f"split_test_{name}" in t.attrs:
                split[i] = t.attrs[f"split_test_{name}"]
        for k in range(n_splits):
            results[f"split{k}_test_{name}"] = split[:, k]
        mean = split.mean(axis=1)
        sign = 1.0 if direction == "minimize" else -1.0
        results[f"mean_test_{name}"], results[f"std_test_{name}"] = mean, split.std(axis=1)
        results[f"rank_test_{name}"] = _rank(mean, sign)
        losses[:, j] = np.where(np.isnan(mean), np.inf, sign * mean)
    complete = np.array([t.state is TrialState.COMPLETE for t in trials], dtype=bool)
    front = np.zeros(m, dtype=bool)
    if complete.any():
        front[complete] = is_pareto_efficient(losses[complete])
    results["pareto_front"] = front
    return results


def refit_index(refit, results, names, directions):
    """The row that `refit` picks: the best mean of the objective it names (the first on ties, among the
    Pareto front), or refit(cv_results_) -> an int row (scikit-learn's refit callable)."""
    if callable(refit):
        index = refit(results)
        if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not 0 <= index < len(
                results["params"]):
            raise ValueError(f"`refit` must return the index of a row of cv_results_ (0 to "
                             f"{len(results['params']) - 1}); got {index!r}.")
        return int(index)
    if refit not in names:
        raise ValueError(f"with several objectives, `refit` must be one of their names {names}, a callable "
                         f"refit(cv_results_) -> index, or False; got {refit!r}.")
    rank = results[f"rank_test_{refit}"]
    rows = np.flatnonzero(results["pareto_front"] & (rank == rank[results["pareto_front"]].min()))
    return int(rows[0])
