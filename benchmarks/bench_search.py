"""Search benchmark: SearchCV against scikit-learn's GridSearchCV/RandomizedSearchCV on the same data, grid,
folds and epochs; the import cost of the search package; parallel trials on threads and processes; and the
study's own cost per trial as the number of stored trials grows.

    python -m tunelab.benchmarks bench search [--quick] [--compare] [--out DIR]

Every row gives times in ms, `ratio` = tunelab / peer (< 1: tunelab is faster or smaller), its target and
whether it is met. The machine's load average is recorded with the results: parallel rows need idle cores.
"""

import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from tunelab.benchmarks._harness import markdown_table, meets, peer, peer_note, save_json, time_interleaved
from tunelab.core import LogisticRegression, MLPClassifier, StratifiedKFold, load_digits, make_classification
from tunelab.optimizers import SGD, Adam
from tunelab.searchers import GridSearch, RandomSearch, Real, SearchCV, Study

ALPHAS = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
LRS = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
COLUMNS = ["case", "tunelab_ms", "peer", "peer_ms", "ratio", "target", "met", "cpu_ms"]


def row(case, tunelab_s, peer_name="", peer_s=None, target=None, **extra):
    """A table row in ms; ratio = tunelab / peer; `target` = (column, comparison, bound), e.g.
    ("ratio", "<=", 0.5), checked into "met"."""
    record = {"case": case, "tunelab_ms": tunelab_s * 1e3, "peer": peer_name,
              "peer_ms": None if peer_s is None else peer_s * 1e3,
              "ratio": None if peer_s is None else tunelab_s / peer_s, **extra}
    if target is None:
        record.update(target="reported", met="")
    else:
        column, comparison, bound = target
        record.update(target=f"{column} {comparison} {bound:g}", met=meets(record[column], comparison, bound))
    return record


# ---- SearchCV against scikit-learn ----------------------------------------------------------------

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
        cases.update(_sklearn_searches(X, y, folds, epochs, results))
    t = time_interleaved(cases, repeats=repeats, warmup=1)
    rows = []
    for kind, searcher_name, peer_name, target in (
            ("grid", "GridSearch", "GridSearchCV", ("ratio", "<=", 0.5)),
            ("random", "RandomSearch", "RandomizedSearchCV", None)):
        key = f"sk {kind}"
        rows.append(row(f"SearchCV {kind} 5x5 / 25 trials, 3-fold, SGD batch 1, {epochs} epochs, n={n}, d={d}",
                        t[kind], f"sklearn {peer_name} + SGDClassifier" if key in t else "", t.get(key),
                        target if key in t else None, tunelab_best_cv=results[searcher_name],
                        peer_best_cv=results.get(key)))
    return rows


def _sklearn_searches(X, y, folds, epochs, results):
    from scipy.stats import loguniform  # scikit-learn depends on SciPy
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    sk_model = SGDClassifier(loss="log_loss", learning_rate="constant", max_iter=epochs, tol=None, random_state=0)
    sk_grid = {"alpha": np.geomspace(ALPHAS[0], ALPHAS[-1], 5), "eta0": np.geomspace(LRS[0], LRS[-1], 5)}
    sk_dists = {"alpha": loguniform(ALPHAS[0], ALPHAS[-1]), "eta0": loguniform(LRS[0], LRS[-1])}

    def grid():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results["sk grid"] = GridSearchCV(sk_model, sk_grid, cv=folds, scoring="accuracy").fit(X, y).best_score_

    def random():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            search = RandomizedSearchCV(sk_model, sk_dists, n_iter=25, cv=folds, scoring="accuracy", random_state=0)
            results["sk random"] = search.fit(X, y).best_score_

    return {"sk grid": grid, "sk random": random}


# ---- import -----------------------------------------------------------------------------------------

_IMPORT = ("import time; t, c = time.perf_counter(), time.process_time(); import {modules}; "
           "print(time.perf_counter() - t, time.process_time() - c)")
TUNELAB = "tunelab.core, tunelab.optimizers, tunelab.searchers"


