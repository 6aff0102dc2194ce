"""A real-coded genetic algorithm for mixed spaces, on the generational framework of generational.py.

`EvolutionSearch` breeds its populations in the unit cube of the `Space`: tournaments, simulated
binary crossover (SBX) and polynomial mutation for real and integer genes (Deb & Agrawal 1995,
"Simulated binary crossover for continuous search space"; Deb & Goyal 1996, "A combined genetic
adaptive search (GeneAS) for engineering design"; bounded forms as in Deb's NSGA-II code), uniform
crossover and resampling for categorical genes, and elitism.
"""

import numbers

import numpy as np

from tunelab.optimizers.validation import check_scalar
from tunelab.searchers.evolutionary.generational import Generation, GenerationalSearcher, ran_proposal
from tunelab.searchers.sampling.lowdiscrepancy import latin_hypercube
from tunelab.searchers.space import Categorical


# ---- variation operators on the unit cube --------------------------------------------------------------

def sbx(x1, x2, eta, u, cross):
    """Bounded simulated binary crossover on [0, 1] (Deb & Agrawal 1995, bounded as in Deb's NSGA-II code).

    For parents y1 < y2 with spread dy = y2 - y1, children are (y1 + y2 -/+ beta_q dy) / 2, where beta_q
    has the polynomial density of index eta, truncated so that each child stays in [0, 1]:
    beta = 1 + 2 (distance to the bound) / dy, alpha = 2 - beta^-(eta+1),
    beta_q = (u alpha)^(1/(eta+1)) if u <= 1/alpha else (1 / (2 - u alpha))^(1/(eta+1)).
    x1, x2, u: (p, d); cross: (p, d) bool, the genes that cross. Returns the two children, (p, d) each.
    """
    y1, y2 = np.minimum(x1, x2), np.maximum(x1, x2)
    dy = y2 - y1
    cross = cross & (dy > 1e-14)
    dy_safe = np.where(cross, dy, 1.0)
    power = 1.0 / (eta + 1.0)

    def beta_q(beta):
        alpha = 2.0 - beta ** -(eta + 1.0)
        return np.where(u <= 1.0 / alpha, (u * alpha) ** power, (1.0 / (2.0 - u * alpha)) ** power)

    c1 = 0.5 * (y1 + y2 - beta_q(1.0 + 2.0 * y1 / dy_safe) * dy)
    c2 = 0.5 * (y1 + y2 + beta_q(1.0 + 2.0 * (1.0 - y2) / dy_safe) * dy)
    c1, c2 = np.clip(c1, 0.0, 1.0), np.clip(c2, 0.0, 1.0)
    low_first = x1 <= x2  # the child near parent 1 goes to child 1
    child1 = np.where(cross, np.where(low_first, c1, c2), x1)
    child2 = np.where(cross, np.where(low_first, c2, c1), x2)
    return child1, child2


def polynomial_mutation(x, eta, u):
    """Bounded polynomial mutation on [0, 1] (Deb & Goyal 1996, bounded as in Deb's NSGA-II code).

    x + delta_q with delta_q = (2u + (1 - 2u)(1 - x)^(eta+1))^(1/(eta+1)) - 1 for u < 1/2 and
    1 - (2(1 - u) + 2(u - 1/2) x^(eta+1))^(1/(eta+1)) otherwise, so x + delta_q stays in [0, 1].
    x, u: same shape. Returns the mutated genes.
    """
    power = 1.0 / (eta + 1.0)
    low = u < 0.5
    val_low = 2.0 * u + (1.0 - 2.0 * u) * (1.0 - x) ** (eta + 1.0)
    val_high = 2.0 * (1.0 - u) + 2.0 * (u - 0.5) * x ** (eta + 1.0)
    delta_q = np.where(low, val_low ** power - 1.0, 1.0 - val_high ** power)
    return np.clip(x + delta_q, 0.0, 1.0)


