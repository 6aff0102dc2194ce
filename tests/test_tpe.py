"""TPESearch: the searcher contract, the Parzen estimator against its definition (a density that integrates
to 1, a naive reference, samples that follow it), the split, determinism, and better results than random."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from searcher_contract import ConditionalSearcherContract, SearcherContract

from tunelab.benchmarks.functions import get_conditional_function, get_function
from tunelab.searchers.base import History
from tunelab.searchers.sampling.random import RandomSearch
from tunelab.searchers.space import Categorical, Integer, Real, Space
from tunelab.searchers.study import Study, minimize
from tunelab.searchers.tpe import TPESearch
from tunelab.searchers.tpe.groups import declared_groups, observed_groups
from tunelab.searchers.tpe._kernels import log_gauss_mass, log_ndtr
from tunelab.searchers.tpe.parzen import KernelSettings, ParzenEstimator, columns
from tunelab.searchers.tpe.split import decay_weights, n_good, split
from tunelab.searchers.trial import Trial, TrialState

SETTINGS = settings(max_examples=25, deadline=None)


class TestTPEContract(SearcherContract):
    def make_searcher(self):
        return TPESearch(n_startup_trials=4)


class TestTPEConditionalContract(ConditionalSearcherContract):
    def make_searcher(self):
        return TPESearch(n_startup_trials=4)


class TestIndependentTPEConditionalContract(ConditionalSearcherContract):
    def make_searcher(self):
        return TPESearch(n_startup_trials=3, multivariate=False, constant_liar=False)


class TestIndependentTPEContract(SearcherContract):
    """One estimator per dimension, Optuna's weights and magic clip, uniform startup points."""

    def make_searcher(self):
        return TPESearch(n_startup_trials=3, multivariate=False, weights="old_decay", magic_clip_exponent=1.0,
                         startup="uniform", constant_liar=False)


# ---- the Gaussian mass kernel ---------------------------------------------------------------------


def quadrature_log_mass(a, b, n=200001):
    """log of the integral of phi over [a, b] by the trapezoid rule, scaled by phi at the end nearer 0."""
    x = np.linspace(a, b, n)
    peak = min(abs(a), abs(b)) if a * b > 0 else 0.0
    f = np.exp(-0.5 * (x * x - peak * peak))
    integral = (b - a) / (n - 1) * (f.sum() - 0.5 * (f[0] + f[-1]))
    return math.log(integral) - 0.5 * peak * peak - 0.5 * math.log(2 * math.pi)


@pytest.mark.parametrize("a, b", [(-1.0, 2.0), (0.0, 0.5), (3.0, 4.0), (-4.0, -3.0), (8.0, 8.5), (-30.0, -29.0),
                                  (-45.0, -44.5), (50.0, 50.25), (-0.2, -0.1999), (-120.0, -119.0)])