def bench_import(repeats):
    """Seconds to import the three packages against `import numba`, each in a fresh process, interleaved;
    medians of wall and CPU time. Bytecode is written first (one import that may write it), as an
    installed package has it, whatever PYTHONDONTWRITEBYTECODE says."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", f"import {TUNELAB}"], env=env, check=True)
    samples = {"numba": [], "tunelab": []}
    for _ in range(repeats):
        for name, modules in (("numba", "numba"), ("tunelab", TUNELAB)):
            out = subprocess.run([sys.executable, "-c", _IMPORT.format(modules=modules)], capture_output=True,
                                 text=True, env=env, check=True).stdout
            samples[name].append([float(x) for x in out.split()])
    wall = {name: statistics.median(s[0] for s in v) for name, v in samples.items()}
    cpu = {name: statistics.median(s[1] for s in v) for name, v in samples.items()}
    return [row(f"import {TUNELAB} (fresh process, wall)", wall["tunelab"], "import numba", wall["numba"],
                ("ratio", "<=", 1.3)),
            row(f"import {TUNELAB} (fresh process, CPU time)", cpu["tunelab"], "import numba", cpu["numba"],
                ("ratio", "<=", 1.3))]


# ---- parallel trials --------------------------------------------------------------------------------

def _mlp_search(n_trials, epochs):
    """SearchCV of an MLP (64 hidden units, Adam, batch 64) on digits, random alpha and lr, 3 fixed folds."""
    X, y = load_digits()
    X = X / 16.0
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    model = MLPClassifier(hidden_layer_sizes=(64,), optimizer=Adam(lr=1e-3, batch_size=64), max_epochs=epochs,
                          tol=None, random_state=0)
    space = {"alpha": Real(1e-5, 1e-1, log=True), "optimizer__lr": Real(1e-4, 1e-2, log=True)}

    def run(n_jobs, backend):
        search = SearchCV(model, space, searcher=RandomSearch(), n_trials=n_trials, cv=folds, n_jobs=n_jobs,
                          backend=backend, random_state=0, progress=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: the epochs are fixed on purpose
            start = time.perf_counter()
            search.fit(X, y)
            return time.perf_counter() - start, search.best_score_

    return run


@njit(cache=True, nogil=True)
def _spin(n):
    """n steps of a scalar recurrence: compute-bound work that releases the GIL."""
    x = 0.5
    for _ in range(n):
        x = 3.9 * x * (1.0 - x)
    return x


def _ceiling(k, steps):
    """Seconds for k threads each running `_spin(steps)` at once: against k = 1, the speedup the machine
    offers k workers right now (other work on it takes its share of the cores)."""
    with ThreadPoolExecutor(k) as pool:
        start = time.perf_counter()
        list(pool.map(_spin, [steps] * k))
        return time.perf_counter() - start


def bench_parallel(n_trials, epochs, repeats, backends=("threads", "processes")):
    """The same search with n_jobs = 1, 2, 4, ... up to the cores, on each backend, interleaved; medians.
    n_jobs=1 runs in the calling thread for either backend. The first search on processes in this Python
    process also starts the fork server (reported apart). Each repetition also measures the machine's
    ceiling (`_ceiling`): no k workers can beat it."""
    run = _mlp_search(n_trials, epochs)
    cores = os.cpu_count() or 1
    jobs = [1] + [k for k in (2, 4, 8, 16, 32, 64) if k <= cores]
    cases = [(1, "threads")] + [(k, backend) for k in jobs[1:] for backend in backends]
    run(1, "threads")  # kernels compiled or loaded
    first_processes = run(jobs[-1], "processes")[0] if len(jobs) > 1 and "processes" in backends else None
    steps = 200_000_000  # about 0.3 s
    samples, ceiling, scores = {case: [] for case in cases}, {k: [] for k in jobs}, {}
    for _ in range(repeats):
        for case in cases:
            seconds, scores[case] = run(*case)
            samples[case].append(seconds)
        for k in jobs:
            ceiling[k].append(_ceiling(k, steps))
    t = {case: statistics.median(v) for case, v in samples.items()}
    c = {k: statistics.median(v) for k, v in ceiling.items()}
    table = [{"backend": backend if k > 1 else "either", "n_jobs": k, "ms": t[(k, backend)] * 1e3,
              "speedup": t[(1, "threads")] / t[(k, backend)], "machine_ceiling": k * c[1] / c[k],
              "best_cv": scores[(k, backend)]} for k, backend in cases]
    what = f"SearchCV {n_trials} MLP trials on digits, 3-fold, {epochs} epochs"
    rows = [row(f"{what}, {backend}, n_jobs={k}", t[(k, backend)], "the same, n_jobs=1", t[(1, "threads")],
                ("ratio", "<=", round(1 / 1.7, 3)) if k == 2 else None, speedup=t[(1, "threads")] / t[(k, backend)],
                machine_ceiling=k * c[1] / c[k]) for k, backend in cases[1:]]
    if first_processes is not None:
        rows.append(row(f"{what}, processes, n_jobs={jobs[-1]}, first in this process (fork server starts)",
                        first_processes))
        rows.append(row(f"start {jobs[-1]} worker processes (a study's first optimize call, fork server running)",
                        _pool_start(jobs[-1], repeats=5)))
    return rows, table


def _pool_start(n_jobs, repeats):
    """Median seconds of `optimize(n_trials=0)` on worker processes: the pool starts, each worker loads the
    objective, and the call ends."""
    samples = []
    for _ in range(repeats):
        study = Study(SPACE, RandomSearch(), seed=0)
        start = time.perf_counter()
        study.optimize(_objective, n_trials=0, n_jobs=n_jobs, backend="processes", progress=False)
        samples.append(time.perf_counter() - start)
        study.close()
    return statistics.median(samples)


# ---- the cost of a trial as the study grows -----------------------------------------------------------

SPACE = {"x": Real(0.0, 1.0), "y": Real(1e-3, 1.0, log=True)}


def _objective(params):
    return params["x"] + params["y"]


def _prefilled_sqlite(folder, n):
    """A study file holding n finished trials, written in one transaction (copies of a first trial, with
    their own numbers and write sequence), then opened as a study (which reads them all once)."""
    path = os.path.join(folder, f"study-{n}.db")
    Study(SPACE, RandomSearch(), storage=path, seed=0).optimize(_objective, n_trials=1, progress=False).close()
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("BEGIN IMMEDIATE")
        db.execute("WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ?) "
                   "INSERT INTO trials SELECT i, state, params, value, error, start_time, end_time, "
                   "intermediate_values, attrs, system_attrs, seq + i FROM trials, k WHERE number = 0", (n,))
        db.execute("COMMIT")
    return Study.load(path)


def bench_trial_cost(sizes, window, repeats):
    """ms per trial of a random search on a trivial objective (the study's own cost: ask, record, store)
    with n trials stored, in memory and in SQLite: windows of `window` trials, interleaved, median of
    wall time (the target) and of this process's CPU time (which other work on the machine does not
    inflate)."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        studies = {}
        for n in sizes:
            memory = Study(SPACE, RandomSearch(), seed=0)
            memory.optimize(_objective, n_trials=n, progress=False)
            studies[("memory", n)] = memory
            studies[("SQLite", n)] = _prefilled_sqlite(folder, n)
        wall, cpu = {key: [] for key in studies}, {key: [] for key in studies}
        for _ in range(repeats):
            for key, study in studies.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                study.optimize(_objective, n_trials=window, progress=False)
                wall[key].append((time.perf_counter() - start) / window)
                cpu[key].append((time.process_time() - start_cpu) / window)
        t = {key: statistics.median(v) for key, v in wall.items()}
        for kind, bound in (("memory", 0.1e-3), ("SQLite", 0.3e-3)):
            base = t[(kind, sizes[0])]
            for n in sizes:
                rows.append(row(f"study cost per trial, {kind}, {n:,} trials stored", t[(kind, n)],
                                f"the same, {sizes[0]:,} stored" if n != sizes[0] else "", None if n == sizes[0]
                                else base, ("tunelab_ms", "<=", bound * 1e3),
                                cpu_ms=statistics.median(cpu[(kind, n)]) * 1e3))
        for study in studies.values():
            study.close()
    return rows


