"""Hyperparameter search that looks inside the fit: hypergradients for alpha, multi-fidelity for epochs.

1. The L2 strength alpha of ridge and logistic regression, found by HypergradientSearch against grid,
   random and GP-Bayesian search: fits (trials; each is one fit per fold) needed to come within 1% of
   the best mean validation loss (the model's own loss: half the MSE, or the log-loss, on 3 folds).
   The best is the least loss of a 241-point grid over the range and of every trial of every method.
   A K-point log grid over the range costs K fits; from the band of alphas within 1% (edges refined by
   bisection) two counts are given: the luckiest (fewest K whose grid has a point in the band) and the
   K from which every finer grid has one. Random and Bayesian search count the trials until the first
   within 1% (censored at the budget: "> 30"); medians over seeds. HypergradientSearch starts from a
   random alpha per seed and stops by itself.
2. Hyperband and ASHA against full-budget random search tuning an MLP on digits (3-fold CV accuracy):
   random search trains each of 40 configurations for 27 epochs; the pruners continue trainings from 1
   epoch up to 27 (warm start). Best CV accuracy of a configuration trained 27 epochs, epochs trained
   (per fold model), the epochs after which the pruner's best first matched random search's final best,
   and wall time; the methods run in turn for each seed.

    python -m tunelab.benchmarks bench hyper [--quick] [--seeds K] [--out DIR]
"""

import math
import numbers
import os
import time

import numpy as np

from tunelab.benchmarks._harness import markdown_table, save_json
from tunelab.core.datasets import load_breast_cancer, load_digits, make_classification, make_regression
from tunelab.core.linear_model import LinearRegression, LogisticRegression
from tunelab.core.neural_network import MLPClassifier
from tunelab.core.preprocessing import StandardScaler
from tunelab.optimizers import Adam
from tunelab.searchers.gradient.hypergradient import HypergradientCV, HypergradientSearch
from tunelab.searchers.multifidelity import ASHA, EpochCV, Hyperband, SuccessiveHalving
from tunelab.searchers.sampling.random import RandomSearch
from tunelab.searchers.space import Integer, Real
from tunelab.searchers.study import Study

try:
    from tunelab.searchers.bayes.search import BayesSearch
except ImportError:  # not written yet
    BayesSearch = None

ALPHA_RANGE = (1e-6, 1e2)
WITHIN = 0.01  # "within 1% of the best validation loss"


# --------------------------------------------------------------------------------------------------
# 1. alpha by hypergradients
# --------------------------------------------------------------------------------------------------
def alpha_problems(quick):
    """name -> (estimator, X, y): ridge and logistic problems where alpha matters."""
    problems = {}
    X, y = make_regression(n_samples=150, n_features=100, n_informative=100, noise=20.0, random_state=0)
    problems["ridge, n=150, d=100, noise 20"] = (LinearRegression(), X, y)
    X, y = make_regression(n_samples=120, n_features=60, n_informative=60, noise=5.0, random_state=0)
    problems["ridge, n=120, d=60, noise 5"] = (LinearRegression(), X, y)
    X, y = make_classification(n_samples=300, n_features=80, n_informative=10, flip_y=0.05, random_state=0)
    problems["logistic, n=300, d=80"] = (LogisticRegression(), X, y)
    if not quick:
        X, y = load_breast_cancer()
        problems["logistic, breast cancer (569 x 30)"] = (LogisticRegression(), StandardScaler().fit_transform(X), y)
        X, y = load_digits()
        problems["multinomial logistic, digits (1797 x 64)"] = (LogisticRegression(), X / 16.0, y)
    return problems


class LossObjective:
    """trial -> mean validation loss over 3 fixed folds (HypergradientCV's "hyperloss", the same function for
    every searcher); counts the trials and keeps every loss seen."""

    def __init__(self, estimator, X, y):
        self.cv = HypergradientCV(estimator, X, y, cv=3)
        self.losses = []

    def __call__(self, trial):
        self.cv(trial)
        loss = trial.attrs["hyperloss"]
        self.losses.append(loss)
        return loss


def loss_at(estimator, X, y, alphas):
    """Mean validation loss at each alpha, one warm-started fit per fold each, (len(alphas),)."""
    objective = LossObjective(estimator, X, y)
    for alpha in alphas:
        objective(_Probe({"alpha": float(alpha)}))
    return np.array(objective.losses)


