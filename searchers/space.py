"""Search spaces: one transform maps every dimension to the unit interval and back.

A `Space` is an ordered dict of dimensions (tunelab.searchers.dimensions: Real, Integer, Categorical).
`Space.encode(params) -> u` with u in [0, 1]^d and `Space.decode(u) -> params` are the only bridge between
a searcher (which works in the unit cube) and the objective (which receives named values), as in Optuna's
search-space transform.

Conditional spaces
------------------
A `Categorical` given a dict carries, for each choice, the dimensions that exist only under it (Hyperopt's
`hp.choice`; sub-spaces may nest)::

    Space({"alpha": Real(1e-6, 1e-2, log=True),
           "optimizer": Categorical({"momentum": {"lr": Real(1e-3, 0.3, log=True), "momentum": Real(0.5, 0.99)},
                                     "adam": {"lr": Real(1e-3, 0.3, log=True), "beta1": Real(0.8, 0.99)},
                                     "lbfgs": None})})

Names are the keys the params get, unique in the space: a name under several choices of one Categorical
(`lr` above) is one dimension, which must be declared equal each time. The space is flattened into
columns, parents before children; `space.names`, `space.dims` list them all (the parent as a plain
`Categorical` of its choices). The API a searcher needs:

    space.is_conditional          True when some dimension hangs under a choice
    space.condition(name)         None, or (parent name, the tuple of its choices under which `name` exists)
    space.active_mask(U)          (m, d) bool: which coordinates of the points U are active (parents decide)
    space.inactive_units          (d,): the fixed unit point a dimension takes when inactive, snap(1/2)
    space.fill_inactive(U)        U with every inactive coordinate set to `inactive_units`

A params dict holds exactly its active dimensions (`validate` checks it). `encode` writes
`inactive_units` for the inactive ones, so every point is a full vector of [0, 1]^d and a searcher of
vectors (GP, CMA-ES, genetic algorithm) keeps working; `decode(u)` reads the parents first and returns
the active dimensions only, ignoring the other coordinates. Hence decode(u) == decode(fill_inactive(u))
and encode(decode(u)) == fill_inactive(snap(u)) up to the rounding of real coordinates. `Grid` enumerates
only the active combinations.

A define-by-run space (`Space.empty_define_by_run()`, grown one dimension at a time by `extended`, as the
objective calls `trial.suggest_*`) has no declared conditions: a params dict may hold any subset of its
names, `decode` returns every name, and a missing name is encoded to its inactive unit point.
"""

import math
import numbers
from collections.abc import Mapping

import numpy as np

from tunelab.optimizers.validation import check_scalar
from tunelab.searchers.dimensions import (  # noqa: F401  (re-exported: the dimensions belong to the space)
    Categorical, Dimension, Integer, Real, check_dimension, dimension_from_config)


def _as_dict(params, who):
    if isinstance(params, dict):
        return params
    if isinstance(params, Mapping):  # a Trial reads as the mapping of its params
        return dict(params.items())
    raise TypeError(f"{who} must be a dict of name -> value; got {type(params).__name__}.")


def _where(names, dims, condition):
    """'at the top level' or 'under optimizer=adam' for an error message."""
    if condition is None:
        return "at the top level"
    parent, levels = condition
    choices = dims[names.index(parent)].choices
    return f"under {parent}=" + "|".join(repr(choices[k]) for k in sorted(levels))


def _flatten(dimensions):
    """A nested dict of dimensions -> (names, dims, conditions): columns in order, parents first; a condition is
    None or (parent name, set of levels); a Categorical with sub-spaces becomes a plain column."""
    names, dims, conditions = [], [], []

    def add(name, dim, condition):
        dim = check_dimension(name, dim)
        subspaces = dim.subspaces if isinstance(dim, Categorical) else None
        plain = Categorical(dim.choices) if subspaces is not None else dim
        if name in names:
            j = names.index(name)
            old = conditions[j]
            if condition is None or old is None or old[0] != condition[0] or dims[j] != plain:
                raise ValueError(
                    f"{name!r} is declared twice: {dims[j]!r} {_where(names, dims, old)} and {plain!r} "
                    f"{_where(names, dims, (condition[0], {condition[1]}) if condition else None)}. A name is one "
                    "dimension: it may sit under several choices of one Categorical, declared equal each time.")
            old[1].add(condition[1])
        else:
            names.append(name)
            dims.append(plain)
            conditions.append(None if condition is None else (condition[0], {condition[1]}))
        for k, sub in enumerate(subspaces or ()):
            for child, child_dim in (sub or {}).items():
                add(child, child_dim, (name, k))

    for name, dim in dimensions.items():
        add(name, dim, None)
    return names, dims, [None if c is None else (c[0], frozenset(c[1])) for c in conditions]


