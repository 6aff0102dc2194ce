"""Importing tunelab compiles nothing (kernels compile on first use), never imports the benchmarks, and
`import tunelab.searchers` loads no optional machinery: SQLite, processes, the families beyond sampling."""

import subprocess
import sys

SNIPPET = """
import sys
import numba.core.registry
import tunelab.core, tunelab.optimizers, tunelab.searchers
from numba.core.dispatcher import Dispatcher
dispatchers = [value for name, module in list(sys.modules.items()) if name.startswith("tunelab.")
               for value in vars(module).values() if isinstance(value, Dispatcher)]
compiler_set_up = "_toplevel_target_context" in vars(numba.core.registry.cpu_target)
print(len(dispatchers), compiler_set_up, any(name.startswith("tunelab.benchmarks") for name in sys.modules))
"""

# Loaded when first needed: a study file, worker processes, the optimize loop, and the families whose
# modules bring kernels or heavy imports of their own.
LOADED_WHEN_NEEDED = [
    "sqlite3", "multiprocessing", "concurrent.futures", "statistics",
    "tunelab.searchers.parallel", "tunelab.searchers.process_pool", "tunelab.searchers.search_cv",
    "tunelab.searchers.bayes", "tunelab.searchers.evolutionary", "tunelab.searchers.gradient",
    "tunelab.searchers.multifidelity", "tunelab.benchmarks",
]


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()


def test_import_creates_no_numba_function_and_does_not_load_benchmarks():
    """No kernel module loads with the import: creating the first Numba function sets up Numba's compiler
    for the process, about 0.1 s, which the first fit pays instead."""
    n_dispatchers, compiler_set_up, benchmarks_loaded = _run(SNIPPET)
    assert n_dispatchers == "0"
    assert compiler_set_up == "False"
    assert benchmarks_loaded == "False"


def test_the_first_fit_loads_the_kernels():
    code = (SNIPPET + "import numpy as np\ntunelab.core.LinearRegression().fit(np.eye(3), np.arange(3.0))\n"
            "print('tunelab.core._linear_kernels' in sys.modules, '_toplevel_target_context' in "
            "vars(numba.core.registry.cpu_target))")
    assert _run(code)[3:] == ["True", "True"]


def test_import_searchers_leaves_optional_modules_unloaded_until_used():
    code = (f"import sys, tunelab.searchers as s\n"
            f"print([m for m in {LOADED_WHEN_NEEDED!r} if m in sys.modules])\n"
            "from tunelab.searchers import BayesSearch, SearchCV, WorkerStartError\n"
            "print(BayesSearch.__module__, SearchCV.__module__, sorted(set(s.__all__) - set(dir(s))))")
    loaded, bayes, search_cv, missing = _run(code)
    assert loaded == "[]"
    assert (bayes, search_cv) == ("tunelab.searchers.bayes.search", "tunelab.searchers.search_cv")
    assert missing == "[]"  # every public name is there, loaded or loadable


def test_a_study_in_memory_runs_without_sqlite_or_processes():
    code = ("import sys\nfrom tunelab.searchers import Real, minimize\n"
            "minimize(lambda p: p['x'] ** 2, {'x': Real(-1, 1)}, n_trials=3, seed=0, progress=False)\n"
            "print([m for m in ('sqlite3', 'multiprocessing', 'tunelab.searchers.bayes') if m in sys.modules])")
    assert _run(code) == ["[]"]
