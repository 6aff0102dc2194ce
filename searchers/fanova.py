"""Hyperparameter importance by functional ANOVA on a Gaussian-process surrogate of the objective.

A function f on the unit box [0, 1]^d (the space's one transform, so log dimensions are measured in log x
and each level of a discrete dimension by its cell) splits into effects of growing order,

    f(u) = f0 + sum_j f_j(u_j) + sum_{j<l} f_jl(u_j, u_l) + ...,
    f0 = E[f],  f_j(t) = E[f | u_j = t] - f0,  f_jl(s, t) = E[f | u_j = s, u_l = t] - f_j(s) - f_l(t) - f0,

orthogonal under the uniform measure, so the variance splits the same way: Var f = sum_j V_j + sum V_jl
+ ..., V_j = Var f_j, V_jl = Var f_jl. The importance of hyperparameter j is its share V_j / Var f
(Hutter, Hoos & Leyton-Brown, "An efficient approach for assessing hyperparameter importance", ICML 2014;
Sobol 1993). f is the posterior mean of the GP of `BayesSearch` fitted to the complete trials.

Integration: the conditional means are averages over n_base scrambled Sobol points of the other
coordinates, the same points for every t (common random numbers: for an additive f the error of the
average is the same at every t and leaves V_j exact up to the quadrature);
t runs over Gauss-Legendre nodes of a real dimension and over the levels of a discrete one, weighted by
the width of their cells.

Conditional and define-by-run spaces: the decomposition runs over the intersection search space, the
dimensions that every complete trial sets (as Optuna's fANOVA evaluator does). f is then the GP's
estimate of E[objective | those dimensions]: a dimension that exists only under some choices is averaged
over and its variance is noise to the GP, while the choice itself is one of the dimensions and its share
holds the differences between branches (including their mean effect of the branch dimensions). A
parameter of one branch gets a share only when every trial took a branch that has it.
"""

import itertools
import numbers
from dataclasses import dataclass

import numpy as np

from tunelab.optimizers.validation import check_bool, check_random_state, check_scalar
from tunelab.searchers.bayes.features import FeatureMap
from tunelab.searchers.bayes.gp import GPFactor, GPPosterior, fit_hyperparameters
from tunelab.searchers.sampling import lowdiscrepancy as qmc
from tunelab.searchers.space import Categorical, Space
from tunelab.searchers.trial import TrialState

_CHUNK = 8192  # rows of the unit box evaluated at once by the surrogate


@dataclass(frozen=True)
class FunctionalANOVA:
    """The variance decomposition of f over the unit box: `mean` f0, `total` Var f, `main` {name: V_j}
    and `pairs` {(name_j, name_l): V_jl} (empty unless asked for)."""

    mean: float
    total: float
    main: dict
    pairs: dict


def quadrature(dim, n_nodes):
    """Nodes t (k,) in [0, 1] and weights w (k,) summing to 1 for E over u ~ U[0, 1] of a function of
    dim.from_unit(u): the levels of a discrete dimension with at most 2 n_nodes of them (weights: the
    widths of their cells), else n_nodes Gauss-Legendre nodes (exact for polynomials of degree < 2 n_nodes)."""
    n_values = dim.n_values
    if n_values is not None and n_values <= 2 * n_nodes:
        return dim.level_units(), np.diff(dim.cell_edges())
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    return (x + 1.0) / 2.0, w / 2.0


def _evaluate(f, U):
    """f over the rows of U (m, d) in chunks; (m,) float64."""
    return np.concatenate([np.asarray(f(U[i:i + _CHUNK]), dtype=np.float64).reshape(-1)
                           for i in range(0, U.shape[0], _CHUNK)])


def _conditional_means(f, base, columns, nodes):
    """g[a, b, ...] = mean_i f(base_i with column columns[k] set to nodes[k][index k]); one axis per column."""
    grid = np.stack(np.meshgrid(*nodes, indexing="ij"), axis=-1).reshape(-1, len(columns))  # (K, q)
    U = np.repeat(base[None, :, :], grid.shape[0], axis=0)  # (K, N, d)
    U[:, :, columns] = grid[:, None, :]
    values = _evaluate(f, U.reshape(-1, base.shape[1])).reshape(grid.shape[0], base.shape[0])
    return values.mean(axis=1).reshape([len(t) for t in nodes])