class Space:
    """An ordered set of named dimensions, `Space({"lr": Real(1e-4, 1, log=True), "depth": Integer(1, 8)})`.

    A list given in place of a dimension is taken as `Categorical(list)`; a `Categorical({choice: sub-space})`
    makes the space conditional (see the module docstring). Names may be nested estimator parameters such
    as `optimizer__lr`.
    """

    def __init__(self, dimensions):
        if isinstance(dimensions, Space):
            self._set(dimensions.names, dimensions.dims, dimensions._conditions, dimensions.define_by_run)
            return
        if not hasattr(dimensions, "items"):
            raise TypeError(
                "`space` must be a dict of name -> Real/Integer/Categorical (or a Space); "
                f"got {type(dimensions).__name__}."
            )
        if len(dimensions) == 0:
            raise ValueError("`space` must have at least one dimension; got an empty dict.")
        self._set(*_flatten(dimensions), define_by_run=False)

    def _set(self, names, dims, conditions, define_by_run):
        self.names, self.dims = tuple(names), tuple(dims)
        self.define_by_run = bool(define_by_run)
        self._index = {name: i for i, name in enumerate(self.names)}
        self._conditions = tuple(conditions)
        self._parent = [-1 if c is None else self._index[c[0]] for c in self._conditions]
        self.is_conditional = any(c is not None for c in self._conditions)
        self.inactive_units = np.array([float(dim.snap(0.5)) for dim in self.dims], dtype=np.float64)  # (d,)

    @classmethod
    def _from_columns(cls, names, dims, conditions, define_by_run=False):
        space = cls.__new__(cls)
        space._set(names, dims, conditions, define_by_run)
        return space

    @classmethod
    def empty_define_by_run(cls):
        """The space of a define-by-run study before its first suggestion: no dimension yet."""
        return cls._from_columns((), (), (), define_by_run=True)

    def extended(self, name, dim):
        """This define-by-run space with `name` added as its last dimension (the space itself is unchanged)."""
        if not self.define_by_run:
            raise ValueError("only a define-by-run space grows; a declared space is fixed.")
        if name in self._index:
            raise ValueError(f"{name!r} is already a dimension of the space.")
        dim = check_dimension(name, dim)
        return Space._from_columns(self.names + (name,), self.dims + (dim,), self._conditions + (None,), True)

    def __len__(self):
        return len(self.dims)

    def __iter__(self):
        return iter(self.names)

    def __contains__(self, name):
        return name in self._index

    def __getitem__(self, name):
        return self.dims[self._index[name]]

    def items(self):
        return zip(self.names, self.dims)

    # ---- conditions -----------------------------------------------------------------------------

    def condition(self, name):
        """None for a dimension that always exists, else (parent, choices): it exists when the Categorical
        `parent` exists and takes one of `choices`."""
        condition = self._conditions[self._index[name]]
        if condition is None:
            return None
        parent, levels = condition
        return parent, tuple(self[parent].choices[k] for k in sorted(levels))

    def _condition_text(self, name):
        parent, choices = self.condition(name)
        return f"{parent} is " + (repr(choices[0]) if len(choices) == 1 else f"one of {list(choices)!r}")

    def active_names(self, params):
        """The names active for the values in `params`: the unconditional ones, and each conditional one
        whose parent is active and holds one of its choices (params are read for the parents only)."""
        active = []
        is_active = [False] * len(self.names)
        for j, (name, condition) in enumerate(zip(self.names, self._conditions)):
            if condition is not None:
                p = self._parent[j]
                value = params.get(self.names[p], _MISSING)
                if not is_active[p] or value is _MISSING or not self.dims[p].contains(value):
                    continue
                if self.dims[p].index(value) not in condition[1]:
                    continue
            is_active[j] = True
            active.append(name)
        return active

    def active_mask(self, U):
        """(m, d) bool for points U (m, d) (or (d,) for one point): coordinate j is active when dimension j is
        unconditional, or its parent is active and u_parent decodes to one of its choices. All True for a
        flat or define-by-run space."""
        U = np.asarray(U, dtype=np.float64)
        A = np.ones(np.atleast_2d(U).shape, dtype=bool)  # (m, d)
        if self.is_conditional:
            U2 = np.atleast_2d(U)
            for j, condition in enumerate(self._conditions):
                if condition is not None:
                    p = self._parent[j]
                    A[:, j] = A[:, p] & np.isin(self.dims[p].level(U2[:, p]), list(condition[1]))
        return A[0] if U.ndim == 1 else A

    def fill_inactive(self, U):
        """A copy of U (d,) or (m, d) with each inactive coordinate set to `inactive_units`: one point per params."""
        U = np.asarray(U, dtype=np.float64)
        return np.where(self.active_mask(U), U, self.inactive_units)

    # ---- params and the unit cube ---------------------------------------------------------------

    def validate(self, params, who="params"):
        """Raise a ValueError naming what is wrong unless `params` holds one valid value for each active
        dimension and nothing else (for a define-by-run space: for any of its dimensions)."""
        params = _as_dict(params, who)
        if not self.is_conditional and not self.define_by_run:
            if len(params) != len(self.names) or any(name not in params for name in self.names):
                missing = [n for n in self.names if n not in params]
                extra = [n for n in params if n not in self._index]
                raise ValueError(f"{who} must have exactly the names {list(self.names)}; "
                                 f"missing {missing}, unknown {extra}.")
        for name, value in params.items():
            if name in self._index and not self[name].contains(value):
                raise ValueError(f"{who}[{name!r}] = {value!r} is not inside {self[name]!r}.")
        if self.define_by_run:
            unknown = [n for n in params if n not in self._index]
            if unknown:
                raise ValueError(f"{who} has names {unknown} that are not in the space {list(self.names)}.")
        elif self.is_conditional:
            active = self.active_names(params)
            missing = [n for n in active if n not in params]
            extra = [n for n in params if n not in active]
            if missing or extra:
                inactive = [f"{n!r} exists only when {self._condition_text(n)}" for n in extra if n in self._index]
                hint = f" ({'; '.join(inactive)})" if inactive else ""
                raise ValueError(f"{who} must have exactly the active names {active}; missing {missing}, "
                                 f"unknown or inactive {extra}{hint}.")
        return params

    def encode(self, params):
        """params dict -> u, a (d,) float64 array in [0, 1]^d; an inactive dimension gets `inactive_units`."""
        params = self.validate(params)
        u = self.inactive_units.copy()
        for name, value in params.items():
            j = self._index[name]
            u[j] = self.dims[j].to_unit(value)
        return u

    def encode_many(self, params_list):
        """A list of m params dicts -> (m, d) array."""
        U = np.empty((len(params_list), len(self.dims)), dtype=np.float64)  # (m, d)
        for i, params in enumerate(params_list):
            U[i] = self.encode(params)
        return U

    def decode(self, u):
        """u, a (d,) array-like in [0, 1]^d (clipped), -> params dict of the active dimensions."""
        u = np.asarray(u, dtype=np.float64)
        if u.shape != (len(self.dims),):
            raise ValueError(f"`u` must have shape ({len(self.dims)},); got {u.shape}.")
        values = u.tolist()
        if not self.is_conditional:
            return {name: dim.from_unit(x) for name, dim, x in zip(self.names, self.dims, values)}
        params, level = {}, {}
        for j, (name, dim, condition) in enumerate(zip(self.names, self.dims, self._conditions)):
            if condition is not None and level.get(self._parent[j]) not in condition[1]:
                continue  # the parent is inactive or holds another choice
            params[name] = dim.from_unit(values[j])
            if isinstance(dim, Categorical):
                level[j] = int(dim.level(values[j]))
        return params

    def snap(self, U):
        """U (d,) or (c, d) -> the nearest points the space holds, a new array of U's shape: column j
        snapped by dimension j (`Dimension.snap`), so that decode(snap(u)) == decode(u). Inactive
        coordinates are snapped too, and kept (see `fill_inactive`)."""
        U = np.array(U, dtype=np.float64)
        if U.ndim not in (1, 2) or U.shape[-1] != len(self.dims):
            raise ValueError(f"`U` must have shape ({len(self.dims)},) or (c, {len(self.dims)}); got {U.shape}.")
        for j, dim in enumerate(self.dims):
            U[..., j] = dim.snap(U[..., j])
        return U

    def sample(self, rng, n=None):
        """One params dict (n=None) or a list of n, uniform in the unit cube (log-uniform on log dimensions):
        in a conditional space, the choices first, then the dimensions they open."""
        if n is None:
            return self.decode(rng.random(len(self.dims)))
        return [self.decode(u) for u in rng.random((n, len(self.dims)))]

    # ---- grids ----------------------------------------------------------------------------------

    def _points_per_dimension(self, n_points):
        """`n_points` checked, one per dimension: an int, or a dict name -> int (10 for a dimension it leaves out)."""
        if isinstance(n_points, dict):
            unknown = [name for name in n_points if name not in self._index]
            if unknown:
                raise ValueError(f"`n_points` names {unknown} that are not in the space {list(self.names)}.")
            per_dim = [(n_points.get(name, 10), f"n_points[{name!r}]") for name in self.names]
        else:
            per_dim = [(n_points, "n_points")] * len(self.names)
        return [int(check_scalar(n, label, numbers.Integral, low=1)) for n, label in per_dim]

    def grid_axes(self, n_points=10):
        """Grid values per dimension: `n_points` per real dimension (an int, or a dict name -> int),
        every integer, every choice."""
        return [dim.grid(n) for dim, n in zip(self.dims, self._points_per_dimension(n_points))]

    def grid_shape(self, n_points=10):
        """The number of grid values per dimension, counted without listing them: n_points for a real
        dimension (at most its levels with a step), n_values (every integer, every choice) for a discrete one."""
        return tuple(n if dim.n_values is None else min(n, dim.n_values) if isinstance(dim, Real) else dim.n_values
                     for dim, n in zip(self.dims, self._points_per_dimension(n_points)))

    def grid_size(self, n_points=10):
        """The number of grid points (active combinations only), counted without listing them."""
        return Grid(self, n_points).size

    def grid(self, n_points=10):
        """Every point of the grid, the last dimension varying fastest (itertools.product order for a flat
        space); in a conditional space, only the active combinations (see `Grid`)."""
        grid = Grid(self, n_points)
        return [grid.point(i) for i in range(grid.size)]

    # ---- storage --------------------------------------------------------------------------------

    def config(self):
        """A JSON-able list, one entry per dimension; a conditional one names its `parent` and the levels
        (`when`, indices of the parent's choices) under which it exists."""
        config = []
        for name, dim, condition in zip(self.names, self.dims, self._conditions):
            entry = {"name": name, **dim.config()}
            if condition is not None:
                entry.update(parent=condition[0], when=sorted(condition[1]))
            config.append(entry)
        return config

    @classmethod
    def from_config(cls, config, define_by_run=False):
        names = [entry["name"] for entry in config]
        dims = [dimension_from_config(entry) for entry in config]
        conditions = [None if "parent" not in e else (e["parent"], frozenset(e["when"])) for e in config]
        if not config and not define_by_run:
            raise ValueError("the stored space has no dimension.")
        return cls._from_columns(names, dims, conditions, define_by_run)

    def params_to_json(self, params):
        """A JSON-able copy of params: choices that are not JSON values are stored by their index."""
        return {name: (self[name].index(value) if self._by_index(name) else value) for name, value in params.items()}

    def params_from_json(self, stored):
        return {name: (self[name].choices[value] if self._by_index(name) else value) for name, value in stored.items()}

    def _by_index(self, name):
        dim = self.dims[self._index[name]] if name in self._index else None
        return isinstance(dim, Categorical) and not dim.json_native

    def __eq__(self, other):
        return (isinstance(other, Space) and self.names == other.names and self.dims == other.dims
                and self._conditions == other._conditions and self.define_by_run == other.define_by_run)

    def __hash__(self):
        return hash(self.names)

    def __repr__(self):
        inner = ", ".join(f"{name!r}: {dim!r}" + ("" if condition is None else f" if {self._condition_text(name)}")
                          for name, dim, condition in zip(self.names, self.dims, self._conditions))
        return ("define-by-run " if self.define_by_run else "") + f"Space({{{inner}}})"


