"""Multi-objective TPE (Ozaki et al. 2020/2022): the split by non-dominated rank with hypervolume subset
selection, the weights by hypervolume contribution, and the search on ZDT1."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.searchers import Real, Study, TPESearch, hypervolume
from tunelab.searchers.tpe.motpe import contribution_weights, greedy_subset, reference_point, split_multi

from _brute_pareto import brute_contributions, brute_gains, brute_hypervolume


def test_reference_point_is_ten_percent_beyond_the_worst():
    F = np.array([[1.0, -2.0, 0.0], [3.0, -4.0, 0.0]])
    assert np.allclose(reference_point(F), [3.3, -1.8, 1e-12])


def test_contribution_weights_by_closed_form():
    """Front (0, 2), (1, 1), (2, 0), reference (2.2, 2.2): the middle point adds the box 1 x 1 = 1; each
    end adds 0.2 x 1.2 = 0.24 - its part of the middle box (0.2 x 0.2 cut by the reference) -> 0.2 x 1 = 0.2."""
    F = np.array([[0.0, 2.0], [1.0, 1.0], [2.0, 0.0]])
    total = hypervolume(F, [2.2, 2.2])
    solo = [total - hypervolume(np.delete(F, i, axis=0), [2.2, 2.2]) for i in range(3)]
    assert np.allclose(solo, [0.2, 1.0, 0.2])
    assert np.allclose(contribution_weights(F), [0.2, 1.0, 0.2])
    dominated = np.vstack([F, [[2.0, 2.0]]])
    assert contribution_weights(dominated)[3] == 1e-12  # a dominated point adds nothing


@pytest.mark.parametrize("seed", range(5))
def test_greedy_subset_is_optimal_for_its_first_pick_and_never_worse_than_half(seed):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.random(7))
    F = np.column_stack([x, 1 - np.sqrt(x)])  # one front
    ref = reference_point(F)
    chosen = greedy_subset(F, 3)
    assert len(set(chosen.tolist())) == 3
    solo = [hypervolume(F[[i]], ref) for i in range(7)]
    assert chosen[0] == int(np.argmax(solo))
    best = max(hypervolume(F[list(c)], ref) for c in itertools.combinations(range(7), 3))
    assert hypervolume(F[chosen], ref) >= (1 - 1 / np.e) * best  # the greedy bound (Nemhauser et al. 1978)


fronts = st.integers(2, 4).flatmap(lambda m: st.lists(
    st.lists(st.integers(0, 4), min_size=m, max_size=m), min_size=1, max_size=8)).map(
    lambda P: np.array(P, dtype=float))  # small ints: copies and ties in every objective; any mix of fronts


@settings(max_examples=150, deadline=None)
@given(fronts, st.integers(1, 9))
def test_greedy_subset_takes_a_largest_gain_at_every_step(F, size):
    """By the definition: with S the rows taken before step t, row t's HV(S + p) - HV(S) is the largest over the
    rows left (to rounding: the reference 1.1 w is not a whole number), and a copy is never taken before the
    row it copies (equal rows have equal gains; ties go to the lower index)."""
    chosen = greedy_subset(F, size).tolist()
    assert len(chosen) == min(size, len(F)) == len(set(chosen))
    ref = reference_point(F)
    tol = 1e-9 * brute_hypervolume(F, ref)
    for t in range(len(chosen)):
        gains = brute_gains(F, chosen[:t], ref)
        left = [i for i in range(len(F)) if i not in chosen[:t]]
        assert gains[chosen[t]] >= gains[left].max() - tol
    rank = {i: t for t, i in enumerate(chosen)}
    for i, j in itertools.combinations(range(len(F)), 2):
        if (F[i] == F[j]).all() and j in rank:
            assert i in rank and rank[i] < rank[j]


@settings(max_examples=150, deadline=None)
@given(fronts)
def test_contribution_weights_are_the_brute_force_contributions_over_the_largest(F):
    ref = reference_point(F)
    c = brute_contributions(F, ref)
    c[np.abs(c) <= 1e-9 * brute_hypervolume(F, ref)] = 0.0  # the brute force's rounding (its grid changes)
    expected = np.ones(len(F)) if len(F) <= 1 or not c.max() > 0 else np.clip(c / c.max(), 1e-12, 1.0)
    assert contribution_weights(F) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def _study(values, directions=("minimize", "minimize")):
    study = Study({"x": Real(0, 1)}, TPESearch(), directions=list(directions), seed=0)
    for i, v in enumerate(values):
        trial = study.ask()
        study.tell(trial, v)
    return study


def test_split_takes_whole_fronts_then_the_largest_hypervolume():
    # front 0: trials 0, 1 (2 points); front 1: trials 2, 3, 4; the rest dominated further. 20 trials,
    # gamma 0.2 -> 4 good: front 0 whole, then 2 of front 1 by greedy subset selection.
    values = [(0.0, 1.0), (1.0, 0.0), (0.1, 2.0), (1.05, 1.05), (2.0, 0.1)] + [(3.0 + i, 3.0 + i) for i in range(15)]
    parts = split_multi(_study(values).history(), gamma=0.2)
    assert parts.good.tolist()[:2] == [0, 1] and len(parts.good) == 4
    F = np.array(values[2:5])
    expected = sorted((2 + greedy_subset(F, 2)).tolist())
    assert parts.good.tolist() == [0, 1] + expected
    assert sorted(parts.good.tolist() + parts.bad.tolist()) == list(range(20))
    assert np.allclose(parts.good_vectors, np.array(values)[parts.good])


def test_split_reads_directions():
    values = [(1.0, 5.0), (2.0, 1.0), (0.5, 0.5)] + [(9.0, 9.0)] * 7
    minimize = split_multi(_study(values).history(), gamma=0.1)
    assert minimize.good.tolist() == [2]
    maximize = split_multi(_study(values, ("maximize", "maximize")).history(), gamma=0.1)
    assert maximize.good.tolist() in ([3], [4], [5], [6], [7], [8], [9])  # the (9, 9) copies dominate


def test_motpe_beats_random_on_zdt1():
    def zdt1(p):
        x = np.array([p[f"x{i}"] for i in range(4)])
        g = 1 + 9 * x[1:].mean()
        return x[0], g * (1 - np.sqrt(x[0] / g))
    space = {f"x{i}": Real(0, 1) for i in range(4)}
    from tunelab.searchers import RandomSearch
    hv = {}
    for name, searcher in (("tpe", TPESearch()), ("random", RandomSearch())):
        study = Study(space, searcher, directions=["minimize", "minimize"], seed=0)
        study.optimize(zdt1, n_trials=80, progress=False)
        hv[name] = study.hypervolume([1.1, 5.0])
    assert hv["tpe"] > hv["random"] + 0.3


def test_mo_weights_is_checked():
    with pytest.raises(ValueError, match="mo_weights"):
        Study({"x": Real(0, 1)}, TPESearch(mo_weights="ei"), directions=["minimize", "minimize"])
