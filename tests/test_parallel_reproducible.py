"""Parallel model-based search in synchronous batches: the same seed and n_jobs give the same trials."""

import threading
import time

import numpy as np
import pytest

from tunelab.searchers import BayesSearch, ParEGOSearch, Real, RandomSearch, Study, TPESearch
from tunelab.searchers.parallel import check_batch
from tunelab.searchers.trial import TrialState

SPACE = {"x": Real(-2.0, 2.0), "y": Real(-1.0, 3.0)}


class Scrambled:
    """(x - 0.5)^2 + (y - 1)^2 (two objectives: also x^2 + y^2), each call sleeping a few milliseconds that
    depend on the call count, so the workers finish in a different order from the trial numbers."""

    def __init__(self, delays, objectives=1):
        self.delays, self.objectives = delays, objectives
        self.calls, self.lock = 0, threading.Lock()

    def __call__(self, trial):
        with self.lock:
            self.calls += 1
            delay = self.delays[self.calls % len(self.delays)]
        time.sleep(delay)
        first = (trial["x"] - 0.5) ** 2 + (trial["y"] - 1.0) ** 2
        return first if self.objectives == 1 else (first, trial["x"] ** 2 + trial["y"] ** 2)


def run(searcher, delays, n_trials=8, batch=None, seed=5, **study_kwargs):
    study = Study(SPACE, searcher=searcher, seed=seed, **study_kwargs)
    objective = Scrambled(delays, len(study_kwargs.get("directions", [1])))
    study.optimize(objective, n_trials=n_trials, n_jobs=2, batch=batch, progress=False)
    return study


def params_in_order(study):
    return [(t.number, t.params["x"], t.params["y"]) for t in study.trials]


@pytest.mark.parametrize("searcher, kwargs", [
    (BayesSearch(n_initial=3, n_candidates=64), {}),
    (TPESearch(n_startup_trials=3), {}),
    (ParEGOSearch(n_initial=3, n_candidates=64), {"directions": ["minimize", "minimize"]}),
], ids=["bayes", "tpe-constant-liar", "parego"])
def test_two_seeded_runs_on_two_threads_give_the_same_trials(searcher, kwargs):
    """Opposite timings (the first worker slow in one run, the second in the other) change the order the
    trials finish in; in batches they do not change what is proposed."""
    a = run(searcher, [0.0, 0.03], **kwargs)
    b = run(searcher, [0.03, 0.0], **kwargs)
    assert params_in_order(a) == params_in_order(b)
    assert all(t.state is TrialState.COMPLETE for t in a.trials + b.trials)
    assert len(a.trials) == 8
    assert params_in_order(a) != params_in_order(run(searcher, [0.0, 0.03], seed=6, **kwargs))


def test_the_batches_are_the_points_asked_together_with_nothing_running():
    """Each batch of two is asked when every earlier trial is finished: the same trials a study gets from
    ask_many(2) and tell, by hand, in trial-number order."""
    searcher = BayesSearch(n_initial=3, n_candidates=64)
    looped = run(searcher, [0.0, 0.02])
    by_hand = Study(SPACE, searcher=searcher, seed=5)
    for _ in range(4):
        trials = by_hand.ask_many(2)
        for trial in trials:
            by_hand.tell(trial, (trial["x"] - 0.5) ** 2 + (trial["y"] - 1.0) ** 2)
    assert params_in_order(looped) == params_in_order(by_hand)
    assert [t.value for t in looped.trials] == [t.value for t in by_hand.trials]


def test_a_run_of_five_trials_ends_with_a_batch_of_one():
    study = run(BayesSearch(n_initial=3, n_candidates=64), [0.0, 0.01], n_trials=5)
    assert len(study.trials) == 5 and study.stop_reason == "n_trials"


def test_the_asynchronous_mode_still_runs_and_keeps_both_workers_busy():
    """async: a point is asked whenever a worker is free, so trials overlap with the running ones; every
    trial completes and the searcher sees the running ones as pending (constant liar / believer)."""
    starts, ends, lock = {}, {}, threading.Lock()

    def objective(trial):
        with lock:
            starts[trial.number] = time.monotonic()
        time.sleep(0.04 if trial.number % 3 == 0 else 0.005)
        with lock:
            ends[trial.number] = time.monotonic()
        return (trial["x"] - 0.5) ** 2 + (trial["y"] - 1.0) ** 2

    study = Study(SPACE, searcher=BayesSearch(n_initial=3, n_candidates=64), seed=5)
    study.optimize(objective, n_trials=8, n_jobs=2, batch="async", progress=False)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 8
    assert starts[2] < ends[0]  # trial 2 started while trial 0 (slow) was still running: no batch barrier


def test_in_synchronous_batches_no_trial_starts_before_its_batch_is_asked_after_the_last():
    starts, ends, lock = {}, {}, threading.Lock()

    def objective(trial):
        with lock:
            starts[trial.number] = time.monotonic()
        time.sleep(0.04 if trial.number % 3 == 0 else 0.005)
        with lock:
            ends[trial.number] = time.monotonic()
        return float(trial["x"])

    Study(SPACE, seed=5).optimize(objective, n_trials=6, n_jobs=2, batch="sync", progress=False)
    for k in range(2, 6, 2):  # batch {k, k+1} starts after both trials of batch {k-2, k-1} ended
        assert min(starts[k], starts[k + 1]) >= max(ends[k - 2], ends[k - 1])


def test_the_default_is_sync_for_a_seeded_study_and_async_otherwise(tmp_path):
    assert check_batch(None, Study(SPACE, seed=0)) == "sync"
    assert check_batch(None, Study(SPACE)) == "async"
    path = str(tmp_path / "s.db")
    Study(SPACE, storage=path)  # a fresh seed, kept in the file
    assert check_batch(None, Study.load(path)) == "sync"  # reopened: the stored seed is the study's seed
    assert check_batch("async", Study(SPACE, seed=0)) == "async"


@pytest.mark.parametrize("batch", ["both", 1, True])
def test_batch_must_be_sync_async_or_none(batch):
    with pytest.raises(ValueError, match=r"`batch` must be 'sync', 'async' or None; got"):
        Study(SPACE, seed=0).optimize(lambda t: 0.0, n_trials=1, n_jobs=2, batch=batch, progress=False)


def test_random_search_gives_the_same_trials_in_both_modes():
    sync = run(RandomSearch(), [0.0, 0.01], batch="sync")
    asynchronous = run(RandomSearch(), [0.01, 0.0], batch="async")
    assert params_in_order(sync) == params_in_order(asynchronous)


def test_search_cv_passes_batch_through():
    from tunelab.core import LogisticRegression
    from tunelab.searchers import SearchCV

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=60) > 0).astype(int)
    results = []
    for _ in range(2):
        search = SearchCV(LogisticRegression(), {"alpha": Real(1e-4, 1.0, log=True)},
                          BayesSearch(n_initial=2, n_candidates=32), n_trials=6, cv=3, n_jobs=2, random_state=0)
        results.append([t.params["alpha"] for t in search.fit(X, y).study_.trials])
    assert results[0] == results[1]
    assert SearchCV(LogisticRegression(), {"alpha": Real(1e-4, 1.0)}, batch="async").get_params()["batch"] == "async"
    with pytest.raises(ValueError, match="`batch` must be"):
        SearchCV(LogisticRegression(), {"alpha": Real(1e-4, 1.0)}, n_trials=2, cv=3, n_jobs=2, random_state=0,
                 batch="later").fit(X, y)
