"""One line on stderr when tunelab's kernels compile for this machine, so that a first run is not a silent wait.

Numba compiles a kernel on its first call and keeps the machine code in its on-disk cache (`cache=True`);
later processes load it from there in milliseconds. Numba broadcasts a "numba:compile" event only when it
actually compiles (numba.core.event), never on a load from the cache, so a listener on that event prints

    tunelab: compiling tunelab's kernels for this machine, once (about 9 s): the MLP

the first time a family of kernels starts compiling in a process, and nothing when they come from the cache.
The estimates are the cold compile times (CPU seconds) of each family measured by `tunelab bench fit` on a
2-core AMD EPYC machine (its table of cold compiles); a slower machine takes longer.
"""

import sys
import threading

from numba.core import event

# (a part of the compiled function's "module.qualname", the family it belongs to, seconds to compile it cold).
# A compiled epoch is named after its kernel (tunelab.optimizers._loop), so it falls in its kernel's family.
FAMILIES = (
    ("_mlp_kernels", "the MLP", 9),
    ("_linear_", "the linear models", 5),
    ("tunelab.searchers._pareto_kernels", "the hypervolume", 3),
    ("tunelab.searchers.tpe.", "the TPE search", 1),  # 0.4 s CPU: a TPESearch of 15 trials, cold against warm
    ("tunelab.searchers.", "the GP search", 2),
    ("tunelab.optimizers.", "the optimizers", 1),
)


def family(function_name):
    """(family, estimated seconds) of a compiled function named `module.qualname`, or None if it is not one of
    the library's kernels (another package's, or a benchmark's)."""
    if not function_name.startswith("tunelab.") or function_name.startswith("tunelab.benchmarks."):
        return None
    return next(((name, seconds) for part, name, seconds in FAMILIES if part in function_name), None)


class CompileNotice(event.Listener):
    """Prints one line per family of tunelab kernels, at the start of the first compile of that family in this
    process (compiles nested in another one are part of it)."""

    def __init__(self, stream=None):
        self.stream = stream
        self.announced = set()
        self.local = threading.local()
        self.lock = threading.Lock()

    def on_start(self, event_):
        depth = getattr(self.local, "depth", 0)
        self.local.depth = depth + 1
        if depth > 0:
            return
        function = event_.data["dispatcher"].py_func
        found = family(f"{function.__module__}.{function.__qualname__}")
        with self.lock:
            if found is None or found[0] in self.announced:
                return
            self.announced.add(found[0])
        stream = self.stream if self.stream is not None else sys.stderr
        print(f"tunelab: compiling tunelab's kernels for this machine, once (about {found[1]} s): {found[0]}",
              file=stream, flush=True)

    def on_end(self, event_):
        self.local.depth = getattr(self.local, "depth", 1) - 1


_notice = None


def install():
    """Listen to Numba's compile events (once per process)."""
    global _notice
    if _notice is None:
        _notice = CompileNotice()
        event.register("numba:compile", _notice)
    return _notice
