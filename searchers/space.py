"""Search spaces: one transform maps every dimension to the unit interval and back.

A `Space` is an ordered dict of dimensions. `Space.encode(params) -> u` with u in [0, 1]^d and
`Space.decode(u) -> params` are the only bridge between a searcher (which works in the unit cube)
and the objective (which receives a dict of named values), as in Optuna's search-space transform.

    Real(low, high)              x = low + u (high - low)
    Real(low, high, log=True)    log x = log low + u (log high - log low)              (log-uniform)
    Integer(low, high)           bin k of m = high - low + 1 equal bins, x = low + k     (each integer 1/m)
    Integer(low, high, log=True) log-uniform on [low - 1/2, high + 1/2], rounded to the nearest integer
    Categorical(choices)         bin i of m = len(choices) equal bins, x = choices[i]

The values of a discrete dimension (Integer, Categorical) are its m = `n_values` levels: level k
(the integer low + k, or choices[k]) is decoded from the cell [e_k, e_k+1) of the unit interval
(`cell_edges`) and encoded to one point of it (`level_units`). A searcher that rounds, one-hot encodes
or measures cells asks the dimension (`level`, `snap`, `cell_edges`) instead of redoing the formulas.
"""

import itertools
import math
import numbers

import numpy as np

from tunelab.optimizers.validation import check_scalar

_JSON_SCALARS = (str, int, float, bool, type(None))


def _unit_array(u):
    """u (a number or an array) as float64 clipped into [0, 1]."""
    return np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)


def _pointwise(f, u):
    """f applied to each element of u (clipped into [0, 1]); an array of u's shape."""
    u = _unit_array(u)
    return np.array([f(x) for x in u.ravel().tolist()]).reshape(u.shape)


class Dimension:
    """One named axis of a search space: a map between its values and the unit interval [0, 1]."""

    n_values = None  # the number of levels of a discrete dimension; None for Real

    def to_unit(self, value):
        """The point u in [0, 1] that `from_unit` maps back to `value`."""
        raise NotImplementedError

    def from_unit(self, u):
        """The value at u in [0, 1] (u outside is clipped)."""
        raise NotImplementedError

    def snap(self, u):
        """The point of [0, 1] nearest to u that the dimension holds, elementwise (u clipped first; same shape).

        Real: u itself. Integer and Categorical: the unit point of the value u decodes to,
        to_unit(from_unit(u)); so decode(snap(u)) == decode(u) and snap is the identity on encoded values.
        """
        raise NotImplementedError

    def contains(self, value):
        raise NotImplementedError

    def grid(self, n_points):
        """The grid values of this dimension, in increasing order (choices in their given order)."""
        raise NotImplementedError

    def config(self):
        """A JSON-able description, inverted by `dimension_from_config`."""
        raise NotImplementedError

    def sample(self, rng, n=None):
        """One value (n=None) or a list of n values, uniform in the unit interval of this dimension."""
        if n is None:
            return self.from_unit(rng.random())
        return [self.from_unit(u) for u in rng.random(n)]

    def __eq__(self, other):
        return type(self) is type(other) and self.config() == other.config()

    def __hash__(self):
        return hash(repr(self))


class Real(Dimension):
    """A real value in [low, high]; `log=True` spreads it uniformly in log x (needs low > 0)."""

    def __init__(self, low, high, log=False):
        check_scalar(low, "low")
        check_scalar(high, "high")
        if not low < high:
            raise ValueError(f"Real needs `low` < `high`; got low={low!r}, high={high!r}.")
        if log and low <= 0:
            raise ValueError(f"Real with log=True needs `low` > 0; got low={low!r}.")
        self.low, self.high, self.log = float(low), float(high), bool(log)
        self._a = math.log(self.low) if self.log else self.low  # the interval [a, b] that u maps onto linearly
        self._b = math.log(self.high) if self.log else self.high

    def to_unit(self, value):
        x = math.log(value) if self.log else value
        return min(max((x - self._a) / (self._b - self._a), 0.0), 1.0)

    def from_unit(self, u):
        u = min(max(float(u), 0.0), 1.0)
        x = self._a + u * (self._b - self._a)
        if self.log:
            x = math.exp(x)
        return min(max(x, self.low), self.high)

    def snap(self, u):
        """u clipped into [0, 1]: a real dimension holds every point (to_unit(from_unit(u)) = u up to rounding)."""
        return _unit_array(u)

    def contains(self, value):
        return (not isinstance(value, bool) and isinstance(value, numbers.Real)
                and self.low <= value <= self.high)

    def grid(self, n_points):
        """n points evenly spaced in x (in log x when log=True), both ends included; one point is the middle."""
        n_points = int(check_scalar(n_points, "n_points", numbers.Integral, low=1))
        if n_points == 1:
            return [self.from_unit(0.5)]
        grid = [self.from_unit(k / (n_points - 1)) for k in range(n_points)]
        grid[0], grid[-1] = self.low, self.high
        return grid

    def config(self):
        return {"type": "real", "low": self.low, "high": self.high, "log": self.log}

    def __repr__(self):
        return f"Real({self.low!r}, {self.high!r}" + (", log=True)" if self.log else ")")


