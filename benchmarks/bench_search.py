"""Search benchmark: SearchCV against scikit-learn's GridSearchCV/RandomizedSearchCV on the same data, grid,
folds and epochs; the study's own overhead per trial; and trials per second with two workers.

    python -m tunelab.benchmarks bench search [--quick] [--out DIR]
"""

import os
import tempfile
import time
import warnings

import numpy as np

from tunelab.benchmarks._harness import markdown_table, peer, save_json, time_interleaved
from tunelab.core import LogisticRegression, StratifiedKFold, make_classification
from tunelab.optimizers import SGD
from tunelab.searchers import GridSearch, RandomSearch, Real, SearchCV, Study

ALPHAS = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
LRS = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1]


def bench_searchcv(n, d, epochs, repeats, sklearn):
    """5 x 5 grid of (alpha, learning rate) for logistic regression trained by SGD, 3-fold CV."""
    X, y = make_classification(n_samples=n, n_features=d, n_informative=d // 2, random_state=0)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    space = {"alpha": Real(ALPHAS[0], ALPHAS[-1], log=True), "optimizer__lr": Real(LRS[0], LRS[-1], log=True)}
    model = LogisticRegression(optimizer=SGD(lr=0.01, batch_size=1), max_epochs=epochs, tol=None, random_state=0)
    results = {}

    def ours(searcher, n_trials):
        search = SearchCV(model, space, searcher=searcher, n_trials=n_trials, cv=folds, scoring="accuracy",
                          random_state=0, progress=False)
        results[type(searcher).__name__] = search.fit(X, y).best_score_

    cases = {"grid": lambda: ours(GridSearch(n_points=5), 25), "random": lambda: ours(RandomSearch(), 25)}
    if sklearn is not None:
        from sklearn.linear_model import SGDClassifier
        from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
        from scipy.stats import loguniform  # scikit-learn depends on SciPy

        sk_model = SGDClassifier(loss="log_loss", learning_rate="constant", max_iter=epochs, tol=None, random_state=0)
        sk_grid = {"alpha": np.geomspace(ALPHAS[0], ALPHAS[-1], 5), "eta0": np.geomspace(LRS[0], LRS[-1], 5)}
        sk_dists = {"alpha": loguniform(ALPHAS[0], ALPHAS[-1]), "eta0": loguniform(LRS[0], LRS[-1])}

        def sk_grid_search():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results["sk grid"] = GridSearchCV(sk_model, sk_grid, cv=folds, scoring="accuracy").fit(X, y).best_score_

        def sk_random_search():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                search = RandomizedSearchCV(sk_model, sk_dists, n_iter=25, cv=folds, scoring="accuracy", random_state=0)
                results["sk random"] = search.fit(X, y).best_score_

        cases.update({"sk grid": sk_grid_search, "sk random": sk_random_search})
    t = time_interleaved(cases, repeats=repeats, warmup=1)
    rows = []
    for kind, searcher_name in (("grid", "GridSearch"), ("random", "RandomSearch")):
        peer_key = f"sk {kind}"
        rows.append({"case": f"SearchCV {kind} 5x5 / 25 trials, 3-fold, SGD {epochs} epochs, n={n}, d={d}",
                     "tunelab_s": t[kind], "tunelab_best_cv": results[searcher_name],
                     "peer": "sklearn " + ("GridSearchCV" if kind == "grid" else "RandomizedSearchCV") + " + SGDClassifier",
                     "peer_s": t.get(peer_key), "peer_best_cv": results.get(peer_key),
                     "ratio": t[kind] / t[peer_key] if peer_key in t else None,
                     "target": "<= 0.5x" if kind == "grid" else "reported"})
    return rows


def bench_overhead(n_trials):
    """Seconds per trial of the study machinery itself, with an objective that returns at once."""
    space = {"x": Real(0.0, 1.0), "y": Real(1e-3, 1.0, log=True)}
    objective = lambda params: params["x"] + params["y"]  # noqa: E731
    rows = []
    start = time.perf_counter()
    Study(space, RandomSearch(), seed=0).optimize(objective, n_trials=n_trials, progress=False)
    memory = (time.perf_counter() - start) / n_trials
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        Study(space, RandomSearch(), storage=os.path.join(folder, "study.db"), seed=0).optimize(
            objective, n_trials=n_trials, progress=False)
        sqlite = (time.perf_counter() - start) / n_trials
    rows.append({"case": f"study overhead per trial, in memory ({n_trials} trials)", "tunelab_s": memory,
                 "target": "<= 0.1 ms"})
    rows.append({"case": f"study overhead per trial, SQLite ({n_trials} trials)", "tunelab_s": sqlite,
                 "target": "<= 2 ms"})
    return rows


def bench_parallel(n, d, n_trials):
    """Trials per second of a random search over tunelab's LogisticRegression, 1 worker against 2 threads."""
    X, y = make_classification(n_samples=n, n_features=d, n_informative=d // 2, random_state=1)
    space = {"alpha": Real(1e-5, 1e-1, log=True), "optimizer__lr": Real(1e-3, 1e-1, log=True)}
    model = LogisticRegression(optimizer=SGD(lr=0.01, batch_size=32), max_epochs=20, tol=None, random_state=0)
    rates = {}
    for jobs in (1, 2, 1, 2):
        search = SearchCV(model, space, searcher=RandomSearch(), n_trials=n_trials, cv=3, n_jobs=jobs,
                          random_state=0, progress=False)
        start = time.perf_counter()
        search.fit(X, y)
        rates.setdefault(jobs, []).append(n_trials / (time.perf_counter() - start))
    one, two = np.median(rates[1]), np.median(rates[2])
    return [{"case": f"trials/s, n_jobs=2 vs 1 (threads), LogisticRegression SGD, n={n}, d={d}",
             "tunelab_s": 1.0 / two, "peer": "n_jobs=1", "peer_s": 1.0 / one, "ratio": two / one,
             "target": ">= 1.7x trials/s"}]


def run(quick=False, out="bench-results", compare=True):
    sklearn = peer("sklearn") if compare else None
    notes = [] if sklearn is not None else ["scikit-learn not installed (or --compare off): its rows are skipped"]
    rows = bench_searchcv(2000 if quick else 10000, 20, 5 if quick else 10, 2 if quick else 5, sklearn)
    rows += bench_overhead(200 if quick else 1000)
    rows += bench_parallel(2000 if quick else 20000, 20, 8 if quick else 24)
    for note in notes:
        print(f"note: {note}")
    print(markdown_table(rows, ["case", "tunelab_s", "tunelab_best_cv", "peer", "peer_s", "peer_best_cv", "ratio",
                                "target"]))
    return save_json(os.path.join(out, "search.json"), "search", rows, notes)
