"""Keep k trials in flight: ask the searcher for as many points as there are free workers, record each
result as it arrives, ask again.

Workers: the calling thread (n_jobs=1), a thread pool (tunelab's Numba kernels release the GIL, so
threads run its models in parallel without the start-up and compile cost of processes), a process pool
(start method "forkserver", or "spawn": never "fork", which is unsafe once Numba's threads run; each
worker gets cpu_count // k Numba threads; the first trial runs alone so that one process writes
Numba's on-disk cache before the others read it), or any `concurrent.futures.Executor` (Dask's
`Client.get_executor()` runs trials on many machines).
"""

import concurrent.futures as cf
import multiprocessing
import numbers
import os
import pickle
import sys
import time

from tunelab.searchers.progress import ProgressBar
from tunelab.searchers.trial import Outcome, TrialState, evaluate, wants_trial


def _init_worker(numba_threads):
    """Process-pool initializer: k workers share the cores instead of each starting one thread per core."""
    os.environ["NUMBA_NUM_THREADS"] = str(numba_threads)
    numba = sys.modules.get("numba")  # already imported (e.g. preloaded by the fork server)
    if numba is not None:
        numba.set_num_threads(max(1, min(numba_threads, numba.config.NUMBA_NUM_THREADS)))


def process_pool(n_workers):
    """A ProcessPoolExecutor with a start method safe with Numba's threads."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    numba_threads = max(1, (os.cpu_count() or 1) // n_workers)
    return cf.ProcessPoolExecutor(n_workers, mp_context=context, initializer=_init_worker,
                                  initargs=(numba_threads,))


class _InlineExecutor(cf.Executor):
    """Runs each call at once in the calling thread (n_jobs=1): no pool, no thread switch."""

    def submit(self, fn, /, *args, **kwargs):
        future = cf.Future()
        future.set_result(fn(*args, **kwargs))  # KeyboardInterrupt propagates to the loop
        return future


def _resolve_n_jobs(n_jobs):
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or (n_jobs < 1 and n_jobs != -1):
        raise ValueError(f"`n_jobs` must be an integer >= 1, or -1 for one per CPU; got {n_jobs!r}.")
    return (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)


def _check_catch(catch):
    if isinstance(catch, bool):
        return catch
    if isinstance(catch, type) and issubclass(catch, BaseException):
        return (catch,)
    if isinstance(catch, tuple) and all(isinstance(c, type) and issubclass(c, BaseException) for c in catch):
        return catch
    raise TypeError(f"`catch` must be True, False or a tuple of exception classes; got {catch!r}.")


def _caught(outcome, catch):
    """Whether a failed outcome lets the search go on: always for a bad value (NaN, inf, not a number);
    for an exception raised by the objective, as `catch` says (matched by class name when the exception
    itself stayed in another process)."""
    if not outcome.exc_types or catch is True:
        return True
    if catch is False:
        return False
    if outcome.exc is not None:
        return isinstance(outcome.exc, catch)
    return any(c.__name__ in outcome.exc_types for c in catch)


def run_trials(study, objective, *, n_trials=None, timeout=None, n_jobs=1, executor=None, backend="threads",
               callbacks=(), progress=True, catch=True, pass_trial=None):
    """The optimize loop of `Study.optimize` (see there); sets `study.stop_reason`."""
    if not callable(objective):
        raise TypeError(f"`objective` must be callable; got {objective!r}.")
    if n_trials is not None and (isinstance(n_trials, bool) or not isinstance(n_trials, numbers.Integral)
                                 or n_trials < 0):
        raise ValueError(f"`n_trials` must be None or an integer >= 0; got {n_trials!r}.")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or timeout <= 0):
        raise ValueError(f"`timeout` must be None or a number of seconds > 0; got {timeout!r}.")
    if backend not in ("threads", "processes"):
        raise ValueError(f"`backend` must be 'threads' or 'processes'; got {backend!r}.")
    if executor is not None and not isinstance(executor, cf.Executor):
        raise TypeError(f"`executor` must be a concurrent.futures.Executor; got {type(executor).__name__}.")
    callbacks = tuple(callbacks)
    if not all(callable(c) for c in callbacks):
        raise TypeError("`callbacks` must be functions callback(study, trial).")
    catch = _check_catch(catch)
    n_workers = _resolve_n_jobs(n_jobs)
    pass_trial = wants_trial(objective, pass_trial)

    own_pool = executor is None and n_workers > 1
    pickles = executor is not None or (own_pool and backend == "processes")
    if own_pool and backend == "processes":
        try:
            pickle.dumps(objective)
        except Exception as exc:
            raise TypeError(
                f"backend='processes' needs an objective that can be pickled (a module-level function or "
                f"object); {objective!r} cannot be ({exc}). Use backend='threads'."
            ) from None
        pool = process_pool(n_workers)
    elif own_pool:
        pool = cf.ThreadPoolExecutor(n_workers, thread_name_prefix="tunelab-trial")
    else:
        pool = executor or _InlineExecutor()
    warmup = own_pool and backend == "processes"  # the first trial runs alone (see module docstring)

    start = time.monotonic()
    budget = None if n_trials is None else len(study.storage.trials) + n_trials
    bar = ProgressBar(total=n_trials if n_trials is not None else study.searcher.size(), timeout=timeout,
                      enabled=progress)
    study._stop_requested = False
    in_flight = {}  # future -> trial
    running = {}  # number -> trial: asked and not yet recorded
    asked = done = 0
    best = None
    reason = None
    try:
        while True:
            if reason is None:
                if study._stop_requested:
                    reason = "stopped"
                elif n_trials is not None and asked >= n_trials:
                    reason = "n_trials"
                elif timeout is not None and time.monotonic() - start >= timeout:
                    reason = "timeout"
            if reason is None:
                k = (1 if warmup and done == 0 else n_workers) - len(in_flight)
                if n_trials is not None:
                    k = min(k, n_trials - asked)
                new = study.ask_many(k, budget) if k > 0 else []
                asked += len(new)
                for trial in new:
                    running[trial.number] = trial
                    sent = trial
                    if pickles and trial._pruner is not None:  # another process gets a frozen history
                        sent = trial.copy()
                        sent._pruner, sent._history = trial._pruner, trial._history.frozen()
                    in_flight[pool.submit(evaluate, objective, sent, pass_trial)] = trial
                if not new and not in_flight:
                    reason = "exhausted"
            if not in_flight:
                break
            finished, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            finished = sorted(finished, key=lambda f: in_flight[f].number)
            outcomes = []
            for future in finished:  # record every result before anything can raise
                trial = in_flight.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # the executor could not run it (e.g. a worker process died)
                    outcome = Outcome(TrialState.FAILED, error=f"{type(exc).__name__}: {exc}", exc=exc)
                study._record(trial, outcome)
                del running[trial.number]
                outcomes.append((trial, outcome))
            for trial, outcome in outcomes:
                done += 1
                if trial.state is TrialState.COMPLETE and (best is None or study._sign * (trial.value - best) < 0):
                    best = trial.value
                bar.update(done, best)
                if trial.state is TrialState.FAILED and not _caught(outcome, catch):
                    if outcome.exc is not None:
                        raise outcome.exc
                    raise RuntimeError(f"trial {trial.number} failed: {trial.error}")
                for callback in callbacks:
                    callback(study, trial)
    except KeyboardInterrupt:
        reason = "interrupted"
    finally:
        for future in in_flight:
            future.cancel()
        for trial in running.values():  # asked but not finished: record them, so that none stays "running"
            why = "interrupted" if reason == "interrupted" else "optimize ended by an error"
            study._record(trial, Outcome(TrialState.FAILED, error=f"lost: {why} while the trial was running"),
                          lost=why)
        if own_pool:
            pool.shutdown(wait=reason != "interrupted" and not in_flight, cancel_futures=True)
        bar.close()
        study.stop_reason = reason