class _Levels(Dimension):
    """A discrete dimension of m = n_values levels in m equal cells: level k is decoded from
    [k/m, (k+1)/m) (the last cell closed) and encoded to its centre (k + 1/2)/m."""

    def level(self, u):
        """k = min(floor(m u), m - 1), the level that u (clipped into [0, 1]) decodes to, elementwise; int64."""
        m = self.n_values
        return np.minimum((_unit_array(u) * m).astype(np.int64), m - 1)

    def level_units(self):
        """The unit point of each level, to_unit of every value in order; (n_values,)."""
        return (np.arange(self.n_values) + 0.5) / self.n_values

    def cell_edges(self):
        """e (n_values + 1,), increasing from 0 to 1: level k is decoded from the cell [e_k, e_k+1)."""
        return np.arange(self.n_values + 1) / self.n_values

    def snap(self, u):
        return (self.level(u) + 0.5) / self.n_values


class Integer(_Levels):
    """An integer in [low, high], both included; `log=True` spreads it log-uniformly (needs low >= 1).

    Without log each of the m = high - low + 1 integers owns an equal share 1/m of the unit interval;
    with log, value v owns the cell [log(v - 1/2), log(v + 1/2)] mapped linearly from
    [log(low - 1/2), log(high + 1/2)] onto [0, 1], and is encoded to the point of log v.
    """

    def __init__(self, low, high, log=False):
        check_scalar(low, "low", numbers.Integral)
        check_scalar(high, "high", numbers.Integral)
        if not low < high:
            raise ValueError(f"Integer needs `low` < `high`; got low={low!r}, high={high!r}.")
        if log and low < 1:
            raise ValueError(f"Integer with log=True needs `low` >= 1; got low={low!r}.")
        self.low, self.high, self.log = int(low), int(high), bool(log)
        self.n_values = self.high - self.low + 1
        if self.log:
            self._a, self._b = math.log(self.low - 0.5), math.log(self.high + 0.5)

    def to_unit(self, value):
        """The centre of the value's bin (in log space when log=True)."""
        if self.log:
            return (math.log(value) - self._a) / (self._b - self._a)
        return (value - self.low + 0.5) / self.n_values

    def from_unit(self, u):
        u = min(max(float(u), 0.0), 1.0)
        if self.log:
            x = math.floor(math.exp(self._a + u * (self._b - self._a)) + 0.5)
        else:
            x = self.low + min(int(u * self.n_values), self.n_values - 1)
        return int(min(max(x, self.low), self.high))

    def level(self, u):
        """from_unit(u) - low, elementwise; int64."""
        if self.log:  # rounded in log space: the scalar rule, point by point
            return _pointwise(self.from_unit, u).astype(np.int64) - self.low
        return super().level(u)

    def level_units(self):
        if self.log:
            return np.array([self.to_unit(v) for v in range(self.low, self.high + 1)])
        return super().level_units()

    def cell_edges(self):
        """e_k = k/m; with log, e_k = (log(low + k - 1/2) - log(low - 1/2)) / (log(high + 1/2) - log(low - 1/2)).
        Value low + k is decoded from [e_k, e_k+1) (up to the rounding of exp and log at the edges)."""
        if not self.log:
            return super().cell_edges()
        e = (np.log(np.arange(self.low, self.high + 2) - 0.5) - self._a) / (self._b - self._a)
        e[0], e[-1] = 0.0, 1.0
        return e

    def snap(self, u):
        if self.log:
            return _pointwise(lambda x: self.to_unit(self.from_unit(x)), u)
        return super().snap(u)

    def contains(self, value):
        return (not isinstance(value, bool) and isinstance(value, numbers.Integral)
                and self.low <= value <= self.high)

    def grid(self, n_points=None):
        """Every integer from low to high (n_points does not apply)."""
        return list(range(self.low, self.high + 1))

    def config(self):
        return {"type": "integer", "low": self.low, "high": self.high, "log": self.log}

    def __repr__(self):
        return f"Integer({self.low!r}, {self.high!r}" + (", log=True)" if self.log else ")")