class EvolutionSearch(GenerationalSearcher):
    """A genetic algorithm for mixed spaces (real, integer and categorical genes in the unit cube).

    Generation 0: a Latin hypercube of `population_size` points. Each later generation breeds
    `population_size - n_elite` children from the population by tournaments (size
    `tournament_size`), SBX crossover of the real and integer genes with probability `crossover_prob`
    (each gene crosses with probability 1/2; index `eta_crossover`) and uniform crossover of the
    categorical genes, then polynomial mutation (index `eta_mutation`) of each real or integer gene and
    resampling of each categorical gene with probability `mutation_prob`. Integer genes are rounded
    to their value (a mutated integer that rounds back to its old value moves one step, so that small
    mutations do not freeze it). A child equal to a point of the population is mutated again. The next
    population is the `n_elite` best of the old one plus the children.

    Defaults from the number of genes d: population_size = max(10, d), n_elite = max(1, population_size
    // 3), mutation_prob = 1 / d. The distribution indices (eta_crossover = 5, eta_mutation = 10) are
    lower than Deb's usual 15-20, so children land further from their parents: on the benchmark
    functions (Rosenbrock, Ackley, Rastrigin, Levy in 5 and 10 dimensions, 100 to 2000 trials) this
    small population with strong selection did best. `n_generations` (None: no limit) ends the search
    after that many generations. Failed and pruned trials count as the worst fitness.
    `state(history)` gives the population: unit-cube points U (N, d) and their losses (N,).

    Conditional spaces: a genome has a gene for every dimension of the space. The genes of the branches a
    point does not take are kept and ignored: crossover and mutation act on them as on the others (so a
    child that switches branch inherits genes bred earlier for that branch), `Space.decode` leaves them
    out of the params, and two points equal on their active genes count as copies. Real genes with a
    `step` are bred as integer ones. In a define-by-run study the genome covers the names known when the
    generation is bred (the population is replayed on the grown space when new names appear); a name new
    to the study is drawn independently, and a trial that did not run its proposal enters as its encoded
    params (a name it did not suggest at the space's fixed inactive value).
    """

    def __init__(self, population_size=None, n_elite=None, tournament_size=3, crossover_prob=0.9,
                 mutation_prob=None, eta_crossover=5.0, eta_mutation=10.0, n_generations=None):
        self.population_size = population_size
        self.n_elite = n_elite
        self.tournament_size = tournament_size
        self.crossover_prob = crossover_prob
        self.mutation_prob = mutation_prob
        self.eta_crossover = eta_crossover
        self.eta_mutation = eta_mutation
        self.n_generations = n_generations

    def setup(self, space, seed):
        super().setup(space, seed)
        d = max(len(space), 1)  # a define-by-run study starts with no dimension
        self._N = check_scalar(self.population_size, "population_size", numbers.Integral, low=2, allow_none=True) \
            or max(10, d)
        self._n_elite = check_scalar(self.n_elite, "n_elite", numbers.Integral, low=0, high=self._N - 1,
                                     allow_none=True)
        if self._n_elite is None:
            self._n_elite = max(1, self._N // 3)
        check_scalar(self.tournament_size, "tournament_size", numbers.Integral, low=1)
        check_scalar(self.crossover_prob, "crossover_prob", low=0.0, high=1.0)
        self._p_mutation = check_scalar(self.mutation_prob, "mutation_prob", low=0.0, high=1.0, allow_none=True)
        if self._p_mutation is None:
            self._p_mutation = 1.0 / d
        check_scalar(self.eta_crossover, "eta_crossover", low=0.0)
        check_scalar(self.eta_mutation, "eta_mutation", low=0.0)
        check_scalar(self.n_generations, "n_generations", numbers.Integral, low=1, allow_none=True)
        self._categorical = np.array([isinstance(dim, Categorical) for dim in space.dims], dtype=bool)  # (d,)
        discrete = np.array([dim.n_values is not None for dim in space.dims], dtype=bool)
        self._integer = discrete & ~self._categorical  # (d,): integers and reals with a step

    # ---- genes ---------------------------------------------------------------------------------

    def _integer_step(self, j, old, new, direction):
        """An integer gene mutated from `old` to `new` (unit points): its value there, or the next level in
        `direction` if it rounded back to the old value."""
        dim = self.space.dims[j]
        k = int(dim.level(old))
        if int(dim.level(new)) == k:
            step = 1 if direction > 0 else -1
            return dim.to_unit(dim.value(k + step if 0 <= k + step < dim.n_values else k - step))
        return float(dim.snap(new))

    def _mutate(self, C, rng, force=False):
        """Mutate each gene with probability mutation_prob (one random gene of each row at least when
        `force`).  C: (p, d) snapped points, in place."""
        p, d = C.shape
        mutate = rng.random((p, d)) < self._p_mutation  # (p, d)
        if force:
            mutate[np.arange(p), rng.integers(0, d, size=p)] = True
        u = rng.random((p, d))  # (p, d)
        numeric = mutate & ~self._categorical
        new = np.where(numeric, polynomial_mutation(C, self.eta_mutation, u), C)
        for i, j in zip(*np.nonzero(numeric & self._integer)):
            new[i, j] = self._integer_step(j, C[i, j], new[i, j], new[i, j] - C[i, j] or u[i, j] - 0.5)
        for j in np.flatnonzero(self._categorical):
            dim, rows = self.space.dims[j], mutate[:, j]
            m = dim.n_values
            if m > 1:  # one of the other m - 1 choices, uniformly
                k_other = (dim.level(C[rows, j]) + 1 + np.floor(u[rows, j] * (m - 1)).astype(np.int64)) % m
                new[rows, j] = dim.level_units()[k_other]
        C[:] = new
        return C

    def _tournament(self, losses, rng, n):
        """Indices of n winners of tournaments among `tournament_size` members drawn at random.  (n,)"""
        entrants = rng.integers(0, losses.shape[0], size=(n, self.tournament_size))  # (n, k)
        best = np.argmin(losses[entrants], axis=1)  # ties: the first entrant
        return entrants[np.arange(n), best]

    # ---- generations ---------------------------------------------------------------------------

    def _initial_state(self):
        return None  # no population before generation 0

    def _breed(self, state, index, start):
        if self.n_generations is not None and index >= self.n_generations:
            return None
        rng = self.rng(index)
        d, N = len(self.space), self._N
        if state is None:  # generation 0: a Latin hypercube, one point in each of N strata per gene
            U = self.space.snap(latin_hypercube(rng, N, d))  # (N, d)
        else:
            U = self._children(state, rng, N - self._n_elite)
        return Generation(index, start, [self.space.decode(u) for u in U], U)

    def _children(self, state, rng, n_children):
        """n_children new points bred from the population (U, losses).  (n_children, d)"""
        U, losses = state
        d = U.shape[1]
        n_pairs = (n_children + 1) // 2
        parents = self._tournament(losses, rng, 2 * n_pairs).reshape(n_pairs, 2)
        x1, x2 = U[parents[:, 0]], U[parents[:, 1]]  # (n_pairs, d)
        crossing = (rng.random(n_pairs) < self.crossover_prob)[:, None]  # (n_pairs, 1)
        genes = crossing & (rng.random((n_pairs, d)) < 0.5)  # (n_pairs, d)
        c1, c2 = sbx(x1, x2, self.eta_crossover, rng.random((n_pairs, d)), genes & ~self._categorical)
        swap = genes & self._categorical  # uniform crossover of the categorical genes
        c1, c2 = np.where(swap, x2, c1), np.where(swap, x1, c2)
        children = self._mutate(self.space.snap(np.concatenate([c1, c2])[:n_children]), rng)  # (n_children, d)
        key = lambda u: tuple(self.space.fill_inactive(u))  # noqa: E731  (a point, whatever its unused genes)
        seen = {key(u) for u in U}
        for child in children:
            for _ in range(10):  # a copy of a known point would waste a trial
                if key(child) not in seen:
                    break
                child[:] = self._mutate(child[None, :].copy(), rng, force=True)[0]
            seen.add(key(child))
        return children

    def _select(self, state, generation, trials, losses):
        U = generation.extra.copy()  # (lam, d): the points evaluated, or
        for k, (trial, proposed) in enumerate(zip(trials, generation.params)):
            if not ran_proposal(trial, proposed):  # those of another searcher
                U[k] = self.space.encode(trial.params)
        if state is not None and self._n_elite > 0:
            U_old, losses_old = state
            elite = np.argsort(losses_old, kind="stable")[:self._n_elite]
            U, losses = np.concatenate([U_old[elite], U]), np.concatenate([losses_old[elite], losses])
        return U, losses
