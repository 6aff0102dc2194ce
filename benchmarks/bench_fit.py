"""Parameter-fitting benchmark: tunelab's kernels, optimizers and models against numpy and scikit-learn.

    python -m tunelab.benchmarks bench fit [--quick] [--out DIR]

Every comparison runs side by side in one process, interleaved, single-threaded (Numba and BLAS pinned
to one thread by the command line), and reports medians and the ratio tunelab / peer (< 1: tunelab is
faster). Compile time is measured apart, in fresh processes.
"""

import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from numba import njit

from tunelab.benchmarks._harness import markdown_table, peer, save_json, time_interleaved
from tunelab.core import kernels as K
from tunelab.core.datasets import load_digits, make_classification
from tunelab.core.linear_model import LogisticRegression
from tunelab.core.neural_network import MLPClassifier
from tunelab.optimizers import GD, SGD, KernelProblem, Momentum, train


@njit(cache=True, nogil=True, fastmath={"reassoc", "nsz"})
def read_floor(X):
    """Sum every element of X once (vectorised): the cost of reading X, a floor for one-pass kernels."""
    total = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            total += X[i, j]
    return total


def numpy_logistic_loss_grad(theta, X, y, alpha):
    """The same math as logistic_loss_grad, in numpy: two passes over X (X @ w and X.T @ r)."""
    w, b = theta[:-1], theta[-1]
    z = X @ w + b
    loss = np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * alpha * w @ w
    r = (1.0 / (1.0 + np.exp(-z)) - y) / X.shape[0]
    return loss, np.r_[X.T @ r + alpha * w, r.sum()]


def numpy_squared_loss_grad(theta, X, y, alpha):
    w, b = theta[:-1], theta[-1]
    r = X @ w + b - y
    n = X.shape[0]
    return 0.5 * r @ r / n + 0.5 * alpha * w @ w, np.r_[X.T @ r / n + alpha * w, r.sum() / n]


def bench_kernels(n, d, repeats):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=d) + rng.normal(size=n) > 0).astype(float)
    Y = y.reshape(-1, 1).copy()
    rows = np.arange(n, dtype=np.int64)
    theta, grad, spec = rng.normal(size=d + 1) * 0.1, np.empty(d + 1), np.zeros(0, np.int64)
    cases = {
        "logistic fused": lambda: K.logistic_loss_grad(theta, X, Y, rows, 1e-3, spec, grad),
        "logistic numpy": lambda: numpy_logistic_loss_grad(theta, X, y, 1e-3),
        "squared fused": lambda: K.squared_loss_grad(theta, X, Y, rows, 1e-3, spec, grad),
        "squared numpy": lambda: numpy_squared_loss_grad(theta, X, y, 1e-3),
        "read floor": lambda: read_floor(X),
    }
    t = time_interleaved(cases, repeats=repeats)
    rows_out = []
    for model, target_numpy, target_floor in (("logistic", 0.3, 2.0), ("squared", 0.25, 1.5)):
        fused = t[f"{model} fused"]
        rows_out.append({
            "case": f"{model} loss+grad, n={n}, d={d}", "tunelab_ms": fused * 1e3,
            "peer": "numpy", "peer_ms": t[f"{model} numpy"] * 1e3, "ratio": fused / t[f"{model} numpy"],
            "target": f"<= {target_numpy}x numpy",
        })
        rows_out.append({
            "case": f"{model} loss+grad vs read floor", "tunelab_ms": fused * 1e3, "peer": "read X once",
            "peer_ms": t["read floor"] * 1e3, "ratio": fused / t["read floor"], "target": f"<= {target_floor}x floor",
        })
    return rows_out


def bench_gd_loop(n, d, epochs, repeats):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=d) > 0).astype(float)
    problem = KernelProblem(K.logistic_loss_grad, X, y, 1e-3)

    def numpy_loop():
        theta = np.zeros(d + 1)
        for _ in range(epochs):
            _, g = numpy_logistic_loss_grad(theta, X, y, 1e-3)
            theta -= 0.5 * g

    cases = {
        "tunelab": lambda: train(GD(lr=0.5), problem, np.zeros(d + 1), max_epochs=epochs, tol=None),
        "numpy": numpy_loop,
    }
    t = time_interleaved(cases, repeats=repeats)
    return [{"case": f"LogisticRegression GD, {epochs} epochs, n={n}, d={d}", "tunelab_ms": t["tunelab"] * 1e3,
             "peer": "numpy loop", "peer_ms": t["numpy"] * 1e3, "ratio": t["tunelab"] / t["numpy"],
             "target": "<= 0.4x"}]


