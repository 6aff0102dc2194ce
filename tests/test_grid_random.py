"""Grid and random search: the shared contract, grid completeness and order, Sobol and LHS stratification."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from searcher_contract import ConditionalSearcherContract, SearcherContract

from tunelab.searchers.sampling import lowdiscrepancy as qmc
from tunelab.searchers.base import History
from tunelab.searchers.sampling.grid import GridSearch
from tunelab.searchers.sampling.random import RandomSearch
from tunelab.searchers.space import Categorical, Integer, Real, Space
from tunelab.searchers.study import SearchExhausted, Study
from tunelab.searchers.trial import Trial, TrialState


class TestGridContract(SearcherContract):
    stochastic = False
    batch_invariant = True

    def make_searcher(self):
        return GridSearch(n_points=3)


class TestUniformContract(SearcherContract):
    batch_invariant = True

    def make_searcher(self):
        return RandomSearch()


class TestSobolContract(SearcherContract):
    batch_invariant = True

    def make_searcher(self):
        return RandomSearch(sampler="sobol")


class TestLatinHypercubeContract(SearcherContract):
    batch_invariant = True

    def make_searcher(self):
        return RandomSearch(sampler="lhs")


class TestGridConditionalContract(ConditionalSearcherContract):
    stochastic = False
    batch_invariant = True
    define_by_run = False

    def make_searcher(self):
        return GridSearch(n_points=2)


class TestUniformConditionalContract(ConditionalSearcherContract):
    batch_invariant = True

    def make_searcher(self):
        return RandomSearch()


class TestSobolConditionalContract(ConditionalSearcherContract):
    batch_invariant = True

    def make_searcher(self):
        return RandomSearch(sampler="sobol")


class TestLatinHypercubeConditionalContract(ConditionalSearcherContract):
    batch_invariant = True

    def make_searcher(self):
        return RandomSearch(sampler="lhs")


# ---- grid -----------------------------------------------------------------------------------------

SPACE = Space({"a": Real(0.0, 1.0), "b": Integer(1, 3), "c": ["x", "y"]})


def test_grid_search_tries_every_point_once_in_product_order_then_stops():
    study = Study(SPACE, GridSearch(n_points=3)).optimize(lambda p: p["a"] + p["b"], progress=False)
    assert study.stop_reason == "exhausted"
    expected = [dict(zip("abc", v)) for v in itertools.product([0.0, 0.5, 1.0], [1, 2, 3], ["x", "y"])]
    assert [t.params for t in study.trials] == expected == SPACE.grid(3)
    assert study.best_value == 1.0
    with pytest.raises(SearchExhausted, match="no new point"):
        study.ask()


def test_grid_search_continues_where_it_stopped_and_respects_n_trials():
    study = Study(SPACE, GridSearch(n_points=2))
    study.optimize(lambda p: 0.0, n_trials=5, progress=False)
    assert study.stop_reason == "n_trials" and len(study.trials) == 5
    study.optimize(lambda p: 0.0, progress=False)
    assert [t.params for t in study.trials] == SPACE.grid(2)


def test_grid_search_skips_points_held_by_running_trials_and_retries_lost_ones():
    searcher = GridSearch(n_points=2)
    searcher.setup(SPACE, 0)
    grid = SPACE.grid(2)
    trials = [Trial(0, grid[0]), Trial(1, grid[2], state=TrialState.FAILED),
              Trial(2, grid[1], state=TrialState.FAILED, system_attrs={"lost": "process ended"})]
    assert searcher.ask(3, History(SPACE, trials)) == [grid[1], grid[3], grid[4]]
    assert searcher.size() == 12


def test_grid_search_tries_each_active_combination_once():
    space = Space({"x": Real(0.0, 1.0),
                   "kind": Categorical({"a": {"y": Real(0.0, 1.0), "n": Integer(1, 3)}, "b": None})})
    study = Study(space, GridSearch(n_points=3), seed=0).optimize(lambda p: p["x"], progress=False)
    assert len(study.trials) == space.grid_size(3) == 3 * (3 * 3 + 1) and study.stop_reason == "exhausted"
    keys = {tuple(sorted(t.params.items())) for t in study.trials}
    assert len(keys) == 30 and sum(t.params["kind"] == "b" for t in study.trials) == 3
    with pytest.raises(ValueError, match=r"the grid has 30 points \(axes 3 x 2 x 3 x 3, active combinations only\)"):
        Study(space, GridSearch(n_points=3, max_grid_size=29), seed=0)


def test_grid_points_per_dimension_and_the_size_limit():
    study = Study(SPACE, GridSearch(n_points={"a": 4}))
    assert study.searcher.size() == 4 * 3 * 2
    big = Space({f"x{i}": Real(0, 1) for i in range(6)})
    with pytest.raises(ValueError, match=r"the grid has 1,000,000 points \(10 x 10 x 10 x 10 x 10 x 10\), more "
                                         r"than `max_grid_size`=100,000"):
        Study(big, GridSearch())
    assert Study(big, GridSearch(max_grid_size=10**6)).searcher.size() == 10**6
    with pytest.raises(ValueError, match="`max_grid_size` must be >= 1; got 0"):
        Study(SPACE, GridSearch(max_grid_size=0))
    with pytest.raises(TypeError, match="`max_grid_size` must be an integer; got 100000.0"):
        Study(SPACE, GridSearch(max_grid_size=1e5))
    with pytest.raises(ValueError, match="`n_points` must be >= 1; got 0"):
        Study(SPACE, GridSearch(n_points=0))


# ---- Sobol ----------------------------------------------------------------------------------------

def test_plain_sobol_matches_scipy():
    scipy_qmc = pytest.importorskip("scipy.stats.qmc")
    for d in (1, 2, 7, 128):
        V = qmc.sobol_directions(d)
        ours = qmc.sobol_points(V, np.zeros(d, dtype=np.uint64), 0, 512)
        np.testing.assert_array_equal(ours, scipy_qmc.Sobol(d, scramble=False).random(512))


def _dyadic_counts(U, m):
    return [np.bincount((U[:, j] * 2**m).astype(int), minlength=2**m) for j in range(U.shape[1])]


@settings(max_examples=15, deadline=None)
@given(m=st.integers(1, 8), block=st.integers(0, 3), d=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_scrambled_sobol_puts_one_point_in_each_dyadic_interval(m, block, d, seed):
    """Points [b 2^m, (b+1) 2^m): every interval [i/2^m, (i+1)/2^m) of every dimension holds exactly one."""
    V, shift = qmc.scramble(qmc.sobol_directions(d), np.random.default_rng(seed))
    U = qmc.sobol_points(V, shift, block * 2**m, 2**m)
    assert U.shape == (2**m, d) and U.min() >= 0 and U.max() < 1
    for counts in _dyadic_counts(U, m):
        assert np.all(counts == 1)


@settings(max_examples=10, deadline=None)
@given(m=st.integers(2, 8), seed=st.integers(0, 2**32 - 1))
def test_scrambled_sobol_first_two_dimensions_form_a_0_m_2_net(m, seed):
    """Every box [i/2^a, (i+1)/2^a) x [j/2^(m-a), (j+1)/2^(m-a)) of area 2^-m holds exactly one point."""
    V, shift = qmc.scramble(qmc.sobol_directions(2), np.random.default_rng(seed))
    U = qmc.sobol_points(V, shift, 0, 2**m)
    for a in range(m + 1):
        cells = (U[:, 0] * 2**a).astype(int) * 2 ** (m - a) + (U[:, 1] * 2 ** (m - a)).astype(int)
        assert np.all(np.bincount(cells, minlength=2**m) == 1)


def test_scrambling_changes_with_the_seed():
    V = qmc.sobol_directions(3)
    a = qmc.sobol_points(*qmc.scramble(V, np.random.default_rng(0)), 0, 8)
    b = qmc.sobol_points(*qmc.scramble(V, np.random.default_rng(1)), 0, 8)
    assert not np.allclose(a, b)


def test_sobol_dimension_limit_is_explained():
    with pytest.raises(ValueError, match="up to 128 dimensions; the space has 129. Use sampler='lhs'"):
        qmc.sobol_directions(129)


def test_sobol_search_trials_are_stratified():
    space = Space({"x": Real(0.0, 1.0), "y": Real(-1.0, 1.0)})
    study = Study(space, RandomSearch(sampler="sobol"), seed=4).optimize(lambda p: 0.0, n_trials=32, progress=False)
    U = space.encode_many([t.params for t in study.trials])
    for counts in _dyadic_counts(U, 5):
        assert np.all(counts == 1)


# ---- Latin hypercube and uniform ------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 60), d=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_latin_hypercube_has_one_point_per_stratum(n, d, seed):
    U = qmc.latin_hypercube(np.random.default_rng(seed), n, d)
    assert U.shape == (n, d) and U.min() >= 0 and U.max() < 1
    for j in range(d):
        assert np.all(np.bincount((U[:, j] * n).astype(int), minlength=n) == 1)


@pytest.mark.parametrize("n_trials", [7, 10, 25])
def test_lhs_search_covers_the_planned_number_of_trials(n_trials):
    space = Space({"x": Real(0.0, 1.0), "k": Integer(0, n_trials - 1)})
    study = Study(space, RandomSearch(sampler="lhs"), seed=1)
    study.optimize(lambda p: 0.0, n_trials=n_trials, progress=False)
    x = np.array([t.params["x"] for t in study.trials])
    assert np.all(np.bincount((x * n_trials).astype(int), minlength=n_trials) == 1)
    assert sorted(t.params["k"] for t in study.trials) == list(range(n_trials))  # each integer once


def test_lhs_size_fixes_the_blocks():
    space = Space({"x": Real(0.0, 1.0)})
    study = Study(space, RandomSearch(sampler="lhs", lhs_size=4), seed=2)
    study.optimize(lambda p: 0.0, n_trials=12, progress=False)
    x = np.array([t.params["x"] for t in study.trials]).reshape(3, 4)
    for block in x:
        assert sorted((block * 4).astype(int)) == [0, 1, 2, 3]


def test_uniform_search_is_uniform_in_the_cube():
    space = Space({"x": Real(0.0, 1.0), "lr": Real(1e-4, 1.0, log=True)})
    study = Study(space, RandomSearch(), seed=0).optimize(lambda p: 0.0, n_trials=2000, progress=False)
    U = space.encode_many([t.params for t in study.trials])
    counts = np.bincount((U * 10).astype(int).ravel() + np.tile([0, 10], 2000), minlength=20)
    assert np.all(np.abs(counts / 2000 - 0.1) < 0.025)


def test_samplers_differ_and_bad_settings_are_refused():
    space = Space({"x": Real(0.0, 1.0), "y": Real(0.0, 1.0)})
    points = {s: [t.params for t in Study(space, RandomSearch(sampler=s), seed=0)
                  .optimize(lambda p: 0.0, n_trials=8, progress=False).trials] for s in ("uniform", "sobol", "lhs")}
    assert points["uniform"] != points["sobol"] != points["lhs"] != points["uniform"]
    with pytest.raises(ValueError, match="`sampler` must be one of 'uniform', 'sobol', 'lhs'; got 'halton'"):
        Study(space, RandomSearch(sampler="halton"))
    with pytest.raises(ValueError, match="`lhs_size` must be >= 1; got 0"):
        Study(space, RandomSearch(sampler="lhs", lhs_size=0))
    with pytest.raises(TypeError, match="`lhs_size` must be an integer; got 4.0"):
        Study(space, RandomSearch(sampler="lhs", lhs_size=4.0))


def test_random_points_depend_only_on_seed_and_trial_number():
    space = Space({"x": Real(0.0, 1.0), "c": ["a", "b", "c"]})
    for sampler in ("uniform", "sobol", "lhs"):
        searcher = RandomSearch(sampler=sampler, lhs_size=16)
        searcher.setup(space, 9)
        together = searcher.ask(10, History(space, []))
        one_by_one = []
        for _ in range(10):
            trials = [Trial(i, p) for i, p in enumerate(one_by_one)]
            one_by_one += searcher.ask(1, History(space, trials))
        assert together == one_by_one
