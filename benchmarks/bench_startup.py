"""What a fresh process pays before it fits anything: importing tunelab, compiling its kernels for the machine
(an empty Numba cache) or loading them (a warm one), and `tunelab demo --quick` end to end.

Each figure is the median over repetitions of fresh Python processes: CPU time (user + system) for the
compiles and the demo, which on an idle machine is their wall-clock time (they run on one thread) and which
other processes on a shared machine do not inflate; the wall-clock time is kept beside it. An empty kernel
cache is a new NUMBA_CACHE_DIR, which Numba then uses instead of the __pycache__ folders of the sources.
"""

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from tunelab.benchmarks._harness import met
from tunelab.core.kernels import COMPILE_FAMILIES

_TIMED = """
import time
{setup}
t, c = time.perf_counter(), time.process_time()
{first_use}
print(time.perf_counter() - t, time.process_time() - c)
"""

# family -> (setup, first use): the first fits, searches and predictions that compile the family's kernels
FIRST_USES = {
    "the linear models": (
        "from tunelab.core import LogisticRegression, StandardScaler, load_breast_cancer\n"
        "from tunelab.optimizers import SGD\n"
        "X, y = load_breast_cancer(); X = StandardScaler().fit_transform(X)",
        "LogisticRegression().fit(X, y).predict(X)\n"
        "LogisticRegression(optimizer=SGD(lr=0.01, batch_size=1), max_epochs=2).fit(X, y)",
        "LogisticRegression by L-BFGS and by SGD, batch 1"),
    "the MLP": (
        "from tunelab.core import MLPClassifier, load_digits\n"
        "from tunelab.optimizers import Momentum\n"
        "X, y = load_digits(); X = X / 16.0",
        "MLPClassifier(hidden_layer_sizes=(32,), optimizer=Momentum(lr=0.05, batch_size=64), max_epochs=2)"
        ".fit(X, y).predict(X)",
        "MLPClassifier by momentum, and predict"),
    "the GP search": (
        "from tunelab.searchers import BayesSearch, Real, minimize",
        "minimize(lambda p: (p['x'] - 1) ** 2 + p['y'] ** 2, {'x': Real(-3, 3), 'y': Real(-3, 3)},\n"
        "         searcher=BayesSearch(n_initial=4), n_trials=8, seed=0, progress=False)",
        "BayesSearch, 8 trials in 2-D"),
    "the hypervolume": (
        "import numpy as np\nfrom tunelab.searchers.pareto import greedy_hypervolume_subset\n"
        "F = np.random.default_rng(0).random((10, 3))",
        "greedy_hypervolume_subset(F, 3, [2.0, 2.0, 2.0]); greedy_hypervolume_subset(F[:, :2], 3, [2.0, 2.0])",
        "greedy hypervolume subsets of 10 points in 3-D and 2-D (multi-objective TPE)"),
}


def _seconds(code, env):
    """Run `code` in a fresh process; returns the numbers on the last line it prints."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    values = [float(value) for value in out.stdout.strip().splitlines()[-1].split()]
    return values[0] if len(values) == 1 else values


def _process_times(args, env):
    """(wall, CPU) seconds of a fresh process running `python args...`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_compile(repeats):
    """Per family: the first use in a fresh process with an empty kernel cache (compiling) and with a warm one."""
    estimates = {name: seconds for _, name, seconds in COMPILE_FAMILIES}
    rows = []
    for family, (setup, first_use, what) in FIRST_USES.items():
        code = _TIMED.format(setup=setup, first_use=first_use)
        cold, warm = [], []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as cache:
                env = dict(os.environ, NUMBA_CACHE_DIR=cache)
                cold.append(_seconds(code, env))
                warm.append(_seconds(code, env))
        (cold_wall, cold_cpu), (warm_wall, warm_cpu) = _medians(cold), _medians(warm)
        rows.append({"family": family, "first_use": what, "cold_ms": cold_cpu * 1e3, "warm_ms": warm_cpu * 1e3,
                     "cold_wall_ms": cold_wall * 1e3, "warm_wall_ms": warm_wall * 1e3,
                     "notice_says_s": estimates[family]})
    return rows


