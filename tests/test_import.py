"""Importing tunelab compiles nothing (kernels compile on first use) and never imports the benchmarks."""

import subprocess
import sys

SNIPPET = """
import sys
import numba.core.registry
import tunelab.core, tunelab.optimizers, tunelab.searchers
from numba.core.dispatcher import Dispatcher
dispatchers = [value for name, module in list(sys.modules.items()) if name.startswith("tunelab.")
               for value in vars(module).values() if isinstance(value, Dispatcher)]
compiled = [d.py_func.__qualname__ for d in dispatchers if d.signatures]
print(len(dispatchers), compiled, any(name.startswith("tunelab.benchmarks") for name in sys.modules))
"""


def test_import_compiles_no_kernel_and_does_not_load_benchmarks():
    out = subprocess.run([sys.executable, "-c", SNIPPET], capture_output=True, text=True, check=True).stdout.split()
    n_dispatchers, compiled, benchmarks_loaded = int(out[0]), out[1], out[2]
    assert n_dispatchers > 20  # the kernels are there, as lazy dispatchers
    assert compiled == "[]"
    assert benchmarks_loaded == "False"
