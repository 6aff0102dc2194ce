"""Parameter-fitting benchmark: tunelab's kernels, optimizers and models against numpy and scikit-learn.

    tunelab bench fit [--quick] [--compare] [--out DIR]

Every comparison runs side by side in one process, interleaved, single-threaded (Numba and BLAS pinned to
one thread by the command line), timed by the process's CPU time (other processes on a shared machine do
not inflate it) and reported as the median, in ms, with ratio = tunelab / peer (below 1: tunelab is faster)
and whether the row's target is met. Compiles, imports and the demo run in fresh processes
(tunelab.benchmarks.bench_startup).
"""

import os
import time

import numpy as np
from numba import njit

from tunelab.benchmarks._harness import installed, markdown_table, met, peer, save_json, time_interleaved
from tunelab.benchmarks.bench_startup import bench_compile, bench_compile_profile, bench_demo, bench_import
from tunelab.core import kernels as K
from tunelab.core.datasets import load_digits, make_classification
from tunelab.core.linear_model import LogisticRegression
from tunelab.core.neural_network import MLPClassifier
from tunelab.optimizers import GD, SGD, KernelProblem, Momentum, train

COLUMNS = ["case", "tunelab_ms", "peer", "peer_ms", "ratio", "target", "met"]
CPU = time.process_time


def compared(case, ours, peer_name, theirs, goal=None):
    """A table row: seconds `ours` against `theirs`; goal = the largest ratio tunelab / peer that meets the target."""
    ratio = ours / theirs
    return {"case": case, "tunelab_ms": ours * 1e3, "peer": peer_name, "peer_ms": theirs * 1e3, "ratio": ratio,
            "target": f"<= {goal}x" if goal is not None else "reported",
            "met": met(ratio, None if goal is None else ("<=", goal))}


# --------------------------------------------------------------------------------------------------
# fused kernels against numpy and against the floor of reading X once
# --------------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, fastmath={"reassoc", "nsz"})
def read_floor(X):
    """Sum every element of X (C-contiguous) as one vector loop over its memory: the cost of reading X once,
    the floor of a one-pass kernel."""
    x = X.reshape(X.size)
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i]
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


def last_level_cache_bytes():
    """Size of the largest CPU cache (Linux sysfs), or 32 MiB when it cannot be read."""
    sizes = []
    folder = "/sys/devices/system/cpu/cpu0/cache"
    for index in (os.listdir(folder) if os.path.isdir(folder) else []):
        try:
            with open(os.path.join(folder, index, "size")) as handle:
                text = handle.read().strip()
            sizes.append(int(text[:-1]) * {"K": 2**10, "M": 2**20}[text[-1]] if text[-1] in "KM" else int(text))
        except (OSError, ValueError, IndexError):
            continue
    return max(sizes) if sizes else 32 * 2**20


