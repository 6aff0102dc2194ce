"""Keep k trials in flight: ask the searcher for as many points as there are free workers, record each
result as it arrives, ask again ("async"); or, reproducibly, in synchronous batches ("sync", the default of
a seeded study): ask k points at once, wait until all k are done, record them in trial-number order, ask
the next k. A model-based searcher proposes from the finished and running trials, so in the asynchronous
loop its proposals follow which worker finished first; in batches they follow the seed, k and the backend
alone (the price: a worker that finishes early waits for the slowest trial of its batch). With a process
pool of its own the first batch is the first trial alone (see below).

Workers: the calling thread (n_jobs=1), a thread pool (tunelab's Numba kernels release the GIL, so
threads run its models in parallel without the start-up cost of processes), worker processes
(tunelab.searchers.process_pool: started together and warm before the first trial, each holding the
objective, which is pickled once; kept for the study's next `optimize` call with the same objective and
n_jobs), or any `concurrent.futures.Executor` (Dask's `Client.get_executor()` runs trials on many
machines; the objective then goes with each trial).

What every loop over a study shares (`run_trials` here, the multi-fidelity loops of
tunelab.searchers.multifidelity.runner): `check_n_jobs`; `Workers`, which makes the pool, keeps the jobs
in flight and the trials asked but not yet recorded, records each finished result before anything can
raise (`wait_and_record`) and, at the end, records the trials still running as failed and lost
(`close`); and `stop_reason`. The stop reasons a loop leaves in `study.stop_reason` are "n_trials",
"timeout", "stopped" (`study.stop()`), "exhausted" (the searcher has nothing new) and "interrupted"
(KeyboardInterrupt); None when the loop ended by an error. When every trial of a `run_trials` call
failed, it warns (RuntimeWarning) with the first error, rather than returning as if all were well.
"""

import concurrent.futures as cf
import math
import numbers
import os
import sys
import time
import warnings

import numpy as np

from tunelab.optimizers.validation import check_scalar
from tunelab.searchers.blas_threads import limit_blas_threads, share_of_cores
from tunelab.searchers.pareto import hypervolume, is_pareto_efficient
from tunelab.searchers.progress import ProgressBar
from tunelab.searchers.trial import Outcome, TrialState, evaluate, to_worker, wants_trial


class _InlineExecutor(cf.Executor):
    """Runs each call at once in the calling thread (n_jobs=1): no pool, no thread switch."""

    def submit(self, fn, /, *args, **kwargs):
        future = cf.Future()
        future.set_result(fn(*args, **kwargs))  # KeyboardInterrupt propagates to the loop
        return future


def check_n_jobs(n_jobs):
    """The number of workers: n_jobs, an integer >= 1, or -1 for one per CPU."""
    check_scalar(n_jobs, "n_jobs", numbers.Integral)
    if n_jobs < 1 and n_jobs != -1:
        raise ValueError(f"`n_jobs` must be an integer >= 1, or -1 for one per CPU; got {n_jobs!r}.")
    return (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)


def release_workers(study):
    """End the worker processes kept for `study`'s next optimize call (none unless it ran trials with
    backend="processes", which loads tunelab.searchers.process_pool)."""
    process_pool = sys.modules.get("tunelab.searchers.process_pool")
    if process_pool is not None:
        process_pool.release(study)


