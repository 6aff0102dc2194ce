"""NSGA2Search and ParEGOSearch: the searcher contract with one and with two objectives, and the math of
their selection (Deb et al. 2002) and scalarisation (Knowles 2006)."""

import numpy as np
import pytest

from searcher_contract import MultiObjectiveSearcherContract, SearcherContract
from tunelab.searchers import NSGA2Search, ParEGOSearch, Real, Study, TPESearch
from tunelab.searchers.bayes.parego import chebyshev, simplex_lattice
from tunelab.searchers.evolutionary.nsga2 import crowded_order, survivors


class TestNSGA2Contract(SearcherContract):
    batch_invariant = True

    def make_searcher(self):
        return NSGA2Search(population_size=6)


class TestNSGA2MultiObjectiveContract(MultiObjectiveSearcherContract):
    batch_invariant = True

    def make_searcher(self):
        return NSGA2Search(population_size=6)


class TestParEGOMultiObjectiveContract(MultiObjectiveSearcherContract):
    n_trials = 8

    def make_searcher(self):
        return ParEGOSearch(n_initial=4, n_candidates=64)


def test_survivors_take_whole_fronts_then_the_most_crowded_apart():
    F = np.array([[0.0, 4.0], [1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [4.0, 0.0],  # front 0
                  [5.0, 5.0], [6.0, 6.0]])  # fronts 1 and 2
    kept = survivors(F, 3)
    assert sorted(kept.tolist()) == [0, 1, 4] or sorted(kept.tolist()) == [0, 3, 4]  # extremes, then one inner
    assert sorted(survivors(F, 6).tolist()) == [0, 1, 2, 3, 4, 5]
    order = crowded_order(F)
    assert set(order[:2].tolist()) == {0, 4} and order[-1] == 6


def test_failed_trials_are_worst_in_the_population():
    space = {"x": Real(0, 1), "y": Real(0, 1)}
    study = Study(space, NSGA2Search(population_size=4), directions=["minimize", "minimize"], seed=0)

    def objective(p):
        if p["x"] > 0.5:
            raise ArithmeticError("no")
        return p["x"], 1 - p["y"]
    study.optimize(objective, n_trials=8, progress=False)
    U, F, _, order = study.searcher.state(study.history())
    finite = np.isfinite(F).all(axis=1)
    assert finite[order[:finite.sum()]].all()  # every complete member before every failed one


def test_nsga2_approaches_the_zdt1_front():
    """ZDT1 (d=3): after 300 trials the front lies near f2 = 1 - sqrt(f1) (its optimum, g = 1)."""
    def zdt1(p):
        x = np.array([p["x0"], p["x1"], p["x2"]])
        g = 1 + 9 * x[1:].mean()
        return x[0], g * (1 - np.sqrt(x[0] / g))
    space = {f"x{i}": Real(0, 1) for i in range(3)}
    study = Study(space, NSGA2Search(), directions=["minimize", "minimize"], seed=0)
    study.optimize(zdt1, n_trials=300, progress=False)
    assert study.hypervolume([1.1, 5.0]) > 5.0  # the optimum front gives 5.5 - 1/3 = 5.167; random ~3.8


def test_simplex_lattice_and_chebyshev():
    W = simplex_lattice(3, 4)
    assert W.shape == (15, 3) and np.allclose(W.sum(axis=1), 1.0)
    assert len({tuple(w) for w in W}) == 15
    F = np.array([[0.2, 0.6], [0.5, 0.5]])
    assert np.allclose(chebyshev(F, np.array([0.5, 0.5]), rho=0.1), [0.3 + 0.04, 0.25 + 0.05])


def test_parego_in_a_single_objective_study_is_bayes_on_the_scaled_loss():
    space = {"x": Real(-1, 2)}
    study = Study(space, ParEGOSearch(n_initial=4, n_candidates=64), seed=0)
    study.optimize(lambda p: (p["x"] - 0.5) ** 2, n_trials=12, progress=False)
    assert abs(study.best_params["x"] - 0.5) < 0.1


def test_a_single_objective_searcher_is_refused_with_advice():
    from tunelab.searchers import BayesSearch
    with pytest.raises(ValueError, match="NSGA2Search"):
        Study({"x": Real(0, 1)}, BayesSearch(), directions=["minimize", "maximize"])


class TestMOTPEMultiObjectiveContract(MultiObjectiveSearcherContract):
    n_trials = 14

    def make_searcher(self):
        return TPESearch(n_startup_trials=5, n_ei_candidates=8)
