"""Worker processes for backend="processes": started together, warm, each holding the objective.

A worker process costs, before its first trial, an interpreter start, tunelab's imports, Numba's first
load of a compiled function (its typing and lowering tables) and the loading of the model's kernels
from Numba's cache: together over a second on a 2-core machine, where a trial of a small model (an MLP
on digits, 3 folds) takes 0.15 s. So:

- Start method "forkserver" where the platform has it, else "spawn"; never "fork", which is unsafe once
  Numba's threads (or any thread of the caller) run. The fork server, one per Python process and kept
  until it exits, does that work once, when the first pool starts (`tunelab.searchers._preload`: the
  imports, Numba, and a one-epoch fit of each model with each optimizer): a worker forked from it
  starts in milliseconds with all of it done. Loaded there, a kernel missing from Numba's on-disk
  cache (a machine's first run) is compiled once, not by every worker at the same time.
- All n workers start at once, and `ObjectivePool.start` waits until each holds the objective before
  any trial is handed out.
- The objective (with its data: a SearchCV objective carries X and y) is pickled once by the caller and
  unpickled once per worker by the pool's initializer; a trial sends only itself (number, params, and
  its pruner with a frozen history when the study has one).
- A worker that cannot load the objective ends the call at once with one line that says why and what to
  do (`WorkerStartError`); so does a main script read from standard input (`python - < script.py`),
  from which no worker process can start, and an objective defined in a script given with -c.
- Each worker gets cpu_count // n Numba threads.
- The pool is kept for the study's next `optimize` call with the same objective (the same pickled
  bytes) and n_jobs: at most one idle pool per Python process, ended when another pool starts, when the
  study is closed (`release`) or collected, or after IDLE_SECONDS unused.
"""

import concurrent.futures as cf
import multiprocessing
import os
import pickle
import sys
import threading
import weakref

from numba import njit

from tunelab.searchers.blas_threads import limit_blas_threads, share_of_cores
from tunelab.searchers.trial import Outcome, TrialState, error_text, evaluate

PRELOAD = ["tunelab.searchers._preload"]  # what the fork server imports before it forks any worker
IDLE_SECONDS = 300.0  # a kept pool unused this long ends its workers


class WorkerStartError(RuntimeError):
    """backend="processes" could not start its worker processes; the message says why and what to do."""


@njit(cache=True)
def _one(x):
    """x + 1: the compiled function `warm_numba` loads."""
    return x + 1.0


def warm_numba():
    """Load one compiled function, so that Numba reads its typing and lowering tables now rather than in
    the first trial (a no-op once done in this process, e.g. in a worker forked from a warm server)."""
    _one(1.0)


# ---- in a worker process --------------------------------------------------------------------------

_objective = None  # the objective this worker runs, unpickled once by `_start_worker`
_start_error = None  # why it could not be, as text


def _start_worker(numba_threads, payload):
    """The pool's initializer: share the cores among the workers (Numba's and the BLAS's threads), load Numba, unpickle the objective.
    Never raises: a failure is kept in `_start_error`, which the first job (`_ready`) reports."""
    global _objective, _start_error
    os.environ["NUMBA_NUM_THREADS"] = str(numba_threads)
    try:
        import numba

        numba.set_num_threads(max(1, min(numba_threads, numba.config.NUMBA_NUM_THREADS)))
        limit_blas_threads(numba_threads)
        warm_numba()
        _objective = pickle.loads(payload)
    except Exception as exc:
        _start_error = error_text(exc)


def _ready():
    """The first job of each worker: (pid, None) when it holds the objective, else (pid, why not)."""
    return os.getpid(), _start_error


def _run_trial(trial, pass_trial):
    """`evaluate` with this worker's objective (a failed outcome when it could not load it)."""
    if _start_error is not None:
        return Outcome(TrialState.FAILED, error=f"the worker process could not load the objective: {_start_error}")
    return evaluate(_objective, trial, pass_trial)


# ---- in the calling process -----------------------------------------------------------------------

def _check_main_script(objective):
    """A WorkerStartError when worker processes cannot start, or cannot load an objective defined in the
    main script: each worker first imports the caller's main script from its file (by its module name for
    `python -m`), which a script read from standard input, given with -c or typed in does not have."""
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", None) is not None:
        return
    path = getattr(main, "__file__", None)
    if isinstance(path, str) and path.startswith("<"):
        raise WorkerStartError(
            f"backend='processes' cannot start worker processes from a script read from standard input "
            f"(__main__.__file__ is {path!r}; each worker starts by importing the main script from its file): "
            "save the script to a file and run `python script.py`, or use backend='threads'.")
    module = getattr(objective, "__module__", None) or type(objective).__module__
    if path is None and module == "__main__":
        raise WorkerStartError(
            f"backend='processes': the worker processes cannot load the objective {objective!r}, defined in a "
            "main script given with -c or typed in, which they cannot import: define it in a file (a module, "
            "or a script run as `python script.py`), or use backend='threads'.")