class Workers:
    """Where a loop runs its jobs, and the trials it has asked and not yet recorded.

    `n` workers (n_jobs, see `check_n_jobs`): the calling thread (1), a pool of threads or worker
    processes of its own (`backend`; the processes hold `objective`), or `executor`, which is not shut
    down here. A job is a tuple whose first item is its trial; `in_flight` maps each future to its job,
    `running` each asked trial's number to it.
    """

    def __init__(self, study, n_jobs=1, executor=None, backend="threads", objective=None, name="tunelab-trial"):
        self.study = study
        self.n = check_n_jobs(n_jobs)
        self.own_pool = executor is None and self.n > 1
        self.processes = None
        if self.own_pool and backend == "processes":
            from tunelab.searchers.process_pool import take_pool

            self.processes = take_pool(study, self.n, objective)
        self.pickles = executor is not None or self.processes is not None  # jobs go to other processes
        if executor is not None:
            self.pool = executor
        elif self.processes is not None:
            self.pool = self.processes.executor
        else:
            self.pool = cf.ThreadPoolExecutor(self.n, thread_name_prefix=name) if self.own_pool else _InlineExecutor()
        # threads of one process share its BLAS: each gets its share of the cores (blas_threads.py)
        threads = self.own_pool and self.processes is None
        self.restore_blas = limit_blas_threads(share_of_cores(self.n)) if threads else None
        self.in_flight = {}  # future -> job
        self.running = {}  # number -> trial: asked and not yet recorded
        self.asked = 0
        self.broken = False  # a worker process died: the pool is not kept

    def ask(self, k, budget=None):
        """Up to k new trials of the study (none for k <= 0); they are running here until recorded."""
        new = self.study.ask_many(k, budget) if k > 0 else []
        self.asked += len(new)
        for trial in new:
            self.running[trial.number] = trial
        return new

    def submit(self, job, fn, *args):
        """Run fn(*args) on a worker; `job` comes back with its result from `wait_and_record`."""
        self.in_flight[self.pool.submit(fn, *args)] = job

    def submit_trial(self, trial, objective, pass_trial):
        """Run `evaluate(objective, trial, pass_trial)` on a worker (worker processes hold the objective
        already: only the trial is sent); its Outcome comes back from `wait_and_record`."""
        sent = to_worker(trial) if self.pickles else trial  # another process gets a frozen history
        if self.processes is not None:
            self.in_flight[self.processes.submit(sent, pass_trial)] = (trial,)
        else:
            self.submit((trial,), evaluate, objective, sent, pass_trial)

    def record(self, trial, outcome, lost=None):
        """Finish a running trial in the study (`Study.record`)."""
        self.study.record(trial, outcome, lost)
        del self.running[trial.number]

    def wait_and_record(self, record=None):
        """Wait until jobs finish; call record(job, result) on each, in trial-number order, and return
        [(job, what record returned)]: every finished result is recorded before anything can raise.
        By default the result is the trial's Outcome, recorded by `self.record`. When the executor
        itself could not run a job (e.g. a worker process died) the result is a failed Outcome."""
        if record is None:
            record = self._record_outcome
        finished, _ = cf.wait(self.in_flight, return_when=cf.FIRST_COMPLETED)
        done = []
        for future in sorted(finished, key=lambda f: self.in_flight[f][0].number):
            job = self.in_flight.pop(future)
            try:
                result = future.result()
            except Exception as exc:
                self.broken = self.broken or isinstance(exc, cf.BrokenExecutor)
                result = Outcome(TrialState.FAILED, error=f"{type(exc).__name__}: {exc}", exc=exc)
            done.append((job, record(job, result)))
        return done

    def _record_outcome(self, job, outcome):
        self.record(job[0], outcome)
        return outcome

    def close(self, reason):
        """End the loop with `reason` (None: an error ended it): cancel the jobs not started, record the
        trials still running as failed and lost (so that none stays running), shut an own pool (at once
        when interrupted or jobs are left) or keep idle worker processes for the study's next call, and
        set `study.stop_reason`."""
        for future in self.in_flight:
            future.cancel()
        why = "interrupted" if reason == "interrupted" else "optimize ended by an error"
        for trial in list(self.running.values()):
            self.record(trial, Outcome(TrialState.FAILED, error=f"lost: {why} while the trial was running"),
                        lost=why)
        clean = reason not in (None, "interrupted") and not self.in_flight
        if self.processes is not None and clean and not self.broken:
            from tunelab.searchers.process_pool import keep_pool

            keep_pool(self.study, self.processes)
        elif self.own_pool:
            self.pool.shutdown(wait=clean, cancel_futures=True)
        if self.restore_blas is not None:
            self.restore_blas()
        self.study.stop_reason = reason


def stop_reason(study, asked=0, n_trials=None, start=None, timeout=None):
    """Why a loop should start no new trial now, or None: "stopped" (`study.stop()` was called),
    "n_trials" (`asked` >= n_trials), "timeout" (`timeout` seconds since `start`, a time.monotonic())."""
    if study.stop_requested:
        return "stopped"
    if n_trials is not None and asked >= n_trials:
        return "n_trials"
    if timeout is not None and time.monotonic() - start >= timeout:
        return "timeout"
    return None


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


def _check_arguments(objective, n_trials, timeout, backend, executor, callbacks, catch):
    """Check the arguments of `run_trials` (n_jobs is checked by `Workers`); returns (timeout, callbacks, catch)
    with timeout=inf made None (no time limit)."""
    if not callable(objective):
        raise TypeError(f"`objective` must be callable; got {objective!r}.")
    check_scalar(n_trials, "n_trials", numbers.Integral, low=0, allow_none=True)
    if timeout == math.inf:
        timeout = None
    check_scalar(timeout, "timeout", numbers.Real, low=0, low_inclusive=False, allow_none=True)
    if backend not in ("threads", "processes"):
        raise ValueError(f"`backend` must be 'threads' or 'processes'; got {backend!r}.")
    if executor is not None and not isinstance(executor, cf.Executor):
        raise TypeError(f"`executor` must be a concurrent.futures.Executor; got {type(executor).__name__}.")
    if callable(callbacks) or isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__"):
        name = getattr(callbacks, "__qualname__", callbacks)
        shown = f"the function {name} itself: pass callbacks=[{name}]" if callable(callbacks) else repr(callbacks)
        raise TypeError(f"`callbacks` must be a list of functions callback(study, trial); got {shown}.")
    callbacks = tuple(callbacks)
    if not all(callable(c) for c in callbacks):
        raise TypeError("`callbacks` must be functions callback(study, trial).")
    return timeout, callbacks, _check_catch(catch)


