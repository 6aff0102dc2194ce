"""Parallel trials: threads, processes, any Executor and Dask give the serial set of trials."""

import concurrent.futures as cf
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from tunelab.searchers.sampling.grid import GridSearch
from tunelab.searchers.sampling.random import RandomSearch
from tunelab.searchers.space import Integer, Real, Space
from tunelab.searchers.study import Study
from tunelab.searchers.trial import TrialPruned, TrialState

SPACE = Space({"x": Real(-1.0, 1.0), "n": Integer(1, 3), "kind": ["a", "b"]})


def loss(params):
    """Module level, so that worker processes can unpickle it."""
    time.sleep(0.005)
    return params["x"] ** 2 + params["n"] + (params["kind"] == "b")


def worker_facts(trial):
    trial.set_attr("pid", os.getpid())
    trial.set_attr("numba_threads", os.environ.get("NUMBA_NUM_THREADS"))
    trial.report(1.0, 0)
    if trial.should_prune():
        raise TrialPruned()
    return loss(trial.params)


class PruneOddTrials:
    """Picklable pruner: prunes trials with an odd number, and checks that it sees a history."""

    def should_prune(self, trial, history):
        assert history.trials[trial.number].number == trial.number
        return trial.number % 2 == 1


def trial_set(study):
    return sorted(repr(sorted(t.params.items())) for t in study.trials)


def grid_study(**optimize_kwargs):
    study = Study(SPACE, GridSearch(n_points=4), seed=0)
    return study.optimize(loss, progress=False, **optimize_kwargs)


@pytest.mark.parametrize("n_jobs", [2, 3, -1])
def test_threads_try_the_serial_grid(n_jobs):
    serial = grid_study()
    parallel = grid_study(n_jobs=n_jobs)
    assert len(serial.trials) == 24 and trial_set(parallel) == trial_set(serial)
    assert parallel.stop_reason == "exhausted" and parallel.best_value == serial.best_value
    assert all(t.state is TrialState.COMPLETE for t in parallel.trials)


def test_threads_run_trials_at_once_and_random_search_keeps_its_trials():
    active, peak, lock = [0], [0], threading.Lock()

    def slow(params):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.02)
        with lock:
            active[0] -= 1
        return params["x"]

    serial = Study(SPACE, RandomSearch(sampler="lhs"), seed=3).optimize(slow, n_trials=12, progress=False)
    threaded = Study(SPACE, RandomSearch(sampler="lhs"), seed=3).optimize(slow, n_trials=12, n_jobs=4, progress=False)
    assert peak[0] == 4
    assert trial_set(threaded) == trial_set(serial)


def test_failures_in_threads_are_recorded():
    def objective(params):
        if params["kind"] == "b":
            raise ValueError("no b")
        return 0.0

    study = Study(SPACE, GridSearch(n_points=2)).optimize(objective, n_jobs=3, progress=False)
    failed = [t for t in study.trials if t.state is TrialState.FAILED]
    assert len(failed) == 6 and all(t.error == "ValueError: no b" for t in failed)
    with pytest.raises(ValueError, match="no b"):
        Study(SPACE, GridSearch(n_points=2)).optimize(objective, n_jobs=3, catch=False, progress=False)


def test_interrupt_with_threads_keeps_finished_trials_and_records_running_ones():
    seen = []

    def interrupt(study, trial):  # Ctrl-C arrives in the main thread, where callbacks run
        seen.append(trial.number)
        if len(seen) == 6:
            raise KeyboardInterrupt

    def objective(trial):  # trials 0-4 quick, 5 slower, the rest still running when Ctrl-C comes
        time.sleep(0.005 if trial.number < 5 else 0.1 if trial.number == 5 else 1.0)
        return 0.0

    study = Study(SPACE, seed=0).optimize(objective, n_trials=50, n_jobs=3, callbacks=[interrupt], progress=False,
                                          batch="async")
    assert study.stop_reason == "interrupted"
    trials = study.trials
    complete = {t.number for t in trials if t.state is TrialState.COMPLETE}
    lost = [t for t in trials if t.state is TrialState.FAILED]
    assert set(seen) <= complete and len(complete) + len(lost) == len(trials) < 50
    assert seen[-1] == 5 and [t.number for t in lost] == [6, 7]
    assert all(t.lost and "interrupted" in t.error for t in lost)


def test_any_executor_and_it_stays_open():
    with cf.ThreadPoolExecutor(2) as executor:
        study = grid_study(executor=executor, n_jobs=2)
        assert executor.submit(lambda: 7).result() == 7
    assert trial_set(study) == trial_set(grid_study())


