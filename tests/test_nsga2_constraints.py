"""NSGA2Search with `constraints_func`: the fronts of constrained domination against its definition (Deb,
Pratap, Agarwal & Meyarivan 2002, section VI), the selection that follows from them, Deb's CONSTR problem,
seeded determinism, resume, the searcher contract, and the errors a bad `constraints_func` raises."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searcher_contract import MultiObjectiveSearcherContract, SearcherContract
from tunelab.searchers import NSGA2Search, Real, Study
from tunelab.searchers.evolutionary import feasible_front
from tunelab.searchers.evolutionary.constraints import constrained_fronts, violation
from tunelab.searchers.evolutionary.nsga2 import crowded_order, survivors
from tunelab.searchers.pareto import non_dominated_sort
from tunelab.searchers.storage import StorageError
from tunelab.searchers.trial import TrialState


# ---- constrained domination against its definition ---------------------------------------------------

def constrained_dominates(F, v, i, j):
    """Deb et al. 2002, section VI, word for word: i is feasible and j is not; both are infeasible and i has
    the smaller violation; or both are feasible and i dominates j (all <=, one <)."""
    if v[i] == 0 and v[j] > 0:
        return True
    if v[i] > 0 and v[j] > 0:
        return v[i] < v[j]
    if v[i] == 0 and v[j] == 0:
        return all(a <= b for a, b in zip(F[i], F[j])) and any(a < b for a, b in zip(F[i], F[j]))
    return False


def brute_force_fronts(F, v):
    """Peel off, again and again, the points no remaining point constrained-dominates."""
    left, fronts = set(range(len(F))), []
    while left:
        front = sorted(i for i in left if not any(constrained_dominates(F, v, j, i) for j in left))
        fronts.append(front)
        left -= set(front)
    return fronts


@st.composite
def points_and_violations(draw):
    """n points of k objectives and their violations, from few levels so that ties are common; some
    violations +inf (a failed trial)."""
    n, k = draw(st.integers(0, 14)), draw(st.integers(1, 3))
    F = draw(st.lists(st.lists(st.integers(0, 3), min_size=k, max_size=k), min_size=n, max_size=n))
    levels = st.sampled_from([0.0, 0.0, 0.0, 0.5, 1.0, 2.5, math.inf])
    v = draw(st.lists(levels, min_size=n, max_size=n))
    return np.array(F, dtype=np.float64).reshape(n, k), np.array(v, dtype=np.float64)


@settings(max_examples=200, deadline=None)
@given(points_and_violations())
def test_constrained_fronts_are_those_of_the_definition(data):
    F, v = data
    assert [front.tolist() for front in constrained_fronts(F, v)] == brute_force_fronts(F, v)


@settings(max_examples=60, deadline=None)
@given(points_and_violations())
def test_without_violations_the_fronts_are_the_non_dominated_sort(data):
    F, _ = data
    zero = np.zeros(len(F))
    expected = non_dominated_sort(F)
    assert [f.tolist() for f in constrained_fronts(F, zero)] == [f.tolist() for f in expected]
    for N in range(1, len(F) + 1):
        assert survivors(F, N, zero).tolist() == survivors(F, N).tolist()
    assert crowded_order(F, zero).tolist() == crowded_order(F).tolist()


@settings(max_examples=150, deadline=None)
@given(points_and_violations(), st.integers(1, 14))
def test_survivors_keep_feasible_points_before_infeasible_ones(data, N):
    F, v = data
    N = min(N, len(F))
    kept = survivors(F, N, v)
    assert len(kept) == N == len(set(kept.tolist()))
    out = np.setdiff1d(np.arange(len(F)), kept)
    if len(out) and len(kept):
        assert v[kept].max() <= v[out].min()  # no point left out has a smaller violation than a kept one
    for i in out:  # nor constrained-dominates one: its front is no better than any kept point's
        assert not any(constrained_dominates(F, v, i, j) for j in kept)
    order = crowded_order(F, v)
    assert np.all(v[order][:-1] <= v[order][1:])  # the crowded comparison: feasible first, then by violation


def test_violation_is_the_sum_of_the_positive_parts():
    assert violation([[-1.0, 0.0], [0.5, -2.0], [0.25, 1.0]]).tolist() == [0.0, 0.5, 1.25]
    assert violation([0.0, -3.0]) == 0.0


# ---- Deb's CONSTR problem --------------------------------------------------------------------------

CONSTR_SPACE = {"x1": Real(0.1, 1.0), "x2": Real(0.0, 5.0)}


def constr(params):
    """Deb 2001 / Deb et al. 2002, CONSTR: minimise f1 = x1, f2 = (1 + x2) / x1 subject to
    x2 + 9 x1 >= 6 and -x2 + 9 x1 >= 1."""
    return params["x1"], (1.0 + params["x2"]) / params["x1"]


def constr_constraints(trial):
    x1, x2 = trial.params["x1"], trial.params["x2"]
    return [6.0 - (x2 + 9.0 * x1), 1.0 - (-x2 + 9.0 * x1)]


def constr_front(n=4001):
    """The true constrained front: x2 = 6 - 9 x1 (f2 = (7 - 9 f1) / f1) for 7/18 <= x1 <= 2/3, then x2 = 0
    (f2 = 1 / f1) up to x1 = 1.  (n, 2)"""
    f1 = np.linspace(7.0 / 18.0, 1.0, n)
    return np.c_[f1, np.where(f1 < 2.0 / 3.0, (7.0 - 9.0 * f1) / f1, 1.0 / f1)]


def mean_distance(A, B, scale=(1.0, 9.0)):
    """Mean over the rows of A of the distance to the nearest row of B, the objectives divided by `scale`."""
    D = (A[:, None, :] - B[None, :, :]) / np.asarray(scale)
    return float(np.sqrt((D ** 2).sum(axis=2)).min(axis=1).mean())


def test_constr_population_turns_feasible_and_reaches_the_constrained_front():
    study = Study(CONSTR_SPACE, NSGA2Search(constraints_func=constr_constraints), directions=["minimize"] * 2,
                  seed=0)
    study.optimize(constr, n_trials=200, progress=False)
    _, F, v, _ = study.searcher.state(study.history())
    assert (v == 0).mean() >= 0.8  # unconstrained NSGA-II keeps about a quarter feasible here
    assert mean_distance(F[v == 0], constr_front()) < 0.05  # near the front (f2 spans 1 to 9)
    front = np.array([t.objective_values for t in feasible_front(study, constr_constraints)])
    assert mean_distance(constr_front(101), front) < 0.05  # and along all of it


def test_without_constraints_the_same_problem_leaves_most_of_the_population_infeasible():
    study = Study(CONSTR_SPACE, NSGA2Search(), directions=["minimize"] * 2, seed=0)
    study.optimize(constr, n_trials=200, progress=False)
    members = [t for t in study.trials if t.state is TrialState.COMPLETE]
    U, F, v, _ = study.searcher.state(study.history())
    assert (v == 0).all()  # no constraints_func: every point counts as feasible
    by_values = {tuple(t.objective_values): t for t in members}
    infeasible = [max(constr_constraints(by_values[tuple(f)])) > 0 for f in F]
    assert np.mean(infeasible) > 0.5


# ---- the study: determinism, resume, feasible_front ----------------------------------------------------

def attr_constraint(trial):
    """A constraint the objective computed and kept with the trial: x + y >= 0.5."""
    return [trial.attrs["c"]]


def objective_with_attr(trial):
    trial.set_attr("c", 0.5 - trial["x"] - trial["y"])
    if trial["x"] > 0.9:
        raise ArithmeticError("no value here")
    return trial["x"], trial["y"]


SPACE = {"x": Real(0.0, 1.0), "y": Real(0.0, 1.0)}


def run(seed, n_trials=30, storage=None, **kwargs):
    study = Study(SPACE, NSGA2Search(population_size=6, constraints_func=attr_constraint),
                  directions=["minimize"] * 2, seed=seed, storage=storage)
    return study.optimize(objective_with_attr, n_trials=n_trials, progress=False, **kwargs)


def test_same_seed_same_trials_another_seed_others():
    first = [t.params for t in run(1).trials]
    assert first == [t.params for t in run(1).trials]
    assert first != [t.params for t in run(2).trials]


def test_a_resumed_constrained_study_equals_an_uninterrupted_one(tmp_path):
    straight = run(3, n_trials=27, storage=tmp_path / "a.db")
    stop = lambda study, trial: study.stop() if len(study) >= 10 else None  # noqa: E731  (mid-generation)
    run(3, storage=tmp_path / "b.db", callbacks=[stop]).close()
    with pytest.raises(StorageError, match="searcher="):
        Study.load(tmp_path / "b.db")  # the function is not in the file
    resumed = Study.load(tmp_path / "b.db", searcher=NSGA2Search(population_size=6, constraints_func=attr_constraint))
    resumed.optimize(objective_with_attr, n_trials=17, progress=False)
    assert [t.params for t in resumed.trials] == [t.params for t in straight.trials]
    assert [t.objective_values for t in resumed.trials] == [t.objective_values for t in straight.trials]
    assert [t.attrs for t in resumed.trials] == [t.attrs for t in straight.trials]


def test_failed_trials_are_last_and_count_as_infinitely_infeasible():
    study = run(4, n_trials=36)
    assert any(t.state is TrialState.FAILED for t in study.trials)
    U, F, v, order = study.searcher.state(study.history())
    failed = ~np.isfinite(F).all(axis=1)
    assert np.array_equal(failed, np.isinf(v))
    assert not failed[order[:len(order) - failed.sum()]].any()


def test_an_always_satisfied_constraint_changes_nothing():
    plain = Study(SPACE, NSGA2Search(population_size=6), directions=["minimize"] * 2, seed=5)
    plain.optimize(lambda p: (p["x"], (1 - p["x"]) ** 2 + p["y"]), n_trials=40, progress=False)
    constrained = Study(SPACE, NSGA2Search(population_size=6, constraints_func=lambda t: [-1.0, 0.0]),
                        directions=["minimize"] * 2, seed=5)
    constrained.optimize(lambda p: (p["x"], (1 - p["x"]) ** 2 + p["y"]), n_trials=40, progress=False)
    assert [t.params for t in constrained.trials] == [t.params for t in plain.trials]


def test_feasible_front_is_the_front_of_the_feasible_trials():
    study = run(6, n_trials=30)
    complete = [t for t in study.trials if t.state is TrialState.COMPLETE]
    feasible = [t for t in complete if t.attrs["c"] <= 0]
    expected = [t.number for t in feasible
                if not any(all(a <= b for a, b in zip(s.objective_values, t.objective_values))
                           and s.objective_values != t.objective_values for s in feasible)]
    assert [t.number for t in feasible_front(study, attr_constraint)] == expected
    assert {t.number for t in study.best_trials} != set(expected)  # best_trials ignores the constraints


def test_get_params_holds_constraints_func():
    searcher = NSGA2Search(constraints_func=attr_constraint)
    assert searcher.get_params()["constraints_func"] is attr_constraint
    assert NSGA2Search().get_params()["constraints_func"] is None


# ---- errors ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("returned, error, words", [
    (0.5, TypeError, "sequence"),
    ("ab", TypeError, "sequence"),
    ([], ValueError, "empty"),
    (["0.5"], TypeError, "constraint 0"),
    ([0.1, True], TypeError, "constraint 1"),
    ([float("nan")], ValueError, "nan"),
    ([0.0, float("inf")], ValueError, "finite"),
    ([10 ** 400], ValueError, "finite"),
    (np.zeros((1, 1)), TypeError, "1-D"),
])
def test_a_bad_constraints_func_output_is_named(returned, error, words):
    study = Study(SPACE, NSGA2Search(population_size=4, constraints_func=lambda t: returned),
                  directions=["minimize"] * 2, seed=0)
    with pytest.raises(error, match="constraints_func") as caught:
        study.optimize(lambda p: (p["x"], p["y"]), n_trials=8, progress=False)
    assert words in str(caught.value)


def test_a_changing_number_of_constraints_is_named():
    study = Study(SPACE, NSGA2Search(population_size=4, constraints_func=lambda t: [0.0] * (1 + t.number % 2)),
                  directions=["minimize"] * 2, seed=0)
    with pytest.raises(ValueError, match=r"`constraints_func` \(called on trial 1\) returned 2 values, and 1"):
        study.optimize(lambda p: (p["x"], p["y"]), n_trials=8, progress=False)


def test_a_constraints_func_that_is_not_callable_is_refused():
    with pytest.raises(TypeError, match="`constraints_func` must be None or a function"):
        Study(SPACE, NSGA2Search(constraints_func=[0.0]), directions=["minimize"] * 2)


# ---- the searcher contract with a constraint -------------------------------------------------------------

def x_at_most_one(trial):
    return [trial.params["x"] - 1.0]


class TestConstrainedNSGA2Contract(SearcherContract):
    batch_invariant = True

    def make_searcher(self):
        return NSGA2Search(population_size=6, constraints_func=x_at_most_one)


class TestConstrainedNSGA2MultiObjectiveContract(MultiObjectiveSearcherContract):
    batch_invariant = True

    def make_searcher(self):
        return NSGA2Search(population_size=6, constraints_func=x_at_most_one)