def bench_sgd_epoch(n, d, repeats, sklearn):
    if sklearn is None:
        return []
    from sklearn.linear_model import SGDClassifier

    X, y = make_classification(n_samples=n, n_features=d, n_informative=d // 2, random_state=2)
    import warnings

    warnings.filterwarnings("ignore", module="sklearn")
    cases = {
        "sgd1": lambda: LogisticRegression(alpha=1e-4, optimizer=SGD(lr=0.01, batch_size=1), max_epochs=1,
                                           tol=None, random_state=0).fit(X, y),
        "mom32": lambda: LogisticRegression(alpha=1e-4, optimizer=Momentum(lr=0.05, batch_size=32), max_epochs=1,
                                            tol=None, random_state=0).fit(X, y),
        "sklearn": lambda: SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=1, tol=None, learning_rate="constant",
                                         eta0=0.01, random_state=0).fit(X, y),
    }
    t = time_interleaved(cases, repeats=repeats)
    return [
        {"case": f"one SGD epoch, batch 1, n={n}, d={d}", "tunelab_ms": t["sgd1"] * 1e3, "peer": "sklearn SGDClassifier",
         "peer_ms": t["sklearn"] * 1e3, "ratio": t["sgd1"] / t["sklearn"], "target": "<= 0.5x"},
        {"case": f"one epoch, batch 32 + momentum, n={n}, d={d}", "tunelab_ms": t["mom32"] * 1e3,
         "peer": "sklearn SGDClassifier", "peer_ms": t["sklearn"] * 1e3, "ratio": t["mom32"] / t["sklearn"],
         "target": "<= 0.2x"},
    ]


def bench_mlp_epoch(datasets, repeats, sklearn):
    if sklearn is None:
        return []
    import warnings

    from sklearn.neural_network import MLPClassifier as SkMLP

    warnings.filterwarnings("ignore", module="sklearn")
    rows = []
    for label, (X, y) in datasets.items():
        ours = lambda: MLPClassifier(hidden_layer_sizes=(64, 64), alpha=1e-4, max_epochs=1, tol=None, random_state=0,
                                     optimizer=Momentum(lr=0.01, momentum=0.9, batch_size=128)).fit(X, y)
        theirs = lambda: SkMLP(hidden_layer_sizes=(64, 64), alpha=1e-4, max_iter=1, solver="sgd", batch_size=128,
                               momentum=0.9, nesterovs_momentum=False, learning_rate_init=0.01, shuffle=True,
                               random_state=0).fit(X, y)
        t = time_interleaved({"tunelab": ours, "sklearn": theirs}, repeats=repeats)
        rows.append({"case": f"one MLP epoch 64-64, batch 128, {label}", "tunelab_ms": t["tunelab"] * 1e3,
                     "peer": "sklearn MLPClassifier", "peer_ms": t["sklearn"] * 1e3,
                     "ratio": t["tunelab"] / t["sklearn"], "target": "<= 0.5x"})
    return rows


def _ill_conditioned(X, rng):
    """Columns rescaled over four orders of magnitude: condition number of X^T X about 1e8."""
    return X * np.logspace(-2, 2, X.shape[1])[rng.permutation(X.shape[1])]