def pickle_objective(objective):
    """The objective as bytes for the workers; TypeError naming it when it cannot be pickled."""
    try:
        return pickle.dumps(objective, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise TypeError(
            f"backend='processes' needs an objective that can be pickled (a module-level function or "
            f"object); {objective!r} cannot be ({exc}). Use backend='threads'."
        ) from None


def _context():
    """The multiprocessing context: forkserver preloading tunelab, else spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)  # takes effect when this process first starts the server
        return context
    return multiprocessing.get_context("spawn")


class ObjectivePool:
    """n worker processes, each holding the objective pickled in `payload`; `submit(trial, pass_trial)`
    runs a trial on one of them. `start()` starts them together and returns once each holds it."""

    def __init__(self, n, payload):
        self.n, self.payload = n, payload
        numba_threads = share_of_cores(n)
        self.executor = cf.ProcessPoolExecutor(n, mp_context=_context(), initializer=_start_worker,
                                               initargs=(numba_threads, payload))

    def start(self, objective=None):
        """Start the n workers (one per `_ready` job submitted while none is idle) and wait until every
        one has loaded the objective; a WorkerStartError, with the pool shut, when one could not
        (`objective`, the object pickled, is checked first against the main script)."""
        _check_main_script(objective)
        try:
            probes = [self.executor.submit(_ready) for _ in range(self.n)]
            errors = [future.result()[1] for future in probes]
        except (cf.BrokenExecutor, OSError) as exc:
            self.shutdown(wait=False)
            raise WorkerStartError(
                f"backend='processes': a worker process ended while starting ({type(exc).__name__}: {exc}); "
                "its error is printed above (a script that starts worker processes runs its own work under "
                "`if __name__ == '__main__':`, which they skip when they import it). Or use "
                "backend='threads'.") from None
        except BaseException:
            self.shutdown()
            raise
        error = next((e for e in errors if e is not None), None)
        if error is not None:
            self.shutdown()
            raise WorkerStartError(f"backend='processes': the worker processes cannot load the objective "
                                   f"({error}); make it load in a fresh Python process (a module-level "
                                   "function or object), or use backend='threads'.")
        return self

    def fits(self, n, payload):
        """Whether this pool can run `n` workers' trials of the objective pickled in `payload`."""
        return n == self.n and payload == self.payload

    def submit(self, trial, pass_trial):
        return self.executor.submit(_run_trial, trial, pass_trial)

    def shutdown(self, wait=True):
        self.executor.shutdown(wait=wait, cancel_futures=True)


# ---- one pool kept between the optimize calls of a study ------------------------------------------

class _Kept:
    """The idle pool kept for a study (a weakref) and the timer that ends it after IDLE_SECONDS."""

    def __init__(self):
        self.lock = threading.Lock()
        self.study = self.pool = self.timer = None

    def _clear(self):
        """(study, pool) as they were, the slot emptied and its timer cancelled; call under the lock, or
        from a weakref callback."""
        study, pool, timer = self.study, self.pool, self.timer
        self.study = self.pool = self.timer = None
        if timer is not None:
            timer.cancel()
        return study, pool

    def take(self):
        with self.lock:
            return self._clear()

    def put(self, study, pool):
        reference = weakref.ref(study, self._study_ended)  # made outside the lock: collections run callbacks
        timer = threading.Timer(IDLE_SECONDS, self._expire, (pool,))
        timer.daemon = True
        with self.lock:
            _, previous = self._clear()
            self.study, self.pool, self.timer = reference, pool, timer
        timer.start()
        if previous is not None:
            previous.shutdown(wait=False)

    def release(self, study):
        with self.lock:
            if self.pool is None or self.study() is not study:
                return
            _, pool = self._clear()
        pool.shutdown()

    def _expire(self, pool):
        with self.lock:
            if self.pool is not pool:
                return
            self._clear()
        pool.shutdown(wait=False)

    def _study_ended(self, reference):
        """The kept study was collected. No lock: a weakref callback may run in the middle of any code of
        this thread, including a locked section above (it only swaps attributes)."""
        if self.study is reference:
            _, pool = self._clear()
            if pool is not None:
                pool.shutdown(wait=False)


_KEPT = _Kept()


def take_pool(study, n, objective):
    """Worker processes holding `objective` for `study`: the pool kept for it when it fits (the same n and
    pickled objective), else new ones, started (`ObjectivePool.start`)."""
    payload = pickle_objective(objective)
    kept, pool = _KEPT.take()
    if pool is not None and kept() is study and pool.fits(n, payload):
        return pool
    if pool is not None:
        pool.shutdown(wait=False)
    return ObjectivePool(n, payload).start(objective)


def keep_pool(study, pool):
    """Keep `pool` (idle) for `study`'s next optimize call; ends the pool kept before, if any."""
    _KEPT.put(study, pool)


def release(study):
    """End the pool kept for `study`, if any, and wait for its workers to exit."""
    _KEPT.release(study)
