"""The threads of the BLAS library under numpy, shared among parallel trials.

numpy's matrix products (the MLP's layers) run on a BLAS that, by default, starts a thread per core. k
trials in parallel then ask for k * cores threads, which wait for each other: on 2 cores, 48 MLP trials
on digits ran 1.19x faster with 2 threads and 0.89x as fast with 2 processes as with one job, against
1.89x and 1.76x once each worker's BLAS kept to one thread (`bench_parallel(48, 20, 5)` of
tunelab.benchmarks.bench_search, run from a script: the `bench` command pins BLAS to one thread). So a
parallel loop gives each of its k workers cores // k BLAS threads (at least one) while it runs, as
joblib's workers do.

With threadpoolctl installed, it sets the limit (for every BLAS and OpenMP library it knows). Without it,
OpenBLAS (what numpy's wheels ship on Linux and Windows) is found among the loaded shared libraries and
called through ctypes; with any other BLAS nothing is changed.
"""

import contextlib
import ctypes
import glob
import os

import numpy

# OpenBLAS's thread-count functions, under the names its builds export (scipy-openblas, which numpy's
# wheels use, prefixes them and adds a 64_ suffix for 64-bit integers)
_PREFIXES = ("openblas", "scipy_openblas")
_SUFFIXES = ("", "64_", "_64_")


def _candidate_paths():
    """Shared libraries named like OpenBLAS: those mapped into this process (Linux), and those shipped
    beside numpy (numpy.libs, numpy/.dylibs)."""
    paths = set()
    try:
        with open("/proc/self/maps") as maps:
            paths.update(line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line)
    except OSError:
        pass
    package = os.path.dirname(numpy.__file__)
    for folder in (package + ".libs", os.path.join(package, ".dylibs")):
        paths.update(glob.glob(os.path.join(folder, "*openblas*")))
    return sorted(p for p in paths if os.path.isfile(p))


def _functions(library, verb):
    for prefix in _PREFIXES:
        for suffix in _SUFFIXES:
            function = getattr(library, f"{prefix}_{verb}_num_threads{suffix}", None)
            if function is not None:
                return function
    return None


_openblas = None  # [(get, set)] once looked up


def _openblas_controls():
    """[(get_num_threads, set_num_threads)] of each OpenBLAS loaded in this process (numpy loaded first)."""
    global _openblas
    if _openblas is None:
        controls = []
        for path in _candidate_paths():
            try:
                library = ctypes.CDLL(path)  # already loaded by numpy: the same library, not a second copy
            except OSError:
                continue
            get, set_ = _functions(library, "get"), _functions(library, "set")
            if get is not None and set_ is not None:
                get.restype, set_.argtypes = ctypes.c_int, [ctypes.c_int]
                controls.append((get, set_))
        _openblas = controls
    return _openblas


def blas_threads():
    """The thread count of each OpenBLAS found without threadpoolctl (a list; empty when none is found)."""
    return [get() for get, _ in _openblas_controls()]


def limit_blas_threads(n):
    """Keep the BLAS under numpy to at most n threads (n >= 1) from now on, in this process; returns a
    function that restores the counts before (a worker process's start keeps the limit for its life)."""
    n = max(1, int(n))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        controls = _openblas_controls()
        before = [get() for get, _ in controls]
        for _, set_ in controls:
            set_(n)
        return lambda: [set_(count) for (_, set_), count in zip(controls, before)]
    return threadpool_limits(limits=n, user_api="blas").restore_original_limits


@contextlib.contextmanager
def blas_thread_limit(n):
    """Within the block, the BLAS under numpy uses at most n threads (n >= 1); the counts before are
    restored after it. For the whole process: other threads' BLAS calls see the limit too."""
    restore = limit_blas_threads(n)
    try:
        yield
    finally:
        restore()


def share_of_cores(n_workers):
    """The threads each of n_workers parallel workers may use: cores // n_workers, at least 1."""
    return max(1, (os.cpu_count() or 1) // n_workers)