def bench_kernels(n, d, where, repeats):
    """Fused loss+gradient against a vectorised read of X (the primary figure) and against numpy's two passes."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=d) + rng.normal(size=n) > 0).astype(float)
    Y, rows = y.reshape(-1, 1).copy(), np.arange(n, dtype=np.int64)
    theta, grad, spec = rng.normal(size=d + 1) * 0.1, np.empty(d + 1), np.zeros(0, np.int64)
    t = time_interleaved({
        "logistic": lambda: K.logistic_loss_grad(theta, X, Y, rows, 1e-3, spec, grad),
        "logistic numpy": lambda: numpy_logistic_loss_grad(theta, X, y, 1e-3),
        "squared": lambda: K.squared_loss_grad(theta, X, Y, rows, 1e-3, spec, grad),
        "squared numpy": lambda: numpy_squared_loss_grad(theta, X, y, 1e-3),
        "read": lambda: read_floor(X), "numpy read": lambda: X.sum(),
        "numpy scores": lambda: X @ theta[:-1],
    }, repeats=repeats, clock=CPU)
    floor = min(t["read"], t["numpy read"])
    size = f"n={n}, d={d}, X {X.nbytes / 2**20:.0f} MiB {where}"
    rows_out = []
    for model in ("logistic", "squared"):
        rows_out.append(compared(f"{model} loss+grad, {size}", t[model], "vectorised read of X", floor, 1.5))
        rows_out.append(compared(f"{model} loss+grad, {size}", t[model], "numpy, two passes", t[f"{model} numpy"]))
    # what bounds the kernels: one pass of scores x_i . w alone, by numpy's BLAS, against the same read
    rows_out.append(compared(f"scores X @ w alone (numpy's BLAS, one pass), {size}", t["numpy scores"],
                             "vectorised read of X", floor))
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

    t = time_interleaved({
        "tunelab": lambda: train(GD(lr=0.5), problem, np.zeros(d + 1), max_epochs=epochs, tol=None),
        "numpy": numpy_loop,
    }, repeats=repeats, clock=CPU)
    return [compared(f"LogisticRegression GD, {epochs} epochs, n={n}, d={d}", t["tunelab"], "numpy loop",
                     t["numpy"], 0.4)]


# --------------------------------------------------------------------------------------------------
# models against scikit-learn
# --------------------------------------------------------------------------------------------------
def _sgd_fits(X, y, epochs, batch_size, momentum):
    from sklearn.linear_model import SGDClassifier

    optimizer = Momentum(lr=0.05, batch_size=batch_size) if momentum else SGD(lr=0.01, batch_size=batch_size)
    return {
        "tunelab": lambda: LogisticRegression(alpha=1e-4, optimizer=optimizer, max_epochs=epochs, tol=None,
                                              random_state=0).fit(X, y),
        "sklearn": lambda: SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=epochs, tol=None, eta0=0.01,
                                         learning_rate="constant", random_state=0).fit(X, y),
    }


def bench_sgd(quick, repeats):
    """LogisticRegression by SGD (the per-row path) against SGDClassifier: whole fits, validation included."""
    import warnings

    warnings.filterwarnings("ignore", module="sklearn")  # max_iter reached before convergence
    scale = 10 if quick else 1
    cases = (  # (label, n, d, epochs, batch size, momentum, goal)
        ("one SGD epoch, batch 1", 100000 // scale, 100, 1, 1, False, 0.5),
        ("one fit, SGD batch 1, 5 epochs", 13333 // scale, 40, 5, 1, False, 0.5),
        ("one epoch, batch 32 + momentum", 50000 // scale, 50, 1, 32, True, 0.2),
    )
    rows = []
    for label, n, d, epochs, batch_size, momentum, goal in cases:
        X, y = make_classification(n_samples=n, n_features=d, n_informative=d // 2, random_state=2)
        t = time_interleaved(_sgd_fits(X, y, epochs, batch_size, momentum), repeats=repeats, clock=CPU)
        rows.append(compared(f"{label}, n={n}, d={d}", t["tunelab"], "sklearn SGDClassifier", t["sklearn"], goal))
    return rows


@njit(cache=True)
def _epoch_products(A, AT, W, WT, Z, ZT, D, DT, G, n_batches):
    """The matrix products of a 3-layer MLP's epoch, as mlp_loss_grad runs them (tunelab's gemm_nt, C = P Q^T):
    per batch, forward Z_l+1 = Z_l W_l, weight gradients G_l += Z_l^T D_l+1, deltas D_l = D_l+1 W_l^T."""
    none = np.empty((0, 0))
    for _ in range(n_batches):
        K.gemm_nt(A, WT[0], Z[0], 0.0, ZT[0])
        K.gemm_nt(Z[0], WT[1], Z[1], 0.0, ZT[1])
        K.gemm_nt(Z[1], WT[2], Z[2], 0.0, none)
        K.gemm_nt(ZT[1], DT[2], G[2], 1.0, none)
        K.gemm_nt(D[2], W[2], D[1], 0.0, DT[1])
        K.gemm_nt(ZT[0], DT[1], G[1], 1.0, none)
        K.gemm_nt(D[1], W[1], D[0], 0.0, DT[0])
        K.gemm_nt(AT, DT[0], G[0], 1.0, none)
    return G[0][0, 0]


def bench_mlp_products(n_inputs, n_outputs, n_rows, repeats, batch=128, width=64):
    """One epoch's matrix products of the 64-64 MLP (what bounds its epoch): tunelab's gemm_nt against numpy's
    BLAS (`@`) on the same products, on random data of the epoch's shapes."""
    rng = np.random.default_rng(0)
    sizes = [n_inputs, width, width, n_outputs]
    W = tuple(rng.normal(size=(sizes[l], sizes[l + 1])) for l in range(3))
    WT = tuple(np.ascontiguousarray(w.T) for w in W)
    A = rng.normal(size=(batch, n_inputs))
    AT = np.ascontiguousarray(A.T)
    Z = tuple(np.empty((batch, sizes[l + 1])) for l in range(3))
    D = tuple(rng.normal(size=(batch, sizes[l + 1])) for l in range(3))
    ZT, DT = tuple(np.empty((z.shape[1], batch)) for z in Z), tuple(np.ascontiguousarray(d.T) for d in D)
    G = tuple(np.zeros_like(w) for w in W)
    n_batches = -(-n_rows // batch)

    def numpy_products():
        for _ in range(n_batches):
            Z1 = A @ W[0]
            Z2 = Z1 @ W[1]
            Z2 @ W[2]
            G[2][...] += Z2.T @ D[2]
            D1 = D[2] @ W[2].T
            G[1][...] += Z1.T @ D1
            D0 = D1 @ W[1].T
            G[0][...] += A.T @ D0

    t = time_interleaved({"tunelab": lambda: _epoch_products(A, AT, W, WT, Z, ZT, D, DT, G, n_batches),
                          "numpy": numpy_products}, repeats=repeats, clock=CPU)
    products = sum(sizes[l] * sizes[l + 1] for l in range(3)) * 3 - n_inputs * width  # no delta for the inputs
    gflops = 2 * n_batches * batch * products / t["tunelab"] / 1e9
    return [compared(f"its matrix products alone, {n_rows}x{n_inputs}, {n_outputs} outputs ({gflops:.0f} GFLOPS)",
                     t["tunelab"], "numpy's BLAS, the same products", t["numpy"])]


def bench_mlp_epoch(datasets, repeats):
    import warnings

    from sklearn.neural_network import MLPClassifier as SkMLP

    warnings.filterwarnings("ignore", module="sklearn")
    rows = []
    for label, (X, y), goal in datasets:
        ours = lambda: MLPClassifier(hidden_layer_sizes=(64, 64), alpha=1e-4, max_epochs=1, tol=None, random_state=0,
                                     optimizer=Momentum(lr=0.01, momentum=0.9, batch_size=128)).fit(X, y)
        theirs = lambda: SkMLP(hidden_layer_sizes=(64, 64), alpha=1e-4, max_iter=1, solver="sgd", batch_size=128,
                               momentum=0.9, nesterovs_momentum=False, learning_rate_init=0.01, shuffle=True,
                               random_state=0).fit(X, y)
        t = time_interleaved({"tunelab": ours, "sklearn": theirs}, repeats=repeats, clock=CPU)
        rows.append(compared(f"one MLP epoch 64-64, batch 128, {label}", t["tunelab"], "sklearn MLPClassifier",
                             t["sklearn"], goal))
    return rows


def _ill_conditioned(X, rng):
    """Columns rescaled over four orders of magnitude: condition number of X^T X about 1e8."""
    return X * np.logspace(-2, 2, X.shape[1])[rng.permutation(X.shape[1])]


def _coef(model):
    return np.asarray(model.coef_), np.atleast_1d(model.intercept_)


def _loosest_tol(fit, gap):
    """The loosest sklearn tol (a power of ten) whose fit reaches a relative objective gap < 1e-6."""
    for tol in (1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10):
        if gap(fit(tol)) < 1e-6:
            return tol
    return 1e-12


def bench_to_optimum(n, d, repeats):
    """Time to a relative objective gap < 1e-6 for LogisticRegression() defaults against sklearn's lbfgs."""
    from sklearn.linear_model import LogisticRegression as SkLogistic

    rows, rng, alpha = [], np.random.default_rng(3), 1e-3
    X0, y = make_classification(n_samples=n, n_features=d, n_informative=d // 2, random_state=3)
    for label, X in (("well-conditioned", X0), ("ill-conditioned", _ill_conditioned(X0, rng))):
        problem = KernelProblem(K.logistic_loss_grad, X, y.astype(float), alpha)
        objective = lambda coef, intercept: problem.loss_grad(np.r_[coef.ravel(), intercept])[0]  # noqa: E731
        sk_fit = lambda tol: SkLogistic(C=1.0 / (n * alpha), tol=tol, max_iter=100000).fit(X, y)  # noqa: E731
        f_star = min(objective(*_coef(sk_fit(1e-12))), objective(*_coef(LogisticRegression(alpha=alpha).fit(X, y))))
        gap = lambda model: (objective(*_coef(model)) - f_star) / abs(f_star)  # noqa: E731
        sk_tol = _loosest_tol(sk_fit, gap)
        ours_gap = gap(LogisticRegression(alpha=alpha).fit(X, y))
        t = time_interleaved({"tunelab": lambda: LogisticRegression(alpha=alpha).fit(X, y),
                              "sklearn": lambda: sk_fit(sk_tol)}, repeats=repeats, clock=CPU)
        rows.append(compared(f"LogisticRegression() to optimum, {label}, n={n}, d={d} (gap {ours_gap:.1e})",
                             t["tunelab"], f"sklearn lbfgs (tol={sk_tol:g})", t["sklearn"], 1.0))
    return rows


# --------------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------------
def _sklearn_note(compare):
    if compare and peer("sklearn") is not None:
        return None
    if installed("sklearn"):
        return "scikit-learn is installed but --compare is off: the rows against it are skipped"
    return "scikit-learn is not installed: the rows against it are skipped (pip install 'tunelab[compare]')"


def run(quick=False, out="bench-results", compare=True):
    """Run the fit benchmark; print markdown tables and write `out`/fit.json. Returns the JSON record."""
    note = _sklearn_note(compare)
    repeats = 3 if quick else 7
    started = time.perf_counter()
    llc, d = last_level_cache_bytes(), 50
    n_fits, n_exceeds = (llc // 4) // (8 * d), (4 * llc) // (8 * d)
    rows = bench_kernels(n_fits, d, f"fits in the {llc / 2**20:.0f} MiB last-level cache", repeats)
    rows += bench_kernels(n_exceeds // (10 if quick else 1), d, "exceeds the last-level cache", repeats)
    rows += bench_gd_loop(5000 if quick else 50000, 50, 20 if quick else 100, repeats)
    if note is None:
        rows += bench_sgd(quick, repeats)
        mlp_data = [("digits 1797x64", load_digits(), 0.5)]
        if not quick:
            mlp_data.append(("synthetic 50000x100", make_classification(
                n_samples=50000, n_features=100, n_informative=20, n_classes=10, random_state=4), 0.45))
        rows += bench_mlp_epoch(mlp_data, repeats)
        if not quick:
            rows += bench_mlp_products(100, 10, 50000, repeats)
        rows += bench_to_optimum(5000 if quick else 50000, 50, max(1, repeats // 2))
    rows += bench_demo(1 if quick else 3)
    rows += bench_import(3 if quick else 7)
    compile_rows = bench_compile(1 if quick else 3)
    profile_rows = [] if quick else bench_compile_profile()
    if note is not None:
        print(f"note: {note}")
    print(markdown_table(rows, COLUMNS))
    print()
    print(markdown_table(compile_rows, ["family", "first_use", "cold_ms", "warm_ms", "cold_wall_ms", "warm_wall_ms",
                                        "notice_says_s"]))
    if profile_rows:
        print()
        print("the empty-cache demo's compiles, by function (its own CPU time, callees' compiles apart):")
        print(markdown_table(profile_rows, ["compiled", "cpu_ms"]))
    print(f"(total {time.perf_counter() - started:.1f} s; ratio = tunelab / peer; medians of {repeats} interleaved "
          "runs, CPU time of this process; demo and compile rows: CPU time of fresh processes, wall beside it; "
          "import: wall time of fresh processes)")
    return save_json(os.path.join(out, "fit.json"), "fit", rows + compile_rows + profile_rows, [note] if note else [])