def functional_anova(f, space, *, interactions=False, n_base=512, n_nodes=32, random_state=0):
    """The functional ANOVA of f (a vectorised function of unit-box points U (c, d) -> (c,)) over `space`:
    main effects V_j and, with `interactions`, pairwise V_jl; a `FunctionalANOVA`.

    V_j = sum_t w_t (g_j(t) - f0)^2 with g_j(t) = E[f | u_j = t] at the quadrature nodes of dimension j;
    V_jl = sum_{s,t} w_s w_t (g_jl(s, t) - g_j(s) - g_l(t) + f0)^2, with g_j, g_l and f0 the weighted
    marginals of g_jl itself, so that V_jl >= 0. Var f and f0 come from the n_base Sobol points.
    """
    check_bool(interactions, "interactions")
    check_scalar(n_base, "n_base", numbers.Integral, low=16)
    check_scalar(n_nodes, "n_nodes", numbers.Integral, low=2)
    rng = check_random_state(random_state)
    d = len(space)
    if d <= qmc.MAX_SOBOL_DIMENSIONS:
        base = qmc.sobol_points(*qmc.scramble(qmc.sobol_directions(d), rng), 0, n_base)  # (N, d)
    else:
        base = qmc.latin_hypercube(rng, n_base, d)
    values = _evaluate(f, base)
    f0, total = float(values.mean()), float(values.var())
    rules = [quadrature(dim, n_nodes) for dim in space.dims]
    main = {}
    for j, name in enumerate(space.names):
        t, w = rules[j]
        g = _conditional_means(f, base, [j], [t])
        main[name] = float(w @ (g - w @ g) ** 2)
    pairs = {}
    if interactions:
        pair_rules = [quadrature(dim, max(2, n_nodes // 2)) for dim in space.dims]  # fewer nodes: k^2 points
        for j, l in itertools.combinations(range(d), 2):
            (s, ws), (t, wt) = pair_rules[j], pair_rules[l]
            g = _conditional_means(f, base, [j, l], [s, t])  # (k_j, k_l)
            g_j, g_l = g @ wt, ws @ g
            mean = ws @ g_j
            residual = g - g_j[:, None] - g_l[None, :] + mean
            pairs[(space.names[j], space.names[l])] = float(ws @ residual**2 @ wt)
    return FunctionalANOVA(f0, total, main, pairs)


def surrogate_mean(space, U, y, random_state=0):
    """The posterior mean of BayesSearch's GP (Matern-5/2 ARD, integers rounded, categoricals one-hot)
    fitted to the points U (n, d) of the unit box with values y (n,): a function of U (c, d) -> (c,)
    in the units of y. Hyperparameters by maximum a posteriori (`fit_hyperparameters`)."""
    fmap = FeatureMap(space)
    X = fmap(U)  # (n, p)
    y = np.asarray(y, dtype=np.float64)
    shift, scale = float(y.mean()), float(y.std()) or 1.0
    z = (y - shift) / scale
    theta = fit_hyperparameters(X, z, fmap.groups, True, check_random_state(random_state))
    posterior = GPPosterior(GPFactor(theta, fmap.groups, True, X), z)

    def mean(U_new):
        return shift + scale * posterior.predict(fmap(U_new))[0]

    return mean


def _studies(study):
    studies = list(study) if isinstance(study, (list, tuple)) else [study]
    if not studies:
        raise ValueError("`study` must be a Study or a non-empty list of Studies; got an empty list.")
    for s in studies:
        if not hasattr(s, "trials") or not hasattr(s, "space"):
            raise TypeError(f"`study` must be a Study or a list of Studies; got {s!r:.100}.")
    first = studies[0]
    for s in studies[1:]:
        if s.space != first.space:
            raise ValueError(f"the studies pooled by `importance` must share one space; got {first.space} and "
                             f"{s.space}.")
    return studies


def _sets(trial, name, dim):
    return name in trial.params and dim.contains(trial.params[name])


def _restricted(dim, choices):
    """`dim` (a Categorical) keeping only `choices` (compared by identity, as `Space.condition` returns them)."""
    keep = {id(c) for c in choices}
    return Categorical([c for c in dim.choices if id(c) in keep])


def intersection_space(space, trials):
    """The flat Space of the dimensions that every one of `trials` sets (Optuna's intersection search
    space), in the order of `space`. A choice whose branches hold some of these dimensions keeps only the
    choices under which all of them exist, so the sub-space is the region where its dimensions are defined
    together (when every trial took one branch, that choice keeps one value and gets no share)."""
    if space is None or len(space) == 0:
        raise ValueError("`importance` needs a study with a search space; this one has no dimensions yet.")
    names = [name for name, dim in space.items() if all(_sets(t, name, dim) for t in trials)]
    if not names:
        raise ValueError(f"`importance` needs a hyperparameter that every complete trial sets; the {len(trials)} "
                         f"complete trials share none of {list(space.names)}.")
    dims = {name: space[name] for name in names}
    for name in names:
        condition = space.condition(name)
        if condition is not None and condition[0] in dims:
            parent, choices = condition
            dims[parent] = _restricted(dims[parent], [c for c in choices if any(c is a for a in dims[parent].choices)])
    return Space(dims)


def _targets(studies, target):
    """The complete trials of every study and their target values; (trials, y (n,))."""
    multi = [s for s in studies if len(getattr(s, "directions", None) or ()) > 1]
    if multi and target is None:
        raise ValueError("a study with several objectives needs `target`, a function of a trial that returns the "
                         "one value to explain (e.g. target=lambda trial: trial.values[0]).")
    if target is not None and not callable(target):
        raise TypeError(f"`target` must be None or a function of a trial; got {target!r}.")
    trials, y = [], []
    for s in studies:
        for trial in s.trials:
            if trial.state is not TrialState.COMPLETE:
                continue
            value = trial.value if target is None else target(trial)
            if value is not None and np.isfinite(value):
                trials.append(trial)
                y.append(float(value))
    return trials, np.array(y)


def importance(study, *, target=None, interactions=False, random_state=0, n_base=512, n_nodes=32):
    """Each hyperparameter's share of the variance of the objective, by functional ANOVA (Hutter, Hoos &
    Leyton-Brown, ICML 2014) of the posterior mean of a GP fitted to the complete trials.

    Returns {name: V_j / Var f}, largest first; the shares sum to at most 1, the rest being interactions.
    With `interactions` the pairs follow as {(name_j, name_l): V_jl / Var f}. A constant surrogate gives
    every share 0.

    In a conditional (or define-by-run) space the names are those of the intersection search space, the
    dimensions every complete trial sets (`intersection_space`), and f is a function of them alone: a
    dimension of one branch is averaged over as noise, and a choice between branches gets the share of the
    differences between them. So with `optimizer` a choice of Momentum (lr, momentum) or Adam (lr, beta1),
    the shares are those of `optimizer`, `lr` and the unconditional dimensions.

    study : a Study, or a list of Studies over one space whose complete trials are pooled.
    target : None (the trial's value) or a function of a trial returning a float (required when a study
        has several objectives).
    random_state : seeds the GP's hyperparameter fit and the Sobol scrambling; same seed, same shares.
    n_base, n_nodes : Sobol points averaged over, and quadrature nodes per real dimension.
    """
    studies = _studies(study)
    trials, y = _targets(studies, target)
    if len(trials) < 2:
        raise ValueError(f"`importance` needs at least 2 complete trials with finite values; got {len(trials)}.")
    space = intersection_space(studies[0].space, trials)
    rng = check_random_state(random_state)
    U = space.encode_many([{name: t.params[name] for name in space.names} for t in trials])  # (n, d)
    mean = surrogate_mean(space, U, y, rng)
    anova = functional_anova(mean, space, interactions=interactions, n_base=n_base, n_nodes=n_nodes,
                             random_state=rng)
    scale = anova.total if anova.total > 1e-12 * max(1.0, anova.mean**2) else np.inf
    shares = {name: v / scale for name, v in anova.main.items()}
    result = dict(sorted(shares.items(), key=lambda item: -item[1]))
    result.update(sorted(((pair, v / scale) for pair, v in anova.pairs.items()), key=lambda item: -item[1]))
    return result
