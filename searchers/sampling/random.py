"""Random search: points drawn independently, or from a low-discrepancy design that fills the cube evenly."""

import numbers

import numpy as np

from tunelab.optimizers.validation import check_choice, check_scalar
from tunelab.searchers.sampling import lowdiscrepancy as qmc
from tunelab.searchers.base import Searcher

_BLOCK = 64  # uniform points are drawn 64 at a time from a generator keyed by the block


class RandomSearch(Searcher):
    """Random points in the unit cube, decoded by the space (so log dimensions are log-uniform).

    sampler="uniform": independent uniform points (Bergstra & Bengio 2012).
    sampler="sobol":   a scrambled Sobol sequence; the first 2^m trials fill every dyadic interval of
                       length 2^-m of each dimension exactly once (best with 2^m trials).
    sampler="lhs":     Latin hypercubes of `lhs_size` points (default: the study's planned number of
                       trials, else 64); each block of `lhs_size` trials has one point in each of the
                       `lhs_size` equal strata of every dimension.

    Trial number t always gets the same point for a given study seed, whatever the number of trials
    asked at once, so parallel and serial runs (and resumed studies) try the same points.

    Conditional spaces: the point is decoded as a tree (`Space.decode`): the choice first, then the
    dimensions it opens, so each branch is drawn with the probability of its share of the unit interval
    and its dimensions uniformly; the coordinates of the other branches are drawn and left unused. In a
    define-by-run study the point covers the names known when the trial is asked; the trial draws a name
    new to the study independently (tunelab.searchers.trial).
    """

    multi_objective = True  # ignores the losses, so any number of objectives suits it

    def __init__(self, sampler="uniform", lhs_size=None):
        self.sampler = sampler
        self.lhs_size = lhs_size

    def setup(self, space, seed):
        super().setup(space, seed)
        check_choice(self.sampler, "sampler", ("uniform", "sobol", "lhs"))
        check_scalar(self.lhs_size, "lhs_size", numbers.Integral, low=1, allow_none=True)
        d = len(space)
        if self.sampler == "sobol" and d > 0:  # a define-by-run study starts with no dimension
            self._V, self._shift = qmc.scramble(qmc.sobol_directions(d), self.rng(2))
        self._block_key, self._block = None, None

    def _design(self, b, size):
        """Block b of `size` points, (size, d): a Latin hypercube, or independent uniform points."""
        key = (self.sampler, size, b)
        if key != self._block_key:
            lhs = self.sampler == "lhs"
            rng = self.rng(1 if lhs else 0, size, b)
            d = len(self.space)
            self._block = qmc.latin_hypercube(rng, size, d) if lhs else rng.random((size, d))
            self._block_key = key
        return self._block

    def points(self, start, n, budget=None):
        """Unit-cube points of trials start, ..., start+n-1; (n, d)."""
        if self.sampler == "sobol":
            return qmc.sobol_points(self._V, self._shift, start, n)
        size = (self.lhs_size or budget or _BLOCK) if self.sampler == "lhs" else _BLOCK
        U = np.empty((n, len(self.space)))  # (n, d)
        for k, t in enumerate(range(start, start + n)):
            U[k] = self._design(t // size, size)[t % size]
        return U

    def ask(self, n, history):
        U = self.points(history.next_number, n, history.budget)
        return [self.space.decode(u) for u in U]
