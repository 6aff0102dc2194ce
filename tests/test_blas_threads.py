"""Parallel trials share the cores with the BLAS under numpy: each worker's BLAS gets cores // n_jobs
threads while the loop runs, and the count before is back afterwards."""

import os

import pytest

from tunelab.searchers.blas_threads import blas_thread_limit, blas_threads, share_of_cores
from tunelab.searchers.space import Real
from tunelab.searchers.study import Study

pytestmark = pytest.mark.skipif(not blas_threads(), reason="no OpenBLAS found under numpy (another BLAS)")


def blas_thread_count(params):
    """Module level, so that worker processes can unpickle it: the BLAS thread count where it runs."""
    return float(blas_threads()[0])


def test_share_of_cores_is_cores_over_workers_and_at_least_one():
    cores = os.cpu_count() or 1
    assert share_of_cores(1) == cores
    assert share_of_cores(cores + 5) == 1


def test_the_limit_holds_within_the_block_and_the_count_before_comes_back():
    before = blas_threads()
    with blas_thread_limit(1):
        assert blas_threads() == [1] * len(before)
    assert blas_threads() == before


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_each_of_n_parallel_workers_gets_its_share_of_the_cores(backend):
    before = blas_threads()
    study = Study({"x": Real(0.0, 1.0)}, seed=0)
    study.optimize(blas_thread_count, n_trials=4, n_jobs=2, backend=backend, progress=False)
    assert [t.value for t in study.trials] == [float(share_of_cores(2))] * 4
    study.close()
    assert blas_threads() == before


def test_one_job_leaves_the_blas_alone():
    before = blas_threads()
    study = Study({"x": Real(0.0, 1.0)}, seed=0)
    study.optimize(blas_thread_count, n_trials=2, progress=False)
    assert [t.value for t in study.trials] == [float(before[0])] * 2