def band_edges(estimator, X, y, alphas, losses, best):
    """[lo, hi]: the alphas whose loss is within 1% of `best`, edges refined by bisection in log alpha
    from the fine grid (the loss is taken to be unimodal in log alpha)."""
    inside = np.flatnonzero(losses <= best * (1 + WITHIN))
    edges = []
    for k, outside in ((inside[0], inside[0] - 1), (inside[-1], inside[-1] + 1)):
        if outside < 0 or outside >= len(alphas):
            edges.append(alphas[k])  # the band reaches the end of the range
            continue
        a, b = math.log(alphas[k]), math.log(alphas[outside])  # a inside, b outside
        for _ in range(12):
            mid = 0.5 * (a + b)
            if loss_at(estimator, X, y, [math.exp(mid)])[0] <= best * (1 + WITHIN):
                a = mid
            else:
                b = mid
        edges.append(math.exp(a))
    return edges


def grid_fits(lo, hi, max_points=1000):
    """(fewest K of a K-point log grid over ALPHA_RANGE with a point in [lo, hi]; the K from which every
    larger grid has one)."""
    space = Real(*ALPHA_RANGE, log=True)
    hits = [any(lo <= a <= hi for a in space.grid(K)) for K in range(2, max_points + 1)]
    fewest = 2 + hits.index(True)
    misses = [K for K, hit in zip(range(2, max_points + 1), hits) if not hit]
    return fewest, (max(misses) + 1 if misses else 2)


def first_within(losses, best):
    hits = [k for k, loss in enumerate(losses) if loss <= best * (1 + WITHIN)]
    return hits[0] + 1 if hits else None


def run_searcher(make_searcher, estimator, X, y, seed, budget):
    objective = LossObjective(estimator, X, y)
    study = Study({"alpha": Real(*ALPHA_RANGE, log=True)}, make_searcher(seed), seed=seed)
    start = time.perf_counter()
    study.optimize(objective, n_trials=budget, progress=False)
    return objective.losses, time.perf_counter() - start


def hypergradient_searcher(seed):
    u = np.random.default_rng(seed).random()
    low, high = ALPHA_RANGE
    return HypergradientSearch(init={"alpha": float(low * (high / low) ** u)})


def bench_alpha(quick, seeds):
    budget = 30
    searchers = {"hypergradient": hypergradient_searcher, "random": lambda seed: RandomSearch()}
    if BayesSearch is not None:
        searchers["bayes (GP)"] = lambda seed: BayesSearch()
    rows = []
    for name, (estimator, X, y) in alpha_problems(quick).items():
        alphas = Real(*ALPHA_RANGE, log=True).grid(81 if quick else 241)
        fine = loss_at(estimator, X, y, alphas)
        runs = {method: [run_searcher(make, estimator, X, y, seed, budget) for seed in seeds]
                for method, make in searchers.items()}
        best = min([fine.min()] + [min(losses) for per_seed in runs.values() for losses, _ in per_seed])
        lo, hi = band_edges(estimator, X, y, alphas, fine, best)
        fewest, always = grid_fits(lo, hi)
        band = math.log10(hi / lo)
        rows.append({"problem": name, "method": "grid (luckiest K)", "fits_to_1pct": fewest, "band_decades": band})
        rows.append({"problem": name, "method": "grid (every K from)", "fits_to_1pct": always, "band_decades": band})
        for method, per_seed in runs.items():
            fits = [first_within(losses, best) for losses, _ in per_seed]
            reached = [f for f in fits if f is not None]
            median = float(np.median([f if f is not None else budget + 1 for f in fits]))
            rows.append({"problem": name, "method": method,
                         "fits_to_1pct": median if median <= budget else f"> {budget}",
                         "fits_max": max(reached) if len(reached) == len(fits) else f"> {budget}",
                         "best_loss_ratio": float(np.median([min(losses) / best for losses, _ in per_seed])),
                         "trials_run": float(np.median([len(losses) for losses, _ in per_seed])),
                         "seconds": float(np.median([seconds for _, seconds in per_seed]))})
        print(f"  {name}: best mean validation loss {best:.6g}")
    return rows


# --------------------------------------------------------------------------------------------------
# 2. epochs by successive halving
# --------------------------------------------------------------------------------------------------
MLP_SPACE = {"alpha": Real(1e-6, 1e-1, log=True), "optimizer__lr": Real(1e-4, 3e-1, log=True),
             "hidden_layer_sizes": Integer(4, 64, log=True)}


class CountingEpochs:
    """Wraps a resumable objective: the best accuracy of a configuration trained to `full` epochs, as a
    function of the epochs trained so far (the curve of accuracy reached against epochs)."""

    def __init__(self, objective, full):
        self.objective, self.full = objective, full
        self.epochs, self.best, self.curve = 0, -math.inf, []

    def __call__(self, trial, state, epochs):
        value, state = self.objective(trial, state, epochs)
        self.epochs += epochs
        done = (trial.attrs.get("epochs", 0) or 0) + epochs  # the pruner records "epochs" after this call
        if done >= self.full and value > self.best:
            self.best = value
            self.curve.append((self.epochs, value))
        return value, state


