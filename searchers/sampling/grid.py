"""Grid search: every point of the product grid once, in a fixed order, then stop."""

import numbers

from tunelab.optimizers.validation import check_scalar
from tunelab.searchers.base import Searcher
from tunelab.searchers.space import Grid


class GridSearch(Searcher):
    """The full product grid: `n_points` values per real dimension (an int, or a dict name -> int),
    every integer, every choice. Point i is the i-th of `itertools.product` over the dimensions in the
    space's order (the last dimension varies fastest).

    Each `ask` returns the first grid points that no trial holds yet (running, finished or failed;
    trials lost when a process died are proposed again), so the set of trials does not depend on how
    many are asked at once, and several processes sharing one storage split the grid between them.
    A grid larger than `max_grid_size` is refused at setup, before any axis is listed.

    Conditional spaces: only the active combinations are enumerated (`tunelab.searchers.space.Grid`): a
    choice's sub-space is crossed with the other dimensions only under that choice, so the grid of
    {"x": 3 values, "kind": Categorical({"a": {"y": 4 values}, "b": None})} has 3 x (4 + 1) points.
    A define-by-run study is refused: a grid needs its space declared before the first trial.
    """

    multi_objective = True  # ignores the losses, so any number of objectives suits it

    def __init__(self, n_points=10, max_grid_size=100_000):
        self.n_points = n_points
        self.max_grid_size = max_grid_size

    def setup(self, space, seed):
        super().setup(space, seed)
        check_scalar(self.max_grid_size, "max_grid_size", numbers.Integral, low=1)
        if space.define_by_run:
            raise ValueError("GridSearch enumerates a declared space, and this study defines its space by run: "
                             "declare the space (a dict of dimensions), or use RandomSearch.")
        self._grid = Grid(space, self.n_points)  # sized by counting: a grid too large is never listed
        self._size = self._grid.size
        if self._size > self.max_grid_size:
            shape = " x ".join(f"{r:,}" for r in self._grid.shape)
            what = f"{shape}" if not space.is_conditional else f"axes {shape}, active combinations only"
            raise ValueError(
                f"the grid has {self._size:,} points ({what}), more than `max_grid_size`={self.max_grid_size:,}. "
                "Use fewer `n_points`, raise `max_grid_size`, or use RandomSearch."
            )
        self._reset()

    def _reset(self):
        self._taken = set()  # grid indices held by a trial
        self._seen = 0  # trials of the history already scanned
        self._cursor = 0  # every grid index below it is taken
        self._source = None  # the trials list scanned

    def size(self):
        return self._size

    def index_of(self, params):
        """The grid index of params, or None if they are not a grid point."""
        return self._grid.index(params)

    def point(self, i):
        """Grid point i as a params dict (mixed-radix digits of i, the last dimension fastest)."""
        return self._grid.point(i)

    def ask(self, n, history):
        trials = history.trials
        if trials is not self._source or len(trials) < self._seen:  # not the history the cache was built from
            self._reset()
            self._source = trials
        for trial in trials[self._seen:]:
            if not trial.lost:
                i = self.index_of(trial.params)
                if i is not None:
                    self._taken.add(i)
        self._seen = len(trials)
        proposals = []
        i = self._cursor
        while len(proposals) < n and i < self._size:
            if i not in self._taken:
                proposals.append(self.point(i))
            i += 1
        while self._cursor < self._size and self._cursor in self._taken:
            self._cursor += 1
        return proposals