def test_processes_backend_runs_the_serial_grid_in_other_processes():
    study = Study(SPACE, GridSearch(n_points=2), seed=0, pruner=PruneOddTrials())
    study.optimize(worker_facts, n_jobs=2, backend="processes", progress=False)
    trials = study.trials
    assert trial_set(study) == trial_set(Study(SPACE, GridSearch(n_points=2)).optimize(loss, progress=False))
    assert all(t.attrs["pid"] != os.getpid() for t in trials)
    assert {t.attrs["numba_threads"] for t in trials} == {str(max(1, (os.cpu_count() or 1) // 2))}
    assert [t.state is TrialState.PRUNED for t in trials] == [t.number % 2 == 1 for t in trials]


def test_processes_backend_refuses_an_objective_it_cannot_send():
    with pytest.raises(TypeError, match="backend='processes' needs an objective that can be pickled"):
        Study(SPACE).optimize(lambda p: 0.0, n_trials=2, n_jobs=2, backend="processes")


def test_dask_executor_tries_the_serial_grid():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        study = grid_study(executor=client.get_executor(), n_jobs=2)
    assert trial_set(study) == trial_set(grid_study())
    assert all(t.state is TrialState.COMPLETE for t in study.trials)


class CountingObjective:
    """Picklable objective that counts, in each process, how often it was pickled and unpickled."""

    pickled = 0  # in the calling process
    unpickled = 0  # in a worker process

    def __init__(self, offset):
        self.offset = offset

    def __getstate__(self):
        type(self).pickled += 1
        return {"offset": self.offset}

    def __setstate__(self, state):
        type(self).unpickled += 1
        self.offset = state["offset"]

    def __call__(self, trial):
        trial.set_attr("pid", os.getpid())
        trial.set_attr("unpickled", type(self).unpickled)
        time.sleep(0.02)  # longer than handing a job to the idle worker, so each batch of 2 uses both
        return trial.params["x"] ** 2 + self.offset


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_worker_processes_get_the_objective_once_and_stay_for_the_next_call():
    objective = CountingObjective(1.0)
    study = Study(SPACE, RandomSearch(), seed=0)
    before = CountingObjective.pickled
    study.optimize(objective, n_trials=12, n_jobs=2, backend="processes", progress=False)
    assert CountingObjective.pickled - before == 1  # once for both workers, not once per trial
    first = study.trials
    assert all(t.attrs["unpickled"] == 1 for t in first)  # each worker unpickled it once
    pids = {t.attrs["pid"] for t in first}
    assert os.getpid() not in pids and len(pids) <= 2
    study.optimize(objective, n_trials=6, n_jobs=2, backend="processes", progress=False)
    second = study.trials[12:]
    assert {t.attrs["pid"] for t in second} <= pids and all(t.attrs["unpickled"] == 1 for t in second)
    assert [t.value for t in study.trials] == [t.params["x"] ** 2 + 1.0 for t in study.trials]
    study.optimize(CountingObjective(2.0), n_trials=2, n_jobs=2, backend="processes", progress=False)
    third = study.trials[18:]
    assert not {t.attrs["pid"] for t in third} & pids  # another objective: other workers
    assert [t.value for t in third] == [t.params["x"] ** 2 + 2.0 for t in third]
    study.close()  # ends the kept workers
    assert not any(_alive(t.attrs["pid"]) for t in third)


def test_kept_workers_end_when_unused(monkeypatch):
    from tunelab.searchers import process_pool

    monkeypatch.setattr(process_pool, "IDLE_SECONDS", 0.2)
    study = Study(SPACE, RandomSearch(), seed=0)
    study.optimize(CountingObjective(0.0), n_trials=4, n_jobs=2, backend="processes", progress=False)
    pids = {t.attrs["pid"] for t in study.trials}
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in pids)  # ended while the study lives on


def _run_script(args, script, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.path.dirname(__file__)}
    return subprocess.run([sys.executable, *args], input=script, capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=env)


STDIN_SCRIPT = textwrap.dedent("""
    from tunelab.searchers import Real, Study

    def objective(params):
        return params["x"] ** 2

    Study({"x": Real(-1.0, 1.0)}, seed=0).optimize(objective, n_trials=4, n_jobs=2, backend="processes")
""")


class LoadsOnlyHere:
    """Pickles, but cannot be unpickled (as an objective whose data lives only in the calling process)."""

    def __reduce__(self):
        return (_refuse_to_load, ("the data stayed behind",))

    def __call__(self, params):
        return 0.0


def _refuse_to_load(why):
    raise RuntimeError(why)


def test_workers_that_cannot_load_the_objective_fail_at_once():
    from tunelab.searchers.process_pool import WorkerStartError

    study = Study(SPACE, seed=0)
    expected = (r"^backend='processes': the worker processes cannot load the objective "
                r"\(RuntimeError: the data stayed behind\); .* or use backend='threads'.$")
    with pytest.raises(WorkerStartError, match=expected):
        study.optimize(LoadsOnlyHere(), n_trials=4, n_jobs=2, backend="processes")
    assert len(study) == 0  # no trial was asked


@pytest.mark.parametrize("how", ["stdin", "-c"])
def test_workers_that_cannot_start_fail_at_once_with_one_line(how, tmp_path):
    """A script read from standard input cannot start worker processes; an objective defined in a script
    given with -c cannot be loaded by them. Either fails before any trial, saying what to do."""
    args = ["-"] if how == "stdin" else ["-c", STDIN_SCRIPT]
    result = _run_script(args, STDIN_SCRIPT if how == "stdin" else "", tmp_path)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("tunelab.searchers.process_pool.WorkerStartError: backend='processes'")
    expected = "from a script read from standard input" if how == "stdin" else "given with -c or typed in"
    assert expected in last and "backend='threads'" in last
    assert result.stderr.count("Traceback") == 1  # the caller's only: no worker printed one