def bench_to_optimum(n, d, repeats, sklearn):
    """Time to a relative objective gap < 1e-6 for LogisticRegression() defaults against sklearn's lbfgs."""
    if sklearn is None:
        return []
    from sklearn.linear_model import LogisticRegression as SkLogistic

    rows = []
    rng = np.random.default_rng(3)
    X0, y = make_classification(n_samples=n, n_features=d, n_informative=d // 2, random_state=3)
    alpha = 1e-3
    for label, X in (("well-conditioned", X0), ("ill-conditioned", _ill_conditioned(X0, rng))):
        problem = KernelProblem(K.logistic_loss_grad, X, y.astype(float), alpha)

        def objective(coef, intercept):
            return problem.loss_grad(np.r_[coef.ravel(), intercept])[0]

        best = SkLogistic(C=1.0 / (n * alpha), tol=1e-12, max_iter=100000).fit(X, y)
        f_star = min(objective(best.coef_, best.intercept_),
                     objective(*_coef(LogisticRegression(alpha=alpha).fit(X, y))))

        def gap(model):
            return (objective(*_coef(model)) - f_star) / abs(f_star)

        sk_tol = _loosest_tol(lambda tol: SkLogistic(C=1.0 / (n * alpha), tol=tol, max_iter=100000).fit(X, y), gap)
        ours_model = LogisticRegression(alpha=alpha).fit(X, y)
        t = time_interleaved({
            "tunelab": lambda: LogisticRegression(alpha=alpha).fit(X, y),
            "sklearn": lambda: SkLogistic(C=1.0 / (n * alpha), tol=sk_tol, max_iter=100000).fit(X, y),
        }, repeats=repeats)
        rows.append({"case": f"LogisticRegression() to optimum, {label}, n={n}, d={d} (gap {gap(ours_model):.1e})",
                     "tunelab_ms": t["tunelab"] * 1e3, "peer": f"sklearn lbfgs (tol={sk_tol:g})",
                     "peer_ms": t["sklearn"] * 1e3, "ratio": t["tunelab"] / t["sklearn"], "target": "<= 1x"})
    return rows


def _coef(model):
    return np.asarray(model.coef_), np.atleast_1d(model.intercept_)


def _loosest_tol(fit, gap):
    """The loosest sklearn tol (a power of ten) whose fit reaches a relative objective gap < 1e-6."""
    for tol in (1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10):
        if gap(fit(tol)) < 1e-6:
            return tol
    return 1e-12


_IMPORT_SNIPPET = "import time; t = time.perf_counter(); import {modules}; print(time.perf_counter() - t)"
_FIRST_FIT_SNIPPET = """
import time
from tunelab.core.datasets import load_breast_cancer
from tunelab.core.linear_model import LogisticRegression
X, y = load_breast_cancer()
t = time.perf_counter()
LogisticRegression().fit(X, y)  # the first fit: kernels compiled, or loaded from Numba's cache
print(time.perf_counter() - t)
"""


def _fresh_process_seconds(code, env):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def bench_startup(repeats):
    """Import time against `import numba`, and the first fit in a fresh process: cold (compiling) and warm cache."""
    env = dict(os.environ)
    samples = {"numba": [], "tunelab": []}
    for _ in range(repeats):
        samples["numba"].append(_fresh_process_seconds(_IMPORT_SNIPPET.format(modules="numba"), env))
        samples["tunelab"].append(_fresh_process_seconds(
            _IMPORT_SNIPPET.format(modules="tunelab.core, tunelab.optimizers"), env))
    numba_s, tunelab_s = float(np.median(samples["numba"])), float(np.median(samples["tunelab"]))
    with tempfile.TemporaryDirectory() as cache:
        cold_env = dict(env, NUMBA_CACHE_DIR=cache)
        cold = _fresh_process_seconds(_FIRST_FIT_SNIPPET, cold_env)
        warm = float(np.median([_fresh_process_seconds(_FIRST_FIT_SNIPPET, cold_env) for _ in range(repeats)]))
    return [
        {"case": "import tunelab.core, tunelab.optimizers", "tunelab_ms": tunelab_s * 1e3, "peer": "import numba",
         "peer_ms": numba_s * 1e3, "ratio": tunelab_s / numba_s, "target": "<= 1.3x"},
        {"case": "first LogisticRegression fit, fresh process, empty cache (compile)", "tunelab_ms": cold * 1e3,
         "peer": "", "peer_ms": None, "ratio": None, "target": "reported"},
        {"case": "first LogisticRegression fit, fresh process, warm cache", "tunelab_ms": warm * 1e3,
         "peer": "", "peer_ms": None, "ratio": None, "target": "<= 400 ms"},
    ]


def run(quick=False, out="bench-results", compare=True):
    """Run the fit benchmark; print a markdown table and write `out`/fit.json. Returns the JSON record."""
    sklearn = peer("sklearn") if compare else None
    notes = [] if sklearn is not None else ["scikit-learn not installed (or --compare off): its rows are skipped"]
    repeats = 3 if quick else 7
    n, d = (5000, 50) if quick else (50000, 50)
    digits = load_digits()
    mlp_data = {"digits 1797x64": digits}
    if not quick:
        mlp_data["synthetic 50000x100"] = make_classification(n_samples=50000, n_features=100, n_informative=20,
                                                              n_classes=10, random_state=4)
    started = time.perf_counter()
    rows = bench_kernels(n, d, repeats)
    rows += bench_gd_loop(n, d, 20 if quick else 100, repeats)
    rows += bench_sgd_epoch(n, d, repeats, sklearn)
    rows += bench_mlp_epoch(mlp_data, repeats, sklearn)
    rows += bench_to_optimum(n, d, max(1, repeats // 2), sklearn)
    rows += bench_startup(2 if quick else 5)
    for note in notes:
        print(f"note: {note}")
    print(markdown_table(rows, ["case", "tunelab_ms", "peer", "peer_ms", "ratio", "target"]))
    print(f"(total {time.perf_counter() - started:.1f} s; ratio = tunelab / peer, medians of {repeats} interleaved runs)")
    return save_json(os.path.join(out, "fit.json"), "fit", rows, notes)