def test_log_gauss_mass_matches_quadrature_far_in_the_tails(a, b):
    out = log_gauss_mass(np.array([a]), np.array([b]), np.empty(1))[0]
    assert out == pytest.approx(quadrature_log_mass(a, b), rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("x", [-200.0, -40.0, -37.5, -36.5, -10.0, -1.0, 0.0, 2.0, 6.0, 30.0])
def test_log_ndtr_is_continuous_and_matches_erfc(x):
    if x > 0:  # log(1 - Phi(-x)), with no cancellation
        assert log_ndtr(x) == pytest.approx(math.log1p(-0.5 * math.erfc(x / math.sqrt(2))), rel=1e-12)
    elif x > -37:
        assert log_ndtr(x) == pytest.approx(math.log(0.5 * math.erfc(-x / math.sqrt(2))), rel=1e-12)
    else:  # Mills' ratio: log Phi(x) ~ log phi(x) - log(-x) + log(1 - 1/x^2), within 3/x^4
        approx = -0.5 * x * x - math.log(-x) - 0.5 * math.log(2 * math.pi) + math.log1p(-1 / x**2)
        assert abs(log_ndtr(x) - approx) < 3.1 / x**4
    assert log_ndtr(-37.0 - 1e-9) == pytest.approx(log_ndtr(-37.0), abs=1e-7)


# ---- the Parzen estimator -------------------------------------------------------------------------

DIMS = {"real": Real(-2.0, 3.0), "log": Real(1e-4, 1.0, log=True), "int": Integer(1, 6),
        "logint": Integer(1, 200, log=True), "cat": Categorical(["a", "b", "c"])}


def estimator(dims, n, seed, settings_=KernelSettings(), weights=None):
    """A ParzenEstimator over `dims` (Dimensions) from n random observations of the space."""
    space = Space({f"d{j}": dim for j, dim in enumerate(dims)})
    rng = np.random.default_rng(seed)
    U = space.encode_many(space.sample(rng, n)) if n else np.empty((0, len(dims)))
    w = rng.uniform(0.2, 2.0, n) if weights is None else weights
    return ParzenEstimator(U, w, columns(space, range(len(dims))), settings_), U, w


@SETTINGS
@given(n=st.integers(0, 12), seed=st.integers(0, 2**31), kind=st.sampled_from(["int", "logint", "cat"]),
       endpoints=st.booleans(), exponent=st.sampled_from([1.0, 2.0]))
def test_discrete_masses_sum_to_one(n, seed, kind, endpoints, exponent):
    dim = DIMS[kind]
    pe, _, _ = estimator([dim], n, seed, KernelSettings(consider_endpoints=endpoints, magic_clip_exponent=exponent))
    masses = np.exp(pe.log_pdf(dim.level_units()[:, None]))
    assert masses.sum() == pytest.approx(1.0, abs=1e-12)


def simpson(m):
    """Points and weights of Simpson's rule on [0, 1] with m (odd) points."""
    w = np.ones(m)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return np.linspace(0.0, 1.0, m), w / (3.0 * (m - 1))


@SETTINGS
@given(n=st.integers(0, 12), seed=st.integers(0, 2**31), bandwidth=st.sampled_from(["neighbor", "scott", "optuna"]))
def test_real_density_integrates_to_one(n, seed, bandwidth):
    pe, _, _ = estimator([DIMS["log"]], n, seed, KernelSettings(bandwidth=bandwidth))
    u, w = simpson(4001)
    assert np.exp(pe.log_pdf(u[:, None])) @ w == pytest.approx(1.0, abs=1e-8)


def test_mixed_product_density_integrates_to_one(seed=0):
    """Sum over the integer and categorical levels of the integral over two real dimensions (Simpson in 2-D)."""
    dims = [DIMS["real"], DIMS["log"], DIMS["int"], DIMS["cat"]]
    pe, _, _ = estimator(dims, 7, seed)
    g, w = simpson(161)
    A, B = np.meshgrid(g, g, indexing="ij")
    W = np.outer(w, w).ravel()
    total = 0.0
    for k in DIMS["int"].level_units():
        for c in DIMS["cat"].level_units():
            C = np.column_stack([A.ravel(), B.ravel(), np.full(A.size, k), np.full(A.size, c)])
            total += np.exp(pe.log_pdf(C)) @ W
    assert total == pytest.approx(1.0, abs=1e-6)


def _phi_cdf(z):
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def _reference_sigma(x, k, min_factor, exponent):
    """The neighbour bandwidth of observation k among x (ties by index), ends 0 and 1, clipped."""
    n = len(x)
    order = sorted(range(n), key=lambda i: (x[i], i))
    pos = order.index(k)
    xs = [0.0] + [x[i] for i in order] + [1.0]
    left, right = xs[pos + 1] - xs[pos], xs[pos + 2] - xs[pos + 1]
    sigma = max(left, right)
    if n >= 2 and pos == 0:
        sigma = right
    if n >= 2 and pos == n - 1:
        sigma = left
    return min(max(sigma, min_factor, (n + 2.0) ** -exponent), 1.0)


def reference_log_pdf(u, U, w, dims, prior=1.0, min_factor=0.01, exponent=1.0):
    """log p(u) by the definition, one kernel and one dimension at a time, in plain floats."""
    n = len(U)
    v = list(w) + [prior]
    total = 0.0
    for k in range(n + 1):
        term = v[k] / sum(v)
        for j, dim in enumerate(dims):
            if isinstance(dim, Categorical):
                m = dim.n_values
                if k == n:
                    term *= 1.0 / m
                else:
                    base = prior / (n + 1)
                    same = int(dim.level(u[j])) == int(dim.level(U[k][j]))
                    term *= (base + same) / (m * base + 1.0)
                continue
            mu, s = (0.5, 1.0) if k == n else (U[k][j], _reference_sigma([r[j] for r in U], k, min_factor, exponent))
            Z = _phi_cdf((1.0 - mu) / s) - _phi_cdf(-mu / s)
            if isinstance(dim, Integer):
                e = dim.cell_edges()
                i = int(dim.level(u[j]))
                term *= (_phi_cdf((e[i + 1] - mu) / s) - _phi_cdf((e[i] - mu) / s)) / Z
            else:
                term *= math.exp(-0.5 * ((u[j] - mu) / s) ** 2) / (s * math.sqrt(2 * math.pi)) / Z
        total += term
    return math.log(total)


@SETTINGS
@given(n=st.integers(0, 9), seed=st.integers(0, 2**31), prior=st.sampled_from([0.3, 1.0, 2.5]),
       exponent=st.sampled_from([1.0, 2.0]))
def test_log_pdf_matches_a_naive_reference(n, seed, prior, exponent):
    dims = [DIMS["real"], DIMS["logint"], DIMS["cat"], DIMS["int"]]
    pe, U, w = estimator(dims, n, seed, KernelSettings(prior_weight=prior, magic_clip_exponent=exponent))
    space = Space({f"d{j}": dim for j, dim in enumerate(dims)})
    C = space.encode_many(space.sample(np.random.default_rng(seed + 1), 6))
    expected = [reference_log_pdf(c, U.tolist(), w, dims, prior, 0.01, exponent) for c in C]
    assert pe.log_pdf(C) == pytest.approx(expected, rel=1e-9)


def test_samples_follow_the_density_and_stay_on_the_levels():
    """Histogram of 40000 draws against the density integrated over the same bins (real and log integer),
    and the draws' levels against the masses; every coordinate inside [0, 1], discrete ones on a level."""
    dims = [DIMS["log"], DIMS["logint"], DIMS["cat"]]
    pe, _, _ = estimator(dims, 9, 3)
    S = pe.sample(np.random.default_rng(0), 40000)
    assert S.min() >= 0.0 and S.max() <= 1.0
    for j in (1, 2):
        assert np.isin(S[:, j], dims[j].level_units()).all()
    edges = np.linspace(0.0, 1.0, 11)
    counts = np.histogram(S[:, 0], edges)[0] / S.shape[0]
    u = np.linspace(0.0, 1.0, 100001)
    marginal = _marginal_density(pe, 0, u)
    expected = [np.trapezoid(marginal[(u >= a) & (u <= b)], u[(u >= a) & (u <= b)]) for a, b in zip(edges, edges[1:])]
    assert counts == pytest.approx(expected, abs=0.01)
    levels = dims[2].level(S[:, 2])
    assert np.bincount(levels, minlength=3) / S.shape[0] == pytest.approx(_marginal_masses(pe, 2), abs=0.01)


def _marginal_density(pe, j, u):
    """The marginal density of real column j: sum_k w_k K_j(u | k)."""
    A = pe.log_w[None, :] - 0.5 * ((u[:, None] - pe.mu[:, j]) / pe.sigma[:, j]) ** 2 - np.log(pe.sigma[:, j]) \
        - 0.5 * math.log(2 * math.pi) - pe.log_Z[:, j]
    return np.exp(A).sum(axis=1)


def _marginal_masses(pe, j):
    return (np.exp(pe.log_w)[:, None] * np.exp(pe.log_P[j])).sum(axis=0)


def test_the_magic_clip_bounds_every_bandwidth():
    pe, _, _ = estimator([DIMS["real"]], 30, 5, KernelSettings(magic_clip_exponent=2.0, min_bandwidth_factor=0.05))
    assert pe.sigma.min() >= 0.05 and pe.sigma.max() <= 1.0
    pe, _, _ = estimator([DIMS["real"]], 3, 5, KernelSettings(magic_clip_exponent=1.0))
    assert pe.sigma.min() >= 1 / 5


# ---- the split ------------------------------------------------------------------------------------


def test_n_good_and_the_weights_follow_optunas_rules():
    assert [n_good(n, 0.1) for n in (1, 10, 11, 100, 1000)] == [1, 1, 2, 10, 25]
    assert n_good(100, 0.25, "sqrt") == 3
    w = decay_weights(30)
    assert w[0] == pytest.approx(1 / 30) and np.all(np.diff(w[:5]) > 0) and np.all(w[5:] == 1.0)
    assert np.all(decay_weights(24) == 1.0) and np.all(decay_weights(30, "uniform") == 1.0)


def test_split_ranks_complete_then_pruned_and_lies_about_running_trials():
    params = {"x": 0.5}
    trials = [Trial(0, params, TrialState.COMPLETE, 3.0), Trial(1, params, TrialState.FAILED),
              Trial(2, params, TrialState.COMPLETE, 1.0), Trial(3, params, TrialState.RUNNING),
              Trial(4, params, TrialState.PRUNED, 0.5, intermediate_values={0: 0.9, 3: 0.5}),
              Trial(5, params, TrialState.PRUNED, 0.1, intermediate_values={1: 0.1}),
              Trial(6, params, TrialState.COMPLETE, 2.0)]
    history = History(Space({"x": Real(0.0, 1.0)}), trials)
    parts = split(history, gamma=0.3)  # 5 finished: 2 good
    assert parts.good.tolist() == [2, 6] and parts.bad.tolist() == [0, 3, 4, 5]
    assert parts.threshold == 3.0 and parts.n_finished == 5 and parts.good_losses.tolist() == [1.0, 2.0]
    assert split(history, gamma=0.3, constant_liar=False).bad.tolist() == [0, 4, 5]
    parts = split(history, gamma=0.7)  # 4 good: the 3 complete, then the pruned trial that went furthest
    assert parts.good.tolist() == [0, 2, 4, 6] and parts.bad.tolist() == [3, 5] and parts.threshold == np.inf
    maximised = History(history.space, trials, sign=-1.0)
    assert split(maximised, gamma=0.2).good.tolist() == [0]


# ---- the searcher ---------------------------------------------------------------------------------


def test_proposals_are_a_function_of_the_history():
    """A fresh searcher, one with a warm cache, and ask(2) against two asks with the first running."""
    space = Space({"x": Real(-1.0, 1.0), "n": Integer(1, 50, log=True), "c": ["p", "q"]})
    f = lambda p: p["x"] ** 2 + abs(math.log(p["n"]) - 2) + (p["c"] == "q")  # noqa: E731
    study = minimize(f, space, TPESearch(n_startup_trials=5), n_trials=20, seed=7, progress=False)
    history = History(space, [t.copy() for t in study.trials])
    warm, fresh = study.searcher, TPESearch(n_startup_trials=5)
    fresh.setup(space, study.seed)
    pair = fresh.ask(2, history)
    assert warm.ask(2, history) == pair
    first = TPESearch(n_startup_trials=5)
    first.setup(space, study.seed)
    assert first.ask(1, history) == pair[:1]
    pending = History(space, history.trials + [Trial(20, pair[0])])
    assert first.ask(1, pending) == pair[1:]


def test_running_trials_and_taken_points_push_proposals_elsewhere():
    """In a space of 12 points the first 11 trials of a serial run are all different (the 12th, with one point
    left, may repeat one when none of its candidates is the last point), and a batch of 4 gives 4 points."""
    space = Space({"k": Integer(0, 3), "c": ["a", "b", "c"]})
    study = minimize(lambda p: p["k"] + (p["c"] != "b"), space, TPESearch(n_startup_trials=2), n_trials=12,
                     seed=0, progress=False)
    assert len({tuple(t.params.values()) for t in study.trials[:11]}) == 11
    searcher = TPESearch(n_startup_trials=2)
    searcher.setup(space, 1)
    batch = searcher.ask(4, History(space, [t.copy() for t in study.trials[:6]]))
    assert len({tuple(p.values()) for p in batch}) == 4


def test_tpe_beats_random_search_on_branin_at_50_trials():
    branin = get_function("branin")
    regret = {}
    for name, searcher in (("tpe", TPESearch), ("random", RandomSearch)):
        best = [minimize(branin.objective(), branin.space(), searcher(), n_trials=50, seed=s,
                         progress=False).best_value - branin.f_min for s in range(5)]
        regret[name] = float(np.median(best))
    assert regret["tpe"] < 0.2 * regret["random"]


def test_log_dimensions_are_searched_in_log_scale():
    """The optimum 1e-4 of a log-scaled range [1e-6, 1]: TPE gets within a factor 3 of it in 40 trials."""
    space = Space({"lr": Real(1e-6, 1.0, log=True)})
    study = minimize(lambda p: abs(math.log10(p["lr"]) + 4), space, TPESearch(), n_trials=40, seed=0, progress=False)
    assert study.best_value < math.log10(3)


def test_huge_integer_ranges_are_searched_without_listing_their_values():
    space = Space({"seed": Integer(0, 10**12), "width": Integer(1, 10**9, log=True), "x": Real(0.0, 1.0)})
    f = lambda p: abs(math.log(p["width"]) - 10) + p["x"] + (p["seed"] % 7) * 1e-3  # noqa: E731
    study = minimize(f, space, TPESearch(n_startup_trials=5), n_trials=30, seed=0, progress=False)
    for trial in study.trials:
        space.validate(trial.params)
    assert study.best_value < 0.1  # a log-uniform random search of 30 trials gets 0.19 to 1.4 on seeds 0-4


@pytest.mark.parametrize("kwargs, error, match", [
    ({"gamma": 0.0}, ValueError, "`gamma` must be > 0"),
    ({"n_ei_candidates": 2.5}, TypeError, "`n_ei_candidates` must be an integer"),
    ({"weights": "newest"}, ValueError, "`weights` must be one of"),
    ({"bandwidth": "silverman"}, ValueError, "`bandwidth` must be one of"),
    ({"multivariate": "yes"}, TypeError, '`multivariate` must be True, False or "auto"'),
    ({"prior_weight": 0.0}, ValueError, "`prior_weight` must be > 0"),
    ({"min_bandwidth_factor": 2.0}, ValueError, "`min_bandwidth_factor` must be <= 1"),
    ({"startup": "halton"}, ValueError, "`startup` must be one of"),
])
def test_bad_hyperparameters_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        Study({"x": Real(0.0, 1.0)}, TPESearch(**kwargs))


# ---- group decomposition --------------------------------------------------------------------------


def test_declared_groups_are_the_sets_under_one_condition():
    space = ConditionalSearcherContract().make_space()  # x, kind, lr (a|b), k (a), depth (b), width (deep)
    names = lambda groups: [[space.names[j] for j in g] for g in groups]  # noqa: E731
    assert names(declared_groups(space)) == [["x", "kind"], ["lr"], ["k"], ["depth"], ["width"]]
    assert names(declared_groups(space, multivariate=False)) == [[n] for n in space.names]
    flat = Space({"a": Real(0, 1), "b": Integer(1, 3)})
    assert declared_groups(flat) == [[0, 1]]


@SETTINGS
@given(st.lists(st.sets(st.sampled_from("abcdef")), max_size=8))
def test_observed_groups_partition_the_names_into_sets_that_occur_together(name_sets):
    names = list("abcdefg")
    groups = observed_groups(names, name_sets)
    flat = [j for g in groups for j in g]
    assert sorted(flat) == list(range(len(names)))  # a partition of every name
    seen = set().union(*name_sets) if name_sets else set()
    for g in groups:
        members = {names[j] for j in g}
        if members & seen:
            assert all(members <= s or not members & s for s in name_sets)  # all in or all out of each trial
    for g, h in ((g, h) for g in groups for h in groups if g is not h):  # maximal: two groups differ somewhere
        a, b = names[g[0]], names[h[0]]
        if a in seen and b in seen:
            assert any((a in s) != (b in s) for s in name_sets)


def test_a_branch_is_fitted_on_its_own_trials_only():
    """Branch "a" has its minimum at z = 0.9, branch "b" (far worse) at z = 0.1; both share the name z. With
    one group over every dimension the kernels of z would mix the two; per group, l(z) of branch a sits near
    0.9, and TPE's late trials in branch a crowd there."""
    space = Space({"kind": Categorical({"a": {"za": Real(0.0, 1.0)}, "b": {"zb": Real(0.0, 1.0)}})})

    def objective(p):
        return (p["za"] - 0.9) ** 2 if p["kind"] == "a" else 1.0 + (p["zb"] - 0.1) ** 2

    study = Study(space, TPESearch(n_startup_trials=8), seed=0)
    study.optimize(objective, n_trials=60, progress=False)
    late = [t.params for t in study.trials[30:]]
    assert sum(p["kind"] == "a" for p in late) >= 25
    assert np.median([p["za"] for p in late if p["kind"] == "a"]) == pytest.approx(0.9, abs=0.05)
    assert study.best_value < 1e-3


def test_define_by_run_groups_follow_the_names_the_trials_hold():
    def objective(trial):
        kind = trial.suggest_categorical("kind", ["a", "b"])
        if kind == "a":
            return (trial.suggest_float("za", 0.0, 1.0) - 0.9) ** 2
        return 1.0 + (trial.suggest_float("zb", 0.0, 1.0) - 0.1) ** 2

    study = Study(None, TPESearch(n_startup_trials=8), seed=1)
    study.optimize(objective, n_trials=50, progress=False)
    names = list(study.space.names)
    groups = observed_groups(names, [set(t.params) for t in study.trials])
    assert sorted(sorted(names[j] for j in g) for g in groups) == [["kind"], ["za"], ["zb"]]
    assert study.best_value < 1e-2


@pytest.mark.parametrize("seed", range(3))
def test_tpe_beats_random_on_a_conditional_function(seed):
    fn = get_conditional_function("tree3")
    best = {}
    for name, searcher in (("tpe", TPESearch()), ("random", RandomSearch())):
        study = Study(fn.space(), searcher, seed=seed)
        study.optimize(fn.objective(), n_trials=60, progress=False)
        best[name] = study.best_value - fn.f_min
    assert best["tpe"] < best["random"]


@pytest.mark.parametrize("directions, joint", [(["minimize"], True), (["minimize", "minimize"], False)])
def test_auto_multivariate_is_joint_for_one_objective_and_independent_for_several(directions, joint):
    """multivariate="auto" (the default) proposes exactly as multivariate=True with one objective and as
    multivariate=False with several."""
    space = {"x": Real(0.0, 1.0), "y": Real(0.0, 1.0), "z": Real(0.0, 1.0)}

    def objective(p):
        values = (p["x"] + p["y"] * p["z"], (1 - p["x"]) ** 2 + p["z"])
        return values[:len(directions)] if len(directions) > 1 else values[0]

    def proposals(**kwargs):
        study = Study(space, TPESearch(n_startup_trials=5, **kwargs), directions=directions, seed=3)
        study.optimize(objective, n_trials=15, progress=False)
        return [t.params for t in study.trials]

    assert TPESearch().joint(len(directions)) is joint
    assert proposals() == proposals(multivariate=joint)
    assert proposals() != proposals(multivariate=not joint)
