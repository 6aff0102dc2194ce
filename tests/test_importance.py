"""Hyperparameter importance: the functional ANOVA integrator against closed forms, and `importance` on
objectives whose variance shares are known."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from tunelab.searchers import (
    Categorical, GridSearch, Integer, RandomSearch, Real, Space, TrialState, importance, minimize,
)
from tunelab.searchers.fanova import functional_anova, intersection_space, quadrature


def test_functional_anova_of_a_product_and_a_sum_matches_the_closed_form():
    # f = x1 x2 + x3 on [0, 1]^3: f_1 = x1/2 - 1/4 (variance 1/48), V_12 = 1/144, V_3 = 1/12
    space = Space({"a": Real(0, 1), "b": Real(0, 1), "c": Real(0, 1)})
    anova = functional_anova(lambda U: U[:, 0] * U[:, 1] + U[:, 2], space, interactions=True)
    assert anova.main["a"] == pytest.approx(1 / 48, rel=1e-6)
    assert anova.main["b"] == pytest.approx(1 / 48, rel=1e-6)
    assert anova.main["c"] == pytest.approx(1 / 12, rel=1e-6)
    assert anova.pairs[("a", "b")] == pytest.approx(1 / 144, rel=1e-6)
    assert anova.pairs[("a", "c")] == pytest.approx(0.0, abs=1e-12)
    assert anova.total == pytest.approx(7 / 144 + 1 / 12, rel=5e-3)  # 512 scrambled Sobol points
    assert anova.mean == pytest.approx(0.75, abs=1e-3)


def test_functional_anova_weights_the_levels_of_discrete_dimensions_by_their_cells():
    # f = c[level] + 2 k: the categorical's levels weigh 1/3 each, the integer's 1/4 each
    space = Space({"kind": Categorical(["x", "y", "z"]), "k": Integer(0, 3), "u": Real(0, 1)})
    c = np.array([0.0, 1.0, 5.0])
    kind, k = space["kind"], space["k"]

    def f(U):
        return c[kind.level(U[:, 0])] + 2.0 * (k.level(U[:, 1]))

    anova = functional_anova(f, space)
    assert anova.main["kind"] == pytest.approx(np.var(c), rel=1e-9)
    assert anova.main["k"] == pytest.approx(4.0 * np.var(np.arange(4.0)), rel=1e-9)
    assert anova.main["u"] == pytest.approx(0.0, abs=1e-12)


def test_quadrature_of_a_log_integer_uses_its_cells_and_gauss_legendre_is_exact_for_polynomials():
    dim = Integer(1, 20, log=True)
    t, w = quadrature(dim, 32)
    assert np.allclose(t, dim.level_units()) and np.allclose(w, np.diff(dim.cell_edges()))
    assert w.sum() == pytest.approx(1.0)
    t, w = quadrature(Real(0, 1), 8)
    assert w @ t**15 == pytest.approx(1 / 16, rel=1e-12)  # degree 2n - 1
    t, w = quadrature(Integer(0, 999), 8)  # many levels: Gauss-Legendre nodes in the unit interval
    assert len(t) == 8 and w.sum() == pytest.approx(1.0)


ADDITIVE_CASES = [
    # weights (a, b): f = a x1 + b cos(pi x2) + 0 x3; Var(a x1) = a^2/12, Var(b cos(pi x2)) = b^2/2
    (3.0, 1.0),
    (1.0, 2.0),
]


@pytest.mark.parametrize("a, b", ADDITIVE_CASES)
def test_importance_of_an_additive_objective_recovers_its_variance_shares(a, b):
    space = {"x1": Real(0, 1), "x2": Real(0, 1), "x3": Real(0, 1)}
    study = minimize(lambda p: a * p["x1"] + b * math.cos(math.pi * p["x2"]), space, RandomSearch(), n_trials=60,
                     seed=1, progress=False)
    shares = importance(study)
    v1, v2 = a * a / 12, b * b / 2
    assert shares["x1"] == pytest.approx(v1 / (v1 + v2), abs=0.02)
    assert shares["x2"] == pytest.approx(v2 / (v1 + v2), abs=0.02)
    assert shares["x3"] == pytest.approx(0.0, abs=0.01)
    assert list(shares)[0] == ("x1" if v1 > v2 else "x2")  # largest first


def test_importance_on_a_mixed_space_in_log_and_categorical_coordinates():
    # f = log10(lr) + effect[choice] + 0 n: in the unit coordinates of the space, log10(lr) = -4 + 4u
    effect = {"relu": 0.0, "tanh": 2.0, "sigmoid": 4.0}
    space = {"lr": Real(1e-4, 1.0, log=True), "act": Categorical(list(effect)), "n": Integer(1, 8)}
    study = minimize(lambda p: math.log10(p["lr"]) + effect[p["act"]], space, RandomSearch(), n_trials=80, seed=3,
                     progress=False)
    shares = importance(study)
    v_lr, v_act = 16 / 12, np.var(list(effect.values()))
    assert shares["lr"] == pytest.approx(v_lr / (v_lr + v_act), abs=0.03)
    assert shares["act"] == pytest.approx(v_act / (v_lr + v_act), abs=0.03)
    assert shares["n"] == pytest.approx(0.0, abs=0.02)


def test_importance_reports_an_interaction_and_is_deterministic_for_a_seed():
    space = {"x1": Real(0, 1), "x2": Real(0, 1)}
    study = minimize(lambda p: p["x1"] * p["x2"], space, RandomSearch(), n_trials=40, seed=0, progress=False)
    shares = importance(study, interactions=True, random_state=7)
    assert shares[("x1", "x2")] == pytest.approx(1 / 7, abs=0.02)  # (1/144) / (7/144)
    assert shares["x1"] == pytest.approx(3 / 7, abs=0.02)
    assert sum(shares.values()) == pytest.approx(1.0, abs=0.02)
    assert importance(study, interactions=True, random_state=7) == shares


def test_importance_pools_studies_and_gives_zero_to_a_constant_objective():
    space = {"x": Real(0, 1), "y": Real(0, 1)}
    one = minimize(lambda p: 1.5, space, RandomSearch(), n_trials=6, seed=0, progress=False)
    two = minimize(lambda p: 1.5, space, RandomSearch(), n_trials=6, seed=1, progress=False)
    assert importance([one, two]) == {"x": 0.0, "y": 0.0}


class _FakeStudy:
    """A study-like object (space, trials, optional directions) for what Study itself cannot hold."""

    def __init__(self, space, trials, directions=None):
        self.space, self.trials = Space(space), trials
        if directions is not None:
            self.directions = directions


def _trial(number, params, value=1.0, values=None):
    """A complete trial record; `values` as a multi-objective trial would carry them."""
    return SimpleNamespace(number=number, params=params, state=TrialState.COMPLETE, value=value, values=values)


# a root choice between two branches that share `lr`; each branch adds a dimension of its own
BRANCHED = {"x": Real(0, 1), "optimizer": Categorical({
    "momentum": {"lr": Real(0, 1), "momentum": Real(0, 1)},
    "adam": {"lr": Real(0, 1), "beta": Real(0, 1)}})}
BRANCH_GRID = {"x": 4, "lr": 2, "momentum": 4, "beta": 4}  # 4 x (2 x 4 + 2 x 4) = 64 trials


def branched(p, branches=True):
    """2x + [adam] + (momentum - 1/2 under momentum; cos(pi beta) / 2 under adam): the branch terms have mean 0
    over each branch's grid and add variance 1/12 (momentum's 4 levels: 5/48) and 1/8 (beta's levels: 5/36)."""
    branch = p["momentum"] - 0.5 if p["optimizer"] == "momentum" else 0.5 * math.cos(math.pi * p["beta"])
    return 2.0 * p["x"] + (p["optimizer"] == "adam") + branches * branch


def test_importance_on_a_conditional_space_runs_over_the_dimensions_every_trial_sets():
    # E[f | x, optimizer, lr] = 2x + [adam]: V_x = 4/12, V_optimizer = 1/4, V_lr = 0; the branch terms are noise
    study = minimize(branched, BRANCHED, GridSearch(n_points=BRANCH_GRID), n_trials=100, seed=0, progress=False)
    shares = importance(study, random_state=3)
    assert list(shares) == ["x", "optimizer", "lr"]  # momentum and beta exist in half the trials each
    v_x, v_optimizer = 4 / 12, 1 / 4
    assert shares["x"] == pytest.approx(v_x / (v_x + v_optimizer), abs=0.015)
    assert shares["optimizer"] == pytest.approx(v_optimizer / (v_x + v_optimizer), abs=0.015)
    assert shares["lr"] == pytest.approx(0.0, abs=0.005)
    assert importance(study, random_state=3) == shares  # same seed, same shares
    flat = minimize(lambda p: branched(p, branches=False), BRANCHED, GridSearch(n_points=BRANCH_GRID), n_trials=100,
                    seed=0, progress=False)
    without = importance(flat, random_state=3)
    assert all(shares[name] == pytest.approx(without[name], abs=0.015) for name in without)


def test_a_branch_every_trial_took_is_explained_and_its_choice_gets_no_share():
    # every trial chose momentum: f = 2x + (momentum - 1/2), so V_x = 4/12 and V_momentum = 1/12
    rng = np.random.default_rng(0)
    trials = []
    for k in range(40):
        x, lr, m = rng.random(3)
        params = {"x": x, "optimizer": "momentum", "lr": lr, "momentum": m}
        trials.append(_trial(k, params, branched(params)))
    shares = importance(_FakeStudy(BRANCHED, trials))
    assert set(shares) == {"x", "optimizer", "lr", "momentum"}
    assert shares["x"] == pytest.approx(0.8, abs=0.02) and shares["momentum"] == pytest.approx(0.2, abs=0.02)
    assert shares["optimizer"] == 0.0  # restricted to the one choice every trial took


def test_intersection_space_keeps_the_choices_under_which_its_dimensions_exist():
    space = Space({"optimizer": Categorical({"sgd": {}, "momentum": {"momentum": Real(0.5, 0.99)},
                                             "nesterov": {"momentum": Real(0.5, 0.99)}})})
    trials = [_trial(0, {"optimizer": "momentum", "momentum": 0.9}), _trial(1, {"optimizer": "nesterov",
                                                                                 "momentum": 0.6})]
    sub = intersection_space(space, trials)
    assert sub.names == ("optimizer", "momentum") and not sub.is_conditional
    assert sub["optimizer"].choices == ("momentum", "nesterov")
    trials.append(_trial(2, {"optimizer": "sgd", "momentum": None}))  # an inactive parameter stored as None
    assert intersection_space(space, trials).names == ("optimizer",)
    assert intersection_space(space, trials)["optimizer"].choices == ("sgd", "momentum", "nesterov")


def test_importance_without_a_dimension_every_trial_sets_says_so():
    space = Space.empty_define_by_run().extended("a", Real(0, 1)).extended("b", Real(0, 1))
    study = _FakeStudy({"x": Real(0, 1)}, [_trial(0, {"a": 0.5}), _trial(1, {"b": 0.5}, 2.0)])
    study.space = space
    with pytest.raises(ValueError, match=r"every complete trial sets; the 2 complete trials share none of "
                                         r"\['a', 'b'\]"):
        importance(study)
    study.trials[1] = _trial(1, {"a": 0.9, "b": 0.5}, 2.0)  # a define-by-run study: b only in trial 1 now
    assert list(importance(study)) == ["a"]


def test_importance_of_several_objectives_needs_a_target():
    space = {"x": Real(0, 1)}
    trials = [_trial(k, {"x": k / 4}, None, (k / 4, 1 - k * k / 16)) for k in range(5)]
    study = _FakeStudy(space, trials, directions=["minimize", "minimize"])
    with pytest.raises(ValueError, match="several objectives needs `target`"):
        importance(study)
    assert importance(study, target=lambda t: t.values[1]) == {"x": pytest.approx(1.0)}


def test_importance_rejects_bad_input():
    space = {"x": Real(0, 1), "y": Real(0, 1)}
    study = minimize(lambda p: p["x"], space, RandomSearch(), n_trials=1, seed=0, progress=False)
    with pytest.raises(ValueError, match="at least 2 complete trials with finite values; got 1"):
        importance(study)
    study.optimize(lambda p: p["x"], n_trials=4, progress=False)
    with pytest.raises(TypeError, match="`target` must be None or a function"):
        importance(study, target="value")
    with pytest.raises(TypeError, match="must be a Study or a list of Studies"):
        importance([study, "not a study"])
    with pytest.raises(ValueError, match="empty list"):
        importance([])
    other = minimize(lambda p: p["x"], {"x": Real(0, 2)}, RandomSearch(), n_trials=2, seed=0, progress=False)
    with pytest.raises(ValueError, match="must share one space"):
        importance([study, other])
    with pytest.raises(ValueError, match="`n_base` must be >= 16; got 4"):
        importance(study, n_base=4)
    with pytest.raises(TypeError, match="`interactions` must be True or False"):
        importance(study, interactions=1)


def test_the_benchmarks_true_shares_are_the_functional_anova_of_its_objectives():
    from tunelab.benchmarks.bench_importance import synthetic_cases

    for case, (space, objective, truth) in synthetic_cases().items():
        space = Space(space)
        anova = functional_anova(lambda U: [objective(space.decode(u)) for u in U], space, n_base=128)
        # the noise averaged over 128 points at each node moves a main effect by a few hundredths
        tolerance = 0.06 if case.startswith("noisy") else 0.01 * max(truth.values())
        for name, v in truth.items():
            assert anova.main[name] == pytest.approx(v, abs=tolerance), (case, name)


def test_the_benchmarks_rank_correlation_matches_scipy_with_ties():
    stats = pytest.importorskip("scipy.stats")
    from tunelab.benchmarks.bench_importance import spearman

    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = rng.integers(0, 4, 7), rng.integers(0, 4, 7)
        if len(set(a)) > 1 and len(set(b)) > 1:
            assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)