def _same(a, b):
    """Equality for choices: same type and equal (so 1, 1.0 and True stay three different choices)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except Exception:  # objects whose == is not a truth value (arrays)
        return False


class Categorical(_Levels):
    """One of a list of choices (any objects); each owns an equal share 1/m of the unit interval."""

    def __init__(self, choices):
        if isinstance(choices, (str, bytes)) or not hasattr(choices, "__len__"):
            raise TypeError(f"`choices` must be a list or tuple; got {choices!r} of type {type(choices).__name__}.")
        choices = tuple(choices)
        if len(choices) == 0:
            raise ValueError("`choices` must not be empty.")
        for i, a in enumerate(choices):
            for b in choices[:i]:
                if _same(a, b):
                    raise ValueError(f"`choices` must be distinct; {a!r} appears more than once in {list(choices)!r}.")
        self.choices = choices
        self.n_values = len(choices)
        self.json_native = all(isinstance(c, _JSON_SCALARS) for c in choices)

    def index(self, value):
        """Position of `value` among the choices (ValueError if it is not one of them)."""
        for i, c in enumerate(self.choices):
            if _same(c, value):
                return i
        for i, c in enumerate(self.choices):  # numpy scalars and other equal values of another type
            try:
                if (isinstance(value, numbers.Number) and not isinstance(value, bool)
                        and not isinstance(c, bool) and c == value):
                    return i
            except Exception:
                pass
        raise ValueError(f"{value!r} is not one of the choices {list(self.choices)!r}.")

    def to_unit(self, value):
        return (self.index(value) + 0.5) / self.n_values

    def from_unit(self, u):
        u = min(max(float(u), 0.0), 1.0)
        return self.choices[min(int(u * self.n_values), self.n_values - 1)]

    def contains(self, value):
        try:
            self.index(value)
        except ValueError:
            return False
        return True

    def grid(self, n_points=None):
        """Every choice, in the given order (n_points does not apply)."""
        return list(self.choices)

    def config(self):
        if self.json_native:
            return {"type": "categorical", "choices": list(self.choices)}
        return {"type": "categorical", "choices_repr": [repr(c) for c in self.choices]}

    def __repr__(self):
        return f"Categorical({list(self.choices)!r})"


def dimension_from_config(config):
    """Inverse of `Dimension.config()`."""
    kind = config.get("type")
    if kind == "real":
        return Real(config["low"], config["high"], log=config["log"])
    if kind == "integer":
        return Integer(config["low"], config["high"], log=config["log"])
    if kind == "categorical":
        if "choices" not in config:
            raise ValueError(
                f"cannot rebuild a Categorical from its stored description {config['choices_repr']!r}: its choices "
                "are not JSON values; pass the `space` explicitly."
            )
        return Categorical(config["choices"])
    raise ValueError(f"unknown dimension type {kind!r} in the stored space.")


class Space:
    """An ordered set of named dimensions, `Space({"lr": Real(1e-4, 1, log=True), "depth": Integer(1, 8)})`.

    A list given in place of a dimension is taken as `Categorical(list)`. Names may be nested
    estimator parameters such as `optimizer__lr`.
    """

    def __init__(self, dimensions):
        if isinstance(dimensions, Space):
            dimensions = dict(zip(dimensions.names, dimensions.dims))
        if not hasattr(dimensions, "items"):
            raise TypeError(
                "`space` must be a dict of name -> Real/Integer/Categorical (or a Space); "
                f"got {type(dimensions).__name__}."
            )
        if len(dimensions) == 0:
            raise ValueError("`space` must have at least one dimension; got an empty dict.")
        names, dims = [], []
        for name, dim in dimensions.items():
            if not isinstance(name, str) or not name:
                raise TypeError(f"dimension names must be non-empty strings; got {name!r}.")
            if isinstance(dim, list):
                dim = Categorical(dim)
            if not isinstance(dim, Dimension):
                raise TypeError(
                    f"dimension {name!r} must be Real(...), Integer(...), Categorical(...) or a list of choices; "
                    f"got {dim!r} of type {type(dim).__name__}."
                )
            names.append(name)
            dims.append(dim)
        self.names, self.dims = tuple(names), tuple(dims)
        self._index = {name: i for i, name in enumerate(self.names)}

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

    def validate(self, params, who="params"):
        """Raise a ValueError naming what is wrong unless `params` holds exactly one valid value per dimension."""
        if not isinstance(params, dict):
            raise TypeError(f"{who} must be a dict of name -> value; got {type(params).__name__}.")
        if len(params) != len(self.names) or any(name not in params for name in self.names):
            missing = [n for n in self.names if n not in params]
            extra = [n for n in params if n not in self._index]
            raise ValueError(f"{who} must have exactly the names {list(self.names)}; "
                             f"missing {missing}, unknown {extra}.")
        for name, dim in zip(self.names, self.dims):
            if not dim.contains(params[name]):
                raise ValueError(f"{who}[{name!r}] = {params[name]!r} is not inside {dim!r}.")
        return params

    def encode(self, params):
        """params dict -> u, a (d,) float64 array in [0, 1]^d."""
        self.validate(params)
        return np.array([dim.to_unit(params[name]) for name, dim in zip(self.names, self.dims)], dtype=np.float64)

    def encode_many(self, params_list):
        """A list of m params dicts -> (m, d) array."""
        U = np.empty((len(params_list), len(self.dims)), dtype=np.float64)  # (m, d)
        for i, params in enumerate(params_list):
            U[i] = self.encode(params)
        return U

    def decode(self, u):
        """u, a (d,) array-like in [0, 1]^d (clipped), -> params dict."""
        u = np.asarray(u, dtype=np.float64)
        if u.shape != (len(self.dims),):
            raise ValueError(f"`u` must have shape ({len(self.dims)},); got {u.shape}.")
        return {name: dim.from_unit(x) for name, dim, x in zip(self.names, self.dims, u.tolist())}

    def snap(self, U):
        """U (d,) or (c, d) -> the nearest points the space holds, a new array of U's shape: column j
        snapped by dimension j (`Dimension.snap`), so that decode(snap(u)) == decode(u)."""
        U = np.array(U, dtype=np.float64)
        if U.ndim not in (1, 2) or U.shape[-1] != len(self.dims):
            raise ValueError(f"`U` must have shape ({len(self.dims)},) or (c, {len(self.dims)}); got {U.shape}.")
        for j, dim in enumerate(self.dims):
            U[..., j] = dim.snap(U[..., j])
        return U

    def sample(self, rng, n=None):
        """One params dict (n=None) or a list of n, uniform in the unit cube (log-uniform on log dimensions)."""
        if n is None:
            return self.decode(rng.random(len(self.dims)))
        return [self.decode(u) for u in rng.random((n, len(self.dims)))]

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
        dimension, n_values (every integer, every choice) for a discrete one."""
        return tuple(n if dim.n_values is None else dim.n_values
                     for dim, n in zip(self.dims, self._points_per_dimension(n_points)))

    def grid_size(self, n_points=10):
        """The number of points of the product grid, prod(grid_shape(n_points)), without listing them."""
        return math.prod(self.grid_shape(n_points))

    def grid(self, n_points=10):
        """Every point of the product grid, the last dimension varying fastest (itertools.product order)."""
        return [dict(zip(self.names, values)) for values in itertools.product(*self.grid_axes(n_points))]

    def config(self):
        return [{"name": name, **dim.config()} for name, dim in zip(self.names, self.dims)]

    @classmethod
    def from_config(cls, config):
        return cls({entry["name"]: dimension_from_config(entry) for entry in config})

    def params_to_json(self, params):
        """A JSON-able copy of params: choices that are not JSON values are stored by their index."""
        return {name: (dim.index(params[name]) if isinstance(dim, Categorical) and not dim.json_native
                       else params[name]) for name, dim in zip(self.names, self.dims)}

    def params_from_json(self, stored):
        return {name: (dim.choices[stored[name]] if isinstance(dim, Categorical) and not dim.json_native
                       else stored[name]) for name, dim in zip(self.names, self.dims)}

    def __eq__(self, other):
        return isinstance(other, Space) and self.names == other.names and self.dims == other.dims

    def __hash__(self):
        return hash(self.names)

    def __repr__(self):
        inner = ", ".join(f"{name!r}: {dim!r}" for name, dim in self.items())
        return f"Space({{{inner}}})"
