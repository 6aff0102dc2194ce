"""CMAES: the searcher contract, the tutorial's settings and update (against the `cmaes` library when
installed), step-size adaptation, rotation invariance, bounds, the integer margin, IPOP restarts,
injected points, convergence within a stated budget, bad input."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from searcher_contract import ConditionalSearcherContract, SearcherContract

from tunelab.benchmarks.functions import get_function
from tunelab.core.base import BaseEstimator
from tunelab.searchers.base import History
from tunelab.searchers.evolutionary.cmaes import CMAES, Settings, reflect
from tunelab.searchers.sampling.random import RandomSearch
from tunelab.searchers.search_cv import SearchCV
from tunelab.searchers.space import Categorical, Integer, Real, Space
from tunelab.searchers.study import Study, minimize
from tunelab.searchers.trial import Trial, TrialState


def _numeric_space():
    return Space({"x": Real(-2.0, 3.0), "lr": Real(1e-4, 1.0, log=True), "k": Integer(1, 4),
                  "n": Integer(1, 1000, log=True)})


class TestCMAESContract(SearcherContract):
    batch_invariant = True

    def make_searcher(self):
        return CMAES()

    def make_space(self):
        return _numeric_space()


class TestCMAESRandomStartContract(TestCMAESContract):
    n_trials = 20  # two generations of 8 and part of a third

    def make_searcher(self):
        return CMAES(start="random", sigma0=0.3)


class TestCMAESConditionalContract(ConditionalSearcherContract):
    batch_invariant = True  # generations of 4: the one unconditional real dimension is evolved

    def make_searcher(self):
        return CMAES()


def _sphere(center=1.0):
    return lambda params: float(sum((v - center) ** 2 for v in params.values()))


def _by_hand(searcher, space, loss, n_trials, seed=7):
    """ask one at a time and tell loss(params) (None: failed); returns the trials."""
    searcher.setup(space, seed)
    trials = []
    while len(trials) < n_trials:
        asked = searcher.ask(1, History(space, trials))
        if not asked:
            break
        trial = Trial(len(trials), asked[0])
        value = loss(asked[0])
        trial.state, trial.value = (TrialState.FAILED, None) if value is None else (TrialState.COMPLETE, value)
        trials.append(trial)
    return trials


# ---- settings and update rules ------------------------------------------------------------------------

@pytest.mark.parametrize("n, lam", [(2, 6), (5, 8), (10, 10), (10, 40), (40, 15)])
def test_settings_follow_the_tutorial(n, lam):
    s = Settings(n, lam)
    positive, negative = s.weights[:s.mu], s.weights[s.mu:]
    assert positive.sum() == pytest.approx(1.0) and np.all(np.diff(positive) < 0) and np.all(positive > 0)
    assert np.all(negative <= 0) and np.all(np.diff(s.weights) < 0)
    assert 1 <= s.mueff <= s.mu
    alpha_posdef = (1 - s.c1 - s.cmu) / (n * s.cmu)
    assert -negative.sum() <= min(1 + s.c1 / s.cmu, alpha_posdef) + 1e-12  # C stays positive definite
    assert 0 < s.c1 and 0 < s.cmu and s.c1 + s.cmu <= 1 and 0 < s.cs < 1 and 0 < s.cc <= 1 and s.damps > 1
    assert s.chiN == pytest.approx(np.mean(np.linalg.norm(np.random.default_rng(0).normal(size=(200_000, n)),
                                                          axis=1)), rel=2e-3)


def test_settings_known_values_in_ten_dimensions():
    """n = 10: lambda = 10, mu = 5, mu_eff = 3.17 (the figures pycma prints for 10-D)."""
    s = Settings(10, 4 + int(3 * math.log(10)))
    assert (s.lam, s.mu) == (10, 5)
    assert s.mueff == pytest.approx(3.1672, abs=1e-4)


def test_settings_and_updates_agree_with_the_cmaes_library():
    """Five generations told to tunelab's CMAES and to the `cmaes` package (Hansen's tutorial too)."""
    cmaes = pytest.importorskip("cmaes")
    n, space = 6, Space({f"x{i}": Real(0.0, 1.0) for i in range(6)})
    searcher = CMAES(sigma0=0.1)
    searcher.setup(space, 3)
    state = searcher._initial_state()
    reference = cmaes.CMA(mean=state.m.copy(), sigma=0.1, population_size=state.settings.lam, seed=0)
    s = state.settings
    for name, ours in [("_weights", s.weights), ("_mu_eff", s.mueff), ("_c1", s.c1), ("_cmu", s.cmu),
                       ("_cc", s.cc), ("_c_sigma", s.cs), ("_d_sigma", s.damps), ("_chi_n", s.chiN)]:
        assert np.allclose(getattr(reference, name), ours, rtol=1e-12), name
    for g in range(5):
        X = searcher._breed(state, g, 0).extra  # (lam, n) genotypes
        losses = np.sum((X - 0.3) ** 2 * np.arange(1, n + 1), axis=1)
        state = searcher._update(state, X, losses)
        reference.tell([(x, f) for x, f in zip(X, losses)])
        assert np.allclose(state.m, reference._mean, rtol=1e-9)
        assert state.sigma == pytest.approx(reference._sigma, rel=1e-9)
        assert np.allclose(state.C, reference._C, rtol=1e-6, atol=1e-12)
        assert np.allclose(state.ps, reference._p_sigma, rtol=1e-9) and np.allclose(state.pc, reference._pc, rtol=1e-9)


def test_step_size_grows_on_a_linear_function_and_shrinks_on_the_sphere():
    """Cumulative step-size adaptation: selection along one direction makes p_s longer than E|N(0, I)|."""
    space = Space({f"x{i}": Real(-1e6, 1e6) for i in range(5)})  # far bounds: no reflection
    searcher = CMAES(sigma0=1e-5)
    trials = _by_hand(searcher, space, lambda p: p["x0"] + p["x1"], 20 * 8)
    assert searcher.state(History(space, trials)).sigma > 1e-4
    searcher = CMAES(sigma0=0.1)
    trials = _by_hand(searcher, space, _sphere(0.0), 40 * 8)
    assert searcher.state(History(space, trials)).sigma < 0.01


def test_the_covariance_learns_the_inverse_hessian_of_an_ellipsoid():
    """On f = sum_i a_i x_i^2, C converges to a multiple of diag(1 / a)."""
    a = np.array([1.0, 10.0, 100.0, 1000.0])
    space = Space({f"x{i}": Real(-1.0, 1.0) for i in range(4)})
    searcher = CMAES()
    trials = _by_hand(searcher, space, lambda p: float(a @ np.array(list(p.values())) ** 2), 600)
    state = searcher.state(History(space, trials))
    assert not state.runs  # still the first run
    ratios = np.diag(state.C) * a
    assert ratios.max() / ratios.min() < 2.0


@given(x=st.floats(-50.0, 50.0))
@settings(max_examples=30, deadline=None)
def test_reflect_folds_the_line_onto_the_unit_interval(x):
    u = float(reflect(np.array(x)))
    assert 0.0 <= u <= 1.0
    assert u == pytest.approx(float(reflect(np.array(-x))), abs=1e-9)  # mirror at 0
    assert u == pytest.approx(float(reflect(np.array(x + 2.0))), abs=1e-9)  # period 2
    if 0.0 <= x <= 1.0:
        assert u == x


# ---- validity, determinism, parallel ------------------------------------------------------------------

dims = st.sampled_from([Real(-3.0, 2.0), Real(1e-3, 10.0, log=True), Integer(0, 1), Integer(-5, 5),
                        Integer(1, 500, log=True)])


@given(chosen=st.lists(dims, min_size=1, max_size=5), seed=st.integers(0, 2**32 - 1), sigma0=st.floats(0.01, 2.0))
@settings(max_examples=15, deadline=None)
def test_points_stay_valid_and_the_state_stays_sound_under_any_losses(chosen, seed, sigma0):
    space = Space({f"d{i}": dim for i, dim in enumerate(chosen)})
    rng = np.random.default_rng(seed)
    searcher = CMAES(sigma0=sigma0)
    trials = _by_hand(searcher, space, lambda p: None if rng.random() < 0.2 else float(rng.normal()), 60, seed)
    for trial in trials:
        space.validate(trial.params)
    state = searcher.state(History(space, trials))
    assert np.allclose(state.C, state.C.T) and np.all(np.linalg.eigvalsh(state.C) > 0)
    assert np.isfinite(state.sigma) and state.sigma > 0 and np.all(np.isfinite(state.m))


def test_a_generation_run_by_two_workers_is_the_serial_study():
    f = get_function("levy5")
    serial = Study(f.space(), CMAES(), seed=4).optimize(f.objective(), n_trials=45, progress=False)
    parallel = Study(f.space(), CMAES(), seed=4).optimize(f.objective(), n_trials=45, n_jobs=2, progress=False)
    assert [(t.params, t.value) for t in parallel.trials] == [(t.params, t.value) for t in serial.trials]


def test_a_generation_waits_for_its_last_member():
    space = Space({"x": Real(0.0, 1.0), "y": Real(0.0, 1.0)})
    searcher = CMAES(popsize=4)
    searcher.setup(space, 0)
    first = searcher.ask(10, History(space, []))
    assert len(first) == 4
    running = [Trial(i, p) for i, p in enumerate(first)]
    assert searcher.ask(1, History(space, running)) == []  # nothing until the generation is told
    for t in running[:3]:
        t.state, t.value = TrialState.COMPLETE, 1.0
    running[3].state, running[3].error = TrialState.FAILED, "diverged"
    assert len(searcher.ask(10, History(space, running))) == 4


def test_start_options():
    space = Space({"x": Real(0.0, 10.0), "k": Integer(0, 9)})
    for start, expected in [("center", [0.5, 0.5]), ({"x": 2.0, "k": 7}, [0.2, 0.75])]:
        searcher = CMAES(start=start)
        searcher.setup(space, 0)
        assert np.allclose(searcher.state(History(space, [])).m, expected)
    means = []
    for seed in (0, 1):
        searcher = CMAES(start="random")
        searcher.setup(space, seed)
        means.append(searcher.state(History(space, [])).m)
    assert not np.allclose(means[0], means[1]) and np.all((0 <= means[0]) & (means[0] <= 1))


# ---- integers, failures, restarts, injection ---------------------------------------------------------

def _integer_count(margin, seed):
    """Sum of the integers of the best point on sum|k| + 100 |x|^2: 0 when the integers were solved."""
    space = Space({**{f"k{i}": Integer(0, 3) for i in range(4)}, **{f"x{i}": Real(-1.0, 1.0) for i in range(4)}})

    def loss(p):
        return float(sum(p[f"k{i}"] for i in range(4)) + 100 * sum(p[f"x{i}"] ** 2 for i in range(4)))

    study = minimize(loss, space, CMAES(margin=margin, max_restarts=0, start="random"), n_trials=1000, seed=seed,
                     progress=False)
    return sum(study.best_params[f"k{i}"] for i in range(4))


def test_the_margin_keeps_integer_dimensions_from_freezing():
    """Without the margin the reals shrink sigma and the integers stop at their first values
    (Hamano et al. 2022, figure 1); with it every seed finds k = 0."""
    with_margin = [_integer_count(None, seed) for seed in range(6)]
    without = [_integer_count(0.0, seed) for seed in range(6)]
    assert with_margin == [0] * 6
    assert sum(without) > 0


def test_failed_generations_widen_the_search_and_it_goes_on():
    space = Space({"x": Real(-1.0, 1.0), "y": Real(-1.0, 1.0)})
    searcher = CMAES(sigma0=0.05)
    trials = _by_hand(searcher, space, lambda p: None, 3 * 6)  # three generations, every trial failed
    assert searcher.state(History(space, trials)).sigma > 0.05 * math.exp(3 * 0.2)  # flat fitness: step out
    study = minimize(lambda p: p["x"] ** 2 + p["y"] ** 2 if p["x"] > -0.5 else float("nan"), space, CMAES(),
                     n_trials=120, seed=0, progress=False)
    assert any(t.state is TrialState.FAILED for t in study.trials) and study.best_value < 1e-4


def test_ipop_restarts_double_the_population_in_blocks_of_trials():
    space = Space({f"x{i}": Real(-5.0, 5.0) for i in range(3)})
    study = minimize(_sphere(), space, CMAES(tolfun=1e-2), n_trials=1000, seed=0, progress=False)
    state = study.searcher.state(study.history())
    run0, run1 = state.runs
    assert [run0["popsize"], run1["popsize"], state.settings.lam] == [7, 14, 28] and state.restart == 2
    assert "tolfun" in run0["stop"] and "tolfun" in run1["stop"]
    # generations are consecutive blocks of trials: 7 each in run 0, then 14, then 28
    assert (run0["first_generation"], run0["first_trial"]) == (0, 0)
    assert run1["first_trial"] == 7 * run1["first_generation"]
    assert state.first_trial == run1["first_trial"] + 14 * (state.first_generation - run1["first_generation"])
    assert 0 <= len(study.trials) - (state.first_trial + 28 * state.g) < 28


def test_max_restarts_ends_the_search():
    space = Space({f"x{i}": Real(-5.0, 5.0) for i in range(3)})
    study = minimize(_sphere(), space, CMAES(tolfun=1e-3, max_restarts=0), n_trials=1000, seed=0, progress=False)
    assert study.stop_reason == "exhausted" and len(study.trials) % 7 == 0 and len(study.trials) < 1000


def test_a_generation_from_elsewhere_is_injected():
    """Foreign points close to the mean enter the update unclipped, so the new mean is their weighted mean."""
    space = Space({f"x{i}": Real(0.0, 1.0) for i in range(4)})
    searcher = CMAES()
    searcher.setup(space, 0)
    lam = searcher.state(History(space, [])).settings.lam
    trials = []
    for i in range(lam):
        trial = Trial(i, {f"x{j}": 0.55 for j in range(4)})
        trial.state, trial.value = TrialState.COMPLETE, float(i)
        trials.append(trial)
    assert np.allclose(searcher.state(History(space, trials)).m, 0.55)


def test_continues_a_study_begun_by_another_searcher(tmp_path):
    f = get_function("branin")
    path = tmp_path / "study.db"
    Study(f.space(), RandomSearch(), storage=path, seed=0).optimize(f.objective(), n_trials=9, progress=False).close()
    study = Study(f.space(), CMAES(), storage=path).optimize(f.objective(), n_trials=300, progress=False)
    assert study.best_value - f.f_min < 1e-4


# ---- convergence and invariance -----------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_converges_on_the_sphere_within_1500_trials(seed):
    space = Space({f"x{i}": Real(-5.0, 5.0) for i in range(10)})
    study = minimize(_sphere(), space, CMAES(), n_trials=1500, seed=seed, progress=False)
    assert study.best_value < 1e-8


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_converges_on_rosenbrock_within_2500_trials(seed):
    f = get_function("rosenbrock5")
    study = minimize(f.objective(), f.space(), CMAES(), n_trials=2500, seed=seed, progress=False)
    assert study.best_value - f.f_min < 1e-8


def test_rosenbrock_escapes_its_local_minimum_by_a_restart():
    f = get_function("rosenbrock5")
    study = minimize(f.objective(), f.space(), CMAES(), n_trials=5000, seed=4, progress=False)
    assert study.best_value - f.f_min < 1e-8
    assert study.searcher.state(study.history()).runs  # the first run stopped in the local minimum


def test_rotation_invariance_on_an_ellipsoid():
    """Trials to reach f < 1e-8 on an ellipsoid (condition 1e3) and on the same ellipsoid rotated about the
    start point: equal distributions, so their medians over seeds agree within noise."""
    n = 4
    R, _ = np.linalg.qr(np.random.default_rng(123).normal(size=(n, n)))
    c = np.full(n, 0.2)
    a = 10 ** (3 * np.arange(n) / (n - 1))
    space = Space({f"x{i}": Real(-3.0, 3.0) for i in range(n)})

    def x(p):
        return np.array([p[f"x{i}"] for i in range(n)])

    rotated = lambda p: float(a @ (R @ (x(p) - c)) ** 2)  # noqa: E731  g(R x), g below
    plain = lambda p: float(a @ (x(p) - R @ c) ** 2)  # noqa: E731

    def trials_to_target(objective, seed):
        study = minimize(objective, space, CMAES(), n_trials=2000, seed=seed, progress=False)
        hits = np.flatnonzero(np.minimum.accumulate([t.value for t in study.trials]) < 1e-8)
        assert hits.size, "the target was not reached"
        return hits[0] + 1

    on_rotated = np.median([trials_to_target(rotated, seed) for seed in range(9)])
    on_plain = np.median([trials_to_target(plain, seed) for seed in range(9)])
    assert abs(on_rotated / on_plain - 1) < 0.15


class _Constant(BaseEstimator):
    """Predicts c for every row; score = -mean squared error."""

    def __init__(self, c=0.0):
        self.c = c

    def fit(self, X, y):
        self.fitted_ = True
        return self

    def score(self, X, y):
        return -float(np.mean((np.asarray(y) - self.c) ** 2))


def test_works_in_search_cv():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 2)), rng.normal(3.0, 0.1, size=60)
    search = SearchCV(_Constant(), {"c": Real(-10.0, 10.0)}, CMAES(), n_trials=60, cv=3, random_state=0).fit(X, y)
    assert abs(search.best_params_["c"] - 3.0) < 0.05


# ---- bad input ----------------------------------------------------------------------------------------

def test_categorical_dimensions_are_refused_with_advice():
    space = Space({"x": Real(0.0, 1.0), "kind": Categorical(["a", "b"])})
    with pytest.raises(ValueError, match=r"\['kind'\] are categorical\. Use EvolutionSearch"):
        Study(space, CMAES(), seed=0)


def test_conditional_spaces_evolve_the_unconditional_dimensions_and_draw_the_choices():
    """As Optuna's CmaEsSampler outside its intersection search space: x and n, present in every trial, are
    evolved; the choice and the dimensions under it are drawn independently and uniformly for each trial."""
    space = Space({"x": Real(-2.0, 2.0), "n": Integer(0, 20),
                   "kind": Categorical({"a": {"y": Real(0.0, 1.0)}, "b": None, "c": {"z": Integer(1, 3)}})})
    study = minimize(lambda p: (p["x"] - 1.0) ** 2 + 0.01 * (p["n"] - 5) ** 2 + (p["kind"] != "b"), space,
                     CMAES(), n_trials=300, seed=0, progress=False)
    state = study.searcher.state(study.history())
    assert state.m.shape == (2,) and state.sigma < 0.15  # the two evolved dimensions, converging
    late = study.trials[150:]
    assert abs(np.mean([t.params["x"] for t in late]) - 1.0) < 0.1
    assert abs(np.mean([t.params["n"] for t in late]) - 5) < 1.5
    shares = [np.mean([t.params["kind"] == k for t in late]) for k in "abc"]
    assert all(abs(s - 1 / 3) < 0.12 for s in shares)  # drawn, not evolved: each branch about a third
    ys = [t.params["y"] for t in late if "y" in t.params]
    assert 0.2 < np.mean(ys) < 0.8 and np.std(ys) > 0.2  # uniform on [0, 1]


def test_nothing_to_evolve_draws_every_trial():
    space = Space({"kind": Categorical({"a": {"y": Real(0.0, 1.0)}, "b": None})})
    study = minimize(lambda p: p.get("y", 0.5), space, CMAES(popsize=5), n_trials=12, seed=0, progress=False)
    assert len(study.trials) == 12 and len({json.dumps(t.params) for t in study.trials}) > 6


@pytest.mark.parametrize("kwargs, message", [
    ({"sigma0": 0.0}, "`sigma0` must be > 0.0; got 0.0."),
    ({"sigma0": "big"}, "`sigma0` must be a real number"),
    ({"popsize": 1}, "`popsize` must be >= 2; got 1."),
    ({"popsize": 6.0}, "`popsize` must be an integer"),
    ({"start": "middle"}, "`start` must be 'center', 'random' or a params dict; got 'middle'."),
    ({"start": {"x": 5.0, "k": 1, "lr": 0.1, "n": 3}}, "`start`['x'] = 5.0 is not inside Real(-2.0, 3.0)."),
    ({"popsize_factor": 0.5}, "`popsize_factor` must be >= 1.0; got 0.5."),
    ({"max_restarts": -1}, "`max_restarts` must be >= 0; got -1."),
    ({"margin": 0.5}, "`margin` must be < 0.5; got 0.5."),
    ({"tolfun": -1.0}, "`tolfun` must be >= 0.0; got -1.0."),
    ({"tolx": float("inf")}, "`tolx` must be finite; got inf."),
])
def test_bad_hyperparameters_are_refused_at_setup(kwargs, message):
    with pytest.raises((ValueError, TypeError)) as error:
        Study(_numeric_space(), CMAES(**kwargs), seed=0)
    assert message in str(error.value)