def _medians(pairs):
    """Medians of the first and of the second members of (wall, CPU) pairs."""
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def bench_demo(repeats):
    """`tunelab demo --quick` end to end: with an empty kernel cache (it compiles), then warm."""
    cold, warm = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(folder, "cache"))
            args = ["-m", "tunelab.benchmarks.cli", "demo", "--quick", "--no-progress", "--out",
                    os.path.join(folder, "report")]
            cold.append(_process_times(args, env))
            warm.append(_process_times(args, env))
    rows = []
    for label, pairs, bound in (("empty", cold, 12000), ("warm", warm, 1600)):
        wall, cpu = _medians(pairs)
        rows.append({"case": f"tunelab demo --quick, {label} kernel cache (CPU; wall {wall:.1f} s)",
                     "tunelab_ms": cpu * 1e3, "peer": "", "peer_ms": None, "ratio": None, "target": f"<= {bound} ms",
                     "met": met(cpu * 1e3, ("<=", bound)), "wall_ms": wall * 1e3})
    return rows


# In a fresh process with an empty kernel cache: `tunelab demo --quick` under a listener of Numba's compile
# events, which charges each compiled function its own CPU time (its callees' compiles subtracted).
_PROFILED_DEMO = """
import json, sys, time
from collections import defaultdict
from numba.core import event

own, stack = defaultdict(float), []

class Charge(event.Listener):
    def on_start(self, ev):
        stack.append([ev.data["dispatcher"].py_func.__qualname__, time.process_time(), 0.0])

    def on_end(self, ev):
        name, start, callees = stack.pop()
        spent = time.process_time() - start
        own[name] += spent - callees
        if stack:
            stack[-1][2] += spent

event.register("numba:compile", Charge())
from tunelab.benchmarks.cli import main
start = time.process_time()
try:
    main(["demo", "--quick", "--no-progress", "--out", sys.argv[1]])
except SystemExit:
    pass
print(json.dumps({"total": time.process_time() - start, "compiles": own}))
"""


def bench_compile_profile(top=10):
    """Where the empty-cache `tunelab demo --quick` spends its CPU time compiling: rows of the `top` compiled
    functions by their own compile time, then the compiles in all and the run in all (in-process CPU time)."""
    import json

    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(folder, "cache"))
        out = subprocess.run([sys.executable, "-c", _PROFILED_DEMO, os.path.join(folder, "report")],
                             capture_output=True, text=True, env=env, check=True).stdout
    record = json.loads(out.strip().splitlines()[-1])
    ranked = sorted(record["compiles"].items(), key=lambda item: -item[1])
    rows = [{"compiled": name, "cpu_ms": seconds * 1e3} for name, seconds in ranked[:top]]
    rows.append({"compiled": f"all {len(ranked)} compiled functions", "cpu_ms": sum(record["compiles"].values()) * 1e3})
    rows.append({"compiled": "the demo in all, in-process (import, compiles, searches)", "cpu_ms": record["total"] * 1e3})
    return rows


_IMPORT = "import time; t = time.perf_counter(); import {modules}; print(time.perf_counter() - t)"


def bench_import(repeats):
    """Import time of tunelab's three library packages against a bare `import numba`, interleaved."""
    env = dict(os.environ)
    samples = {"numba": [], "tunelab": []}
    for _ in range(repeats):
        samples["numba"].append(_seconds(_IMPORT.format(modules="numba"), env))  # wall: imports wait on files
        samples["tunelab"].append(_seconds(_IMPORT.format(modules="tunelab.core, tunelab.optimizers, "
                                                                   "tunelab.searchers"), env))
    ours, theirs = statistics.median(samples["tunelab"]), statistics.median(samples["numba"])
    return [{"case": "import tunelab.core, tunelab.optimizers, tunelab.searchers", "tunelab_ms": ours * 1e3,
             "peer": "import numba", "peer_ms": theirs * 1e3, "ratio": ours / theirs, "target": "<= 1.3x",
             "met": met(ours / theirs, ("<=", 1.3))}]