def bench_epochs(quick, seeds):
    X, y = load_digits()
    X = X / 16.0
    if quick:
        X, y = X[:600], y[:600]
    R = 27
    n_random = 20 if quick else 40
    model = MLPClassifier(optimizer=Adam(lr=1e-3, batch_size=64), random_state=0)
    methods = {
        f"random search, {n_random} configs x {R} epochs": (SuccessiveHalving(R, R), n_random),
        "Hyperband(1, 27, eta=3), one round": (Hyperband(1, R), None),
        f"ASHA(1, 27, eta=3), {2 * n_random} configs": (ASHA(1, R), 2 * n_random),
    }
    EpochCV(model, X[:60], y[:60], cv=2, scoring="accuracy")(_Probe({}), None, 1)  # compile the kernels first
    per_method = {name: [] for name in methods}
    for seed in seeds:
        for name, (pruner, n_trials) in methods.items():  # interleaved: each seed runs every method in turn
            study = Study(MLP_SPACE, RandomSearch(), direction="maximize", seed=seed)
            objective = CountingEpochs(EpochCV(model, X, y, cv=3, scoring="accuracy"), R)
            start = time.perf_counter()
            pruner.optimize(study, objective, n_trials=n_trials)
            per_method[name].append({"seconds": time.perf_counter() - start, "epochs": pruner.total_epochs_,
                                     "accuracy": study.best_value, "configs": len(study.trials),
                                     "curve": objective.curve})
    baseline = next(iter(per_method.values()))
    rows = []
    for name, runs in per_method.items():
        reached = [run["accuracy"] >= base["accuracy"] for run, base in zip(runs, baseline)]
        to_match = [next((epochs for epochs, acc in run["curve"] if acc >= base["accuracy"]), None)
                    for run, base in zip(runs, baseline)]
        rows.append({"method": name, "configs": int(np.median([r["configs"] for r in runs])),
                     "epochs": float(np.median([r["epochs"] for r in runs])),
                     "epochs_vs_random": float(np.median([r["epochs"] / b["epochs"] for r, b in zip(runs, baseline)])),
                     "cv_accuracy": float(np.median([r["accuracy"] for r in runs])),
                     "reached_random": f"{sum(reached)}/{len(reached)}",
                     "epochs_to_match_random": float(np.median(to_match)) if all(to_match) else None,
                     "seconds": float(np.median([r["seconds"] for r in runs])),
                     "per_seed_accuracy": [r["accuracy"] for r in runs],
                     "per_seed_epochs_to_match": to_match,
                     "curves": [r["curve"] for r in runs]})
    return rows


class _Probe:
    """The part of a trial that an objective uses."""

    def __init__(self, params):
        self.params, self.attrs = params, {}

    def set_attr(self, key, value):
        self.attrs[key] = value


# --------------------------------------------------------------------------------------------------
def run(quick=False, out="bench-results", seeds=None):
    """Both parts; prints the tables, writes <out>/hyper.json and returns its record."""
    if seeds is None:
        seeds = 3 if quick else 10
    seeds = list(range(seeds)) if isinstance(seeds, numbers.Integral) else list(seeds)
    notes = [f"seeds: {seeds}", "fits = trials; every trial fits the model once per fold (3 folds)",
             "the validation loss of every method is computed by HypergradientCV (Newton-polished optimum); "
             "only HypergradientSearch uses the hypergradient it also returns, so the seconds of the others "
             "include that unused work"]
    if BayesSearch is None:
        notes.append("BayesSearch not available: its rows are missing")
    print("alpha: fits to within 1% of the best mean validation loss")
    alpha_rows = bench_alpha(quick, seeds)
    print(markdown_table(alpha_rows, ["problem", "method", "fits_to_1pct", "fits_max", "band_decades",
                                      "best_loss_ratio", "trials_run", "seconds"]))
    print("\nMLP on digits: CV accuracy reached against epochs trained")
    epoch_rows = bench_epochs(quick, seeds[:3] if not quick else seeds[:1])
    print(markdown_table(epoch_rows, ["method", "configs", "epochs", "epochs_vs_random", "cv_accuracy",
                                      "reached_random", "epochs_to_match_random", "seconds"]))
    results = {"alpha": alpha_rows, "epochs": epoch_rows}
    return save_json(os.path.join(out, "hyper.json"), "hyper", results, notes)


if __name__ == "__main__":
    run(quick=True)