def run(quick=False, out="bench-results", compare=True):
    sklearn = peer("sklearn") if compare else None
    notes = [note for note in [peer_note("scikit-learn", "sklearn", compare, sklearn)] if note]
    notes.append(f"load average when the run started: {', '.join(f'{x:.2f}' for x in os.getloadavg())} "
                 f"on {os.cpu_count()} CPUs")
    rows = bench_searchcv(1000 if quick else 20000, 20 if quick else 40, 5, 1 if quick else 5, sklearn)
    rows += bench_import(1 if quick else 15)
    if quick:
        notes.append("--quick: parallel trials on threads only (worker processes start a fork server first)")
    parallel_rows, scaling = bench_parallel(4 if quick else 48, 2 if quick else 20, 1 if quick else 3,
                                            ("threads",) if quick else ("threads", "processes"))
    rows += parallel_rows
    rows += bench_trial_cost([1_000, 10_000] if quick else [1_000, 10_000, 100_000], 100 if quick else 500,
                             3 if quick else 5)
    for note in notes:
        print(f"note: {note}")
    print(markdown_table(rows, COLUMNS))
    print("\nparallel trials (the MLP search above): time and speedup over n_jobs=1; machine_ceiling: the "
          "speedup k threads of pure compute got in the same repetitions (other work on the machine lowers it)")
    print(markdown_table(scaling, ["backend", "n_jobs", "ms", "speedup", "machine_ceiling", "best_cv"]))
    return save_json(os.path.join(out, "search.json"), "search", {"rows": rows, "scaling": scaling}, notes)
