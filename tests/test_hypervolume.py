"""The hypervolume kernels (tunelab.searchers._pareto_kernels) and what pareto.py builds on them: each point's
contribution and greedy hypervolume subset selection, against brute-force definitions (_brute_pareto.py), WFG
(the hypervolume before the sweeps) and small cases worked by hand."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.searchers import _pareto_kernels as kernels
from tunelab.searchers.pareto import (_non_dominated, _wfg, greedy_hypervolume_subset, hypervolume,
                                      hypervolume_contributions)

from _brute_pareto import brute_contributions, brute_greedy_subset, brute_hypervolume


def _sets(m_low=1, m_high=4, n_max=8):
    """(points (n, m), reference (m,)) of small integers: copies, ties in every objective, points on or beyond
    the reference; all arithmetic on them is exact, so ties are exact too."""
    def build(m):
        point = st.lists(st.integers(0, 4), min_size=m, max_size=m)
        return st.tuples(st.lists(point, min_size=0, max_size=n_max), st.lists(st.integers(1, 5), min_size=m,
                                                                                max_size=m))
    return st.integers(m_low, m_high).flatmap(build).map(
        lambda pr: (np.array(pr[0], dtype=float).reshape(len(pr[0]), len(pr[1])), np.array(pr[1], dtype=float)))


def _wfg_reference(F, ref):
    """The hypervolume by WFG alone (the general path, before the 2-D and 3-D sweeps)."""
    F = F[(F < ref).all(axis=1)]
    return _wfg(_non_dominated(F), ref) if F.shape[0] else 0.0


# ---- the kernels -----------------------------------------------------------------------------------------


def test_3d_sweep_small_cases_by_hand():
    ref = np.array([2.0, 2.0, 2.0])
    one = np.array([[1.0, 0.0, 0.5]])
    assert kernels.hypervolume_3d(one, ref) == 1.0 * 2.0 * 1.5
    axes = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    assert kernels.hypervolume_3d(axes, ref) == 8.0 - 1.0  # the cube less the corner [1, 2]^3
    # two boxes sharing z: [0,2]x[1,2]x[0,2] and [1,2]x[0,2]x[0,2], overlap [1,2]x[1,2]x[0,2]
    assert kernels.hypervolume_3d(np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]), ref) == 4.0 + 4.0 - 2.0
    dominated = np.vstack([axes, [[1.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 1.0, 1.5]]])  # and copies
    assert kernels.hypervolume_3d(dominated, ref) == 7.0
    assert kernels.hypervolume_3d(np.zeros((0, 3)), ref) == 0.0


def test_2d_sweep_small_cases_by_hand():
    ref = np.array([3.0, 3.0])
    assert kernels.hypervolume_2d(np.array([[1.0, 2.0], [2.0, 1.0]]), ref) == 3.0
    assert kernels.hypervolume_2d(np.array([[1.0, 2.0], [1.0, 1.0], [1.0, 2.5], [2.0, 1.0]]), ref) == 4.0
    assert kernels.hypervolume_2d(np.zeros((0, 2)), ref) == 0.0


@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("seed", range(4))
def test_sweeps_agree_with_wfg_on_random_fronts(m, seed):
    rng = np.random.default_rng(seed)
    for n in (1, 2, 5, 20, 60):
        F = rng.random((n, m)) ** (0.3 + seed)  # several fronts, points bunched towards 0 or 1
        F = np.vstack([F, F[: n // 3]])  # copies
        ref = np.full(m, 1.1)
        sweep = kernels.hypervolume_2d(F, ref) if m == 2 else kernels.hypervolume_3d(F, ref)
        assert sweep == pytest.approx(_wfg_reference(F, ref), rel=1e-12, abs=1e-15)


@settings(max_examples=150, deadline=None)
@given(_sets(2, 3))
def test_sweeps_are_exact_on_integer_grids(case):
    F, ref = case
    below = F[(F < ref).all(axis=1)]
    sweep = kernels.hypervolume_2d if F.shape[1] == 2 else kernels.hypervolume_3d
    assert sweep(below, ref) == brute_hypervolume(F, ref)


@settings(max_examples=200, deadline=None)
@given(_sets(1, 4), st.data())
def test_contributions_are_the_hypervolume_lost_without_each_point(case, data):
    """c_i = HV(P) - HV(P without p_i), exactly (integer data), for a set and for the set with one more point p,
    whose c is then HV(P + p) - HV(P); a second copy of p makes both copies' c exactly 0."""
    F, ref = case
    assert hypervolume_contributions(F, ref).tolist() == brute_contributions(F, ref).tolist()
    p = np.array(data.draw(st.lists(st.integers(0, 5), min_size=F.shape[1], max_size=F.shape[1])), dtype=float)
    c = hypervolume_contributions(np.vstack([F, p]), ref)
    assert c[-1] == brute_hypervolume(np.vstack([F, p]), ref) - brute_hypervolume(F, ref)
    assert hypervolume_contributions(np.vstack([F, p, p]), ref)[-2:].tolist() == [0.0, 0.0]


# ---- contributions and greedy subset selection -----------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(_sets(1, 4), st.integers(0, 9))
def test_greedy_subset_is_the_greedy_of_the_definition_ties_to_the_lower_index(case, size):
    F, ref = case
    assert greedy_hypervolume_subset(F, size, ref).tolist() == brute_greedy_subset(F, size, ref)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_greedy_subset_on_continuous_fronts_equals_the_full_argmax(m):
    """On random fronts (no ties) the lazy greedy takes what recomputing every gain at every step takes."""
    rng = np.random.default_rng(m)
    X = rng.random((40 if m < 4 else 15, m))
    F = X / np.linalg.norm(X, axis=1, keepdims=True)  # on the unit sphere: one front
    ref = np.full(m, 1.1)
    chosen = []
    for _ in range(10):
        base = hypervolume(F[chosen], ref) if chosen else 0.0
        gains = [hypervolume(F[chosen + [i]], ref) - base if i not in chosen else -np.inf for i in range(len(F))]
        chosen.append(int(np.argmax(gains)))
    assert greedy_hypervolume_subset(F, 10, ref).tolist() == chosen


def test_contributions_of_copies_and_dominated_points_are_exactly_zero():
    rng = np.random.default_rng(0)
    for m in (1, 2, 3, 4, 5):
        F = rng.random((12, m))
        F = np.vstack([F, F[:3], F[3:6] + 0.01])  # copies of 0..2, and points dominated by 3..5
        c = hypervolume_contributions(F, np.full(m, 1.5))
        assert (c[[0, 1, 2, 12, 13, 14, 15, 16, 17]] == 0.0).all()
        assert (c >= 0).all()


def test_contributions_and_subset_name_bad_input():
    with pytest.raises(ValueError, match="one entry per objective"):
        hypervolume_contributions([[1.0, 2.0]], [3.0])
    with pytest.raises(ValueError, match="`size`"):
        greedy_hypervolume_subset([[1.0, 2.0]], -1, [3.0, 3.0])
    with pytest.raises(ValueError, match="`reference`"):
        greedy_hypervolume_subset([[1.0, 2.0]], 1, [3.0, np.inf])
    assert greedy_hypervolume_subset(np.zeros((0, 2)), 3, [1.0, 1.0]).tolist() == []
    assert hypervolume_contributions(np.zeros((0, 2)), [1.0, 1.0]).tolist() == []