def check_batch(batch, study):
    """The batch mode of `run_trials`: "sync" or "async" as given, None -> "sync" for a seeded study
    (`study.seeded`), else "async"."""
    if batch is None:
        return "sync" if getattr(study, "seeded", False) else "async"
    if batch not in ("sync", "async"):
        raise ValueError(f"`batch` must be 'sync', 'async' or None; got {batch!r}.")
    return batch


def _submit_new(workers, objective, pass_trial, n_trials, budget):
    """Ask for a trial per free worker and submit each; returns the new trials. In "sync" batches the loop
    calls it only when no trial is in flight, so it asks for a whole batch of n points at once."""
    k = workers.n - len(workers.in_flight)
    if n_trials is not None:
        k = min(k, n_trials - workers.asked)
    new = workers.ask(k, budget)
    for trial in new:
        workers.submit_trial(trial, objective, pass_trial)
    return new


def _after_trial(study, trial, outcome, catch, callbacks):
    """Re-raise a failure that `catch` does not cover, then call the callbacks."""
    if trial.state is TrialState.FAILED and not _caught(outcome, catch):
        if outcome.exc is not None:
            raise outcome.exc
        raise RuntimeError(f"trial {trial.number} failed: {trial.error}")
    for callback in callbacks:
        callback(study, trial)


def _best_so_far(study, trial, best, shown):
    """What the progress bar shows: {"best": the best value} with one objective; with several (and the bar
    shown), {"front": (the size of the Pareto front of this call's trials, its hypervolume), "losses": their
    loss vectors, "low"/"high": the least and largest loss of each objective so far}. The hypervolume's
    reference is 10% of each objective's range beyond its worst loss so far (the nadir of the trials seen
    plus a margin), so it grows as the front advances and resets its scale when a worse trial widens the range.
    It is computed after every trial with 2 or 3 objectives (exact sweeps); with more, where exact hypervolume
    grows costly with the front, the bar shows the front's size alone (hypervolume None)."""
    if trial.state is not TrialState.COMPLETE:
        return best
    if study.n_objectives == 1:
        if best.get("best") is None or study.sign * (trial.value - best["best"]) < 0:
            return {"best": trial.value}
        return best
    if not shown:
        return best
    loss = [s * v for s, v in zip(study.signs, trial.objective_values)]
    losses = best.get("losses", []) + [loss]
    front = [f for f, kept in zip(losses, is_pareto_efficient(losses)) if kept]
    low = np.minimum(best.get("low", loss), loss)
    high = np.maximum(best.get("high", loss), loss)
    volume = hypervolume(front, high + 0.1 * (high - low)) if len(loss) <= 3 else None
    return {"front": (len(front), volume), "losses": front, "low": low, "high": high}


def run_trials(study, objective, *, n_trials=None, timeout=None, n_jobs=1, executor=None, backend="threads",
               callbacks=(), progress=True, catch=True, pass_trial=None, batch=None):
    """The optimize loop of `Study.optimize` (see there); sets `study.stop_reason`; warns when every trial
    it ran failed. batch="sync" asks a new batch only when the last one is recorded (see the module docstring)."""
    timeout, callbacks, catch = _check_arguments(objective, n_trials, timeout, backend, executor, callbacks, catch)
    sync = check_batch(batch, study) == "sync"
    pass_trial = wants_trial(objective, pass_trial)
    workers = Workers(study, n_jobs, executor, backend, objective)
    start = time.monotonic()
    budget = None if n_trials is None else len(study) + n_trials
    bar = ProgressBar(total=n_trials if n_trials is not None else study.searcher.size(), timeout=timeout,
                      enabled=progress)
    study.clear_stop()
    done, best, reason, failed = 0, {}, None, []
    try:
        while True:
            reason = reason or stop_reason(study, workers.asked, n_trials, start, timeout)
            if reason is None and not (sync and workers.in_flight):
                new = _submit_new(workers, objective, pass_trial, n_trials, budget)
                if not new and not workers.in_flight:
                    reason = "exhausted"
            if not workers.in_flight:
                break
            if sync:  # the whole batch, then recorded in trial-number order
                cf.wait(list(workers.in_flight))
            for (trial,), outcome in workers.wait_and_record():
                done += 1
                if trial.state is TrialState.FAILED:
                    failed.append(trial)
                best = _best_so_far(study, trial, best, bar.enabled)
                bar.update(done, best.get("best"), front=best.get("front"))
                _after_trial(study, trial, outcome, catch, callbacks)
    except KeyboardInterrupt:
        reason = "interrupted"
    finally:
        workers.close(reason)
        bar.close()
    if reason != "interrupted":
        _warn_if_all_failed(done, failed)


def _warn_if_all_failed(done, failed):
    """A RuntimeWarning naming the first error (lowest trial number) when all `done` trials of a call failed."""
    if done and len(failed) == done:
        first = min(failed, key=lambda trial: trial.number)
        which = f"all {done} trials" if done > 1 else "the one trial"
        warnings.warn(f"{which} of this optimize call failed; the first, trial {first.number}, with: {first.error}",
                      RuntimeWarning, stacklevel=4)  # at the caller of Study.optimize