_MISSING = object()


class Grid:
    """The grid of a space, point i <-> params dict, the last dimension varying fastest.

    A scope is a list of dimensions that exist together: the unconditional ones, or those under level k
    of a Categorical j. A scope's grid is the product of its blocks, a block being a dimension's grid axis
    or, for a Categorical j with sub-spaces, the union over its levels k of {choice k} x grid(scope(j, k)):

        size(scope) = prod_{j in scope} size(j),    size(j) = sum_k size(scope(j, k))  (else len(axis_j))

    so point i is a mixed-radix number whose digits are the blocks (itertools.product order for a flat
    space), and the digit of block j picks the level k by cumulative sizes, then a point of scope(j, k).
    """

    def __init__(self, space, n_points=10):
        self.names = space.names
        self.shape = space.grid_shape(n_points)  # counted first: `size` never needs the axes listed
        self._space, self._n_points, self._axes = space, n_points, None
        self.root, self.children = [], {}  # scope (j, k) -> its dimensions
        for j, condition in enumerate(space._conditions):
            if condition is None:
                self.root.append(j)
            else:
                for k in condition[1]:
                    self.children.setdefault((space._parent[j], k), []).append(j)
        self.parents = {j for j, _ in self.children}
        self._block = {}
        self.size = self._scope_size(self.root)

    @property
    def axes(self):
        """The grid values of each dimension, listed on first use."""
        if self._axes is None:
            self._axes = self._space.grid_axes(self._n_points)
            self.positions = [{repr(v): k for k, v in enumerate(axis)} for axis in self._axes]  # value -> position
        return self._axes

    def _scope_size(self, scope):
        return math.prod(self._block_size(j) for j in scope)

    def _block_size(self, j):
        if j not in self._block:
            if j in self.parents:
                self._block[j] = sum(self._scope_size(self.children.get((j, k), [])) for k in range(self.shape[j]))
            else:
                self._block[j] = self.shape[j]
        return self._block[j]

    def point(self, i):
        """Grid point i (0 <= i < size) as a params dict, in the space's order."""
        params = {}
        self._fill(self.root, int(i), params)
        return {name: params[name] for name in self.names if name in params}

    def _fill(self, scope, i, params):
        for j in reversed(scope):
            i, r = divmod(i, self._block_size(j))
            if j not in self.parents:
                params[self.names[j]] = self.axes[j][r]
                continue
            for k, value in enumerate(self.axes[j]):
                inner = self.children.get((j, k), [])
                size = self._scope_size(inner)
                if r < size:
                    params[self.names[j]] = value
                    self._fill(inner, r, params)
                    break
                r -= size

    def _position(self, j, value):
        """Where `value` sits on axis j, or None (values are found by repr: choices may be unhashable)."""
        self.axes  # noqa: B018  (lists the axes and their positions on first use)
        return self.positions[j].get(repr(value))

    def index(self, params):
        """The grid index of params, or None if they are not a grid point."""
        return self._index(self.root, params)

    def _index(self, scope, params):
        i = 0
        for j in scope:
            name = self.names[j]
            k = self._position(j, params[name]) if name in params else None
            if k is None:
                return None
            r = k
            if j in self.parents:
                inner = self._index(self.children.get((j, k), []), params)
                if inner is None:
                    return None
                r = sum(self._scope_size(self.children.get((j, q), [])) for q in range(k)) + inner
            i = i * self._block_size(j) + r
        return i
