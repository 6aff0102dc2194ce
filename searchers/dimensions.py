"""The dimensions of a search space: each one a map between its values and the unit interval [0, 1].

    Real(low, high)               x = low + u (high - low)
    Real(low, high, log=True)     log x = log low + u (log high - log low)               (log-uniform)
    Real(low, high, step=s)       level k of m = floor((high - low) / s) + 1, x = low + k s  (each value 1/m)
    Integer(low, high, step=s)    level k of m = floor((high - low) / s) + 1, x = low + k s  (each value 1/m)
    Integer(low, high, log=True)  log-uniform on [low - 1/2, high + 1/2], rounded to the nearest integer
    Categorical(choices)          level i of m = len(choices), x = choices[i]                 (each choice 1/m)

The values of a discrete dimension (an Integer, a Categorical, a Real with a step) are its m = `n_values`
levels: level k (`value(k)`) is decoded from the cell [e_k, e_k+1) of the unit interval (`cell_edges`) and
encoded to one point of it (`level_units`). A searcher that rounds, one-hot encodes or measures cells asks
the dimension (`level`, `snap`, `cell_edges`) instead of redoing the formulas. `n_values` is None for a
continuous Real only, so `dim.n_values is None` is the test for "continuous".

A linear Real whose span high - low overflows a float (e.g. Real(-1e308, 1e308)) computes with the halves
x/2 - low/2 and high/2 - low/2, which are finite, and gives the same points as the formula above.

A step that does not divide high - low moves `high` down to the last value low + k step, with a warning,
as Optuna's distributions do. A Categorical given a dict, `Categorical({choice: {name: dimension}, ...})`,
holds sub-spaces: dimensions that exist only under one of its choices (see tunelab.searchers.space).
"""

import math
import numbers
import warnings
from decimal import Decimal

import numpy as np

from tunelab.optimizers.validation import check_bool, check_scalar

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

    n_values = None  # the number of levels of a discrete dimension; None for a continuous Real

    def to_unit(self, value):
        """The point u in [0, 1] that `from_unit` maps back to `value`."""
        raise NotImplementedError

    def from_unit(self, u):
        """The value at u in [0, 1] (u outside is clipped)."""
        raise NotImplementedError

    def snap(self, u):
        """The point of [0, 1] nearest to u that the dimension holds, elementwise (u clipped first; same shape).

        Continuous Real: u itself. A discrete dimension: the unit point of the value u decodes to,
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


class _Levels(Dimension):
    """A discrete dimension of m = n_values levels in m equal cells: level k is decoded from
    [k/m, (k+1)/m) (the last cell closed) and encoded to its centre (k + 1/2)/m."""

    def value(self, k):
        """The value of level k (0 <= k < n_values)."""
        raise NotImplementedError

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


def _short(n):
    """repr of an integer, or its number of digits when it is too long to print."""
    digits = len(str(abs(n))) if n.bit_length() < 10_000 else None
    if digits is not None and digits <= 30:
        return repr(n)
    return f"an integer of {digits or f'about {int(n.bit_length() * 0.30103)}'} digits"


def _decimal_value(low, step, k):
    """low + k step in decimal arithmetic on the shortest reprs, as a float: 0.1 + 2 x 0.1 is 0.3, not
    0.30000000000000004."""
    return float(Decimal(repr(low)) + int(k) * Decimal(repr(step)))


def _stepped_high(low, high, step, who):
    """(m, high'): the number of values low + k step inside [low, high], and the last of them; warns when
    high' < high (the step does not divide high - low), as Optuna does."""
    if isinstance(step, int):
        m = (high - low) // step + 1
        last = low + (m - 1) * step
    else:
        m = int((Decimal(repr(high)) - Decimal(repr(low))) // Decimal(repr(step))) + 1
        last = _decimal_value(low, step, m - 1)
    if m < 2:
        raise ValueError(f"{who} needs `step` <= high - low; got low={low!r}, high={high!r}, step={step!r}.")
    if last != high:
        warnings.warn(f"{who}: `step`={step!r} does not divide high - low = {high - low!r}; high={high!r} is "
                      f"replaced by {last!r}, the last value low + k step.", UserWarning, stacklevel=3)
        return m, last
    return m, high


class Real(_Levels):
    """A real value in [low, high]; `log=True` spreads it uniformly in log x (needs low > 0); `step` makes it
    discrete, the values low, low + step, ..., each owning an equal share of the unit interval."""

    def __init__(self, low, high, log=False, step=None):
        check_scalar(low, "low")
        check_scalar(high, "high")
        log = check_bool(log, "log")
        check_scalar(step, "step", low=0.0, low_inclusive=False, allow_none=True)
        if not low < high:
            raise ValueError(f"Real needs `low` < `high`; got low={low!r}, high={high!r}.")
        if log and low <= 0:
            raise ValueError(f"Real with log=True needs `low` > 0; got low={low!r}.")
        if log and step is not None:
            raise ValueError(f"Real takes `step` or log=True, not both; got step={step!r} with log=True.")
        self.low, self.high, self.log = float(low), float(high), log
        self.step = None if step is None else float(step)
        if self.step is not None:
            self.n_values, self.high = _stepped_high(self.low, self.high, self.step, "Real")
        self._a = math.log(self.low) if self.log else self.low  # the interval [a, b] that u maps onto linearly
        self._b = math.log(self.high) if self.log else self.high
        self._halved = not math.isfinite(self._b - self._a)  # the span overflows: compute with halves

    def _offset(self, x, scale=1.0):
        """(x - a) / scale, finite even when x - a overflows (then (x/2 - a/2) / scale x 2)."""
        if self._halved:
            return (x / 2 - self._a / 2) / scale * 2
        return (x - self._a) / scale

    def value(self, k):
        return min(_decimal_value(self.low, self.step, k), self.high)

    def to_unit(self, value):
        if self.step is not None:
            k = round(self._offset(value, self.step))
            return (min(max(k, 0), self.n_values - 1) + 0.5) / self.n_values
        x = math.log(value) if self.log else value
        if self._halved:
            return min(max((x / 2 - self._a / 2) / (self._b / 2 - self._a / 2), 0.0), 1.0)
        return min(max((x - self._a) / (self._b - self._a), 0.0), 1.0)

    def from_unit(self, u):
        u = min(max(float(u), 0.0), 1.0)
        if self.step is not None:
            return float(self.value(min(int(u * self.n_values), self.n_values - 1)))
        if self._halved:
            x = 2 * (self._a / 2 + u * (self._b / 2 - self._a / 2))
        else:
            x = self._a + u * (self._b - self._a)
        if self.log:
            x = math.exp(x)
        return min(max(x, self.low), self.high)

    def level(self, u):
        if self.step is None:
            raise TypeError(f"{self!r} is continuous: it has no levels.")
        return super().level(u)

    def snap(self, u):
        """Without a step, u clipped into [0, 1] (to_unit(from_unit(u)) = u up to rounding); with one, the
        centre of u's cell."""
        return _unit_array(u) if self.step is None else super().snap(u)

    def contains(self, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not self.low <= value <= self.high:
            return False
        if self.step is None:
            return True
        k = self._offset(value, self.step)
        return abs(k - round(k)) <= 1e-9 * max(1.0, abs(k))

    def grid(self, n_points):
        """n points evenly spaced in x (in log x when log=True), both ends included; one point is the middle.
        With a step: n of the values, evenly spread over the levels (all of them when n >= n_values)."""
        n_points = int(check_scalar(n_points, "n_points", numbers.Integral, low=1))
        if self.step is not None:
            m = self.n_values
            if n_points == 1:
                return [float(self.value(m // 2))]
            levels = sorted({round(i * (m - 1) / (n_points - 1)) for i in range(n_points)})
            return [float(self.value(k)) for k in levels]
        if n_points == 1:
            return [self.from_unit(0.5)]
        grid = [self.from_unit(k / (n_points - 1)) for k in range(n_points)]
        grid[0], grid[-1] = self.low, self.high
        return grid

    def config(self):
        config = {"type": "real", "low": self.low, "high": self.high, "log": self.log}
        if self.step is not None:
            config["step"] = self.step
        return config

    def __repr__(self):
        extra = ", log=True" if self.log else f", step={self.step!r}" if self.step is not None else ""
        return f"Real({self.low!r}, {self.high!r}{extra})"


class Integer(_Levels):
    """An integer in [low, high], both included; `step` keeps low, low + step, ...; `log=True` spreads it
    log-uniformly (needs low >= 1 and step 1).

    Without log each of the m = (high - low) // step + 1 values owns an equal share 1/m of the unit
    interval; with log, value v owns the cell [log(v - 1/2), log(v + 1/2)] mapped linearly from
    [log(low - 1/2), log(high + 1/2)] onto [0, 1], and is encoded to the point of log v.
    """

    def __init__(self, low, high, log=False, step=1):
        check_scalar(low, "low", numbers.Integral)
        check_scalar(high, "high", numbers.Integral)
        log = check_bool(log, "log")
        check_scalar(step, "step", numbers.Integral, low=1)
        for name, bound in (("low", low), ("high", high)):
            if not -2**63 <= bound < 2**63:
                raise ValueError(f"Integer needs `{name}` within the 64-bit integers [-2**63, 2**63); got {name}="
                                 f"{_short(bound)}.")
        if not low < high:
            raise ValueError(f"Integer needs `low` < `high`; got low={low!r}, high={high!r}.")
        if log and low < 1:
            raise ValueError(f"Integer with log=True needs `low` >= 1; got low={low!r}.")
        if log and step != 1:
            raise ValueError(f"Integer with log=True needs step=1; got step={step!r}.")
        self.low, self.high, self.log, self.step = int(low), int(high), log, int(step)
        self.n_values, self.high = _stepped_high(self.low, self.high, self.step, "Integer")
        self.high = int(self.high)
        if self.log:
            self._a, self._b = math.log(self.low - 0.5), math.log(self.high + 0.5)

    def value(self, k):
        return self.low + int(k) * self.step

    def to_unit(self, value):
        """The centre of the value's cell (in log space when log=True)."""
        if self.log:
            return (math.log(value) - self._a) / (self._b - self._a)
        return ((value - self.low) // self.step + 0.5) / self.n_values

    def from_unit(self, u):
        u = min(max(float(u), 0.0), 1.0)
        if self.log:
            x = math.floor(math.exp(self._a + u * (self._b - self._a)) + 0.5)
            return int(min(max(x, self.low), self.high))
        return self.value(min(int(u * self.n_values), self.n_values - 1))

    def level(self, u):
        """(from_unit(u) - low) / step, elementwise; int64."""
        if self.log:  # rounded in log space: the scalar rule, point by point
            return _pointwise(self.from_unit, u).astype(np.int64) - self.low
        return super().level(u)

    def level_units(self):
        if self.log:
            return np.array([self.to_unit(v) for v in range(self.low, self.high + 1)])
        return super().level_units()

    def cell_edges(self):
        """e_k = k/m; with log, e_k = (log(low + k - 1/2) - log(low - 1/2)) / (log(high + 1/2) - log(low - 1/2)).
        Value low + k step is decoded from [e_k, e_k+1) (up to the rounding of exp and log at the edges)."""
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
                and self.low <= value <= self.high and (value - self.low) % self.step == 0)

    def grid(self, n_points=None):
        """Every value from low to high (n_points does not apply)."""
        return list(range(self.low, self.high + 1, self.step))

    def config(self):
        config = {"type": "integer", "low": self.low, "high": self.high, "log": self.log}
        if self.step != 1:
            config["step"] = self.step
        return config

    def __repr__(self):
        extra = ", log=True" if self.log else f", step={self.step!r}" if self.step != 1 else ""
        return f"Integer({self.low!r}, {self.high!r}{extra})"


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


def _is_nan(choice):
    """Whether a choice is a NaN number (float, numpy, Decimal or complex): one that is not equal to itself."""
    if not isinstance(choice, numbers.Number) or isinstance(choice, bool):
        return False
    try:
        return bool(choice != choice)
    except Exception:  # a number type that refuses the comparison (a signalling Decimal NaN)
        return True


def _subspace(choice, sub):
    """A choice's sub-space as a dict name -> Dimension (a list taken as a Categorical), or None."""
    if sub is None or (hasattr(sub, "items") and len(sub) == 0):
        return None
    if not hasattr(sub, "items"):
        raise TypeError(f"the sub-space of choice {choice!r} must be a dict of name -> dimension (or None); "
                        f"got {sub!r} of type {type(sub).__name__}.")
    subspace = {}
    for name, dim in sub.items():
        subspace[name] = check_dimension(name, dim)
    return subspace


def check_dimension(name, dim):
    """`dim` as a Dimension (a list taken as `Categorical(list)`), or a TypeError naming `name`."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"dimension names must be non-empty strings; got {name!r}.")
    if isinstance(dim, list):
        dim = Categorical(dim)
    if not isinstance(dim, Dimension):
        raise TypeError(f"dimension {name!r} must be Real(...), Integer(...), Categorical(...) or a list of "
                        f"choices; got {dim!r} of type {type(dim).__name__}.")
    return dim


class Categorical(_Levels):
    """One of a list of choices (any objects); each owns an equal share 1/m of the unit interval.

    Given a dict `{choice: sub-space}`, each choice may carry a sub-space (a dict name -> dimension, or
    None): dimensions that exist only when that choice is made, as Hyperopt's `hp.choice`. A `Space`
    flattens them into conditional dimensions; `subspaces` holds them, aligned with `choices`.
    """

    def __init__(self, choices):
        subspaces = None
        if hasattr(choices, "items"):
            subspaces = tuple(_subspace(choice, sub) for choice, sub in choices.items())
            choices = list(choices)
        if isinstance(choices, (str, bytes)) or not hasattr(choices, "__len__"):
            raise TypeError(f"`choices` must be a list or tuple (or a dict choice -> sub-space); got {choices!r} "
                            f"of type {type(choices).__name__}.")
        choices = tuple(choices)
        if len(choices) == 0:
            raise ValueError("`choices` must not be empty.")
        for i, a in enumerate(choices):
            if _is_nan(a):
                raise ValueError(f"`choices` must not hold NaN (it equals nothing, itself included, so a stored study "
                                 f"could not find it again); got {list(choices)!r}. Use None or a string such as "
                                 "'nan' for a missing value.")
            for b in choices[:i]:
                if _same(a, b):
                    raise ValueError(f"`choices` must be distinct; {a!r} appears more than once in {list(choices)!r}.")
        self.choices = choices
        self.n_values = len(choices)
        self.json_native = all(isinstance(c, _JSON_SCALARS) for c in choices)
        self.subspaces = subspaces if subspaces is not None and any(subspaces) else None

    def value(self, k):
        return self.choices[int(k)]

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
            config = {"type": "categorical", "choices": list(self.choices)}
        else:
            config = {"type": "categorical", "choices_repr": [repr(c) for c in self.choices]}
        if self.subspaces is not None:
            config["subspaces"] = [None if sub is None else {name: dim.config() for name, dim in sub.items()}
                                   for sub in self.subspaces]
        return config

    def __repr__(self):
        if self.subspaces is None:
            return f"Categorical({list(self.choices)!r})"
        inner = ", ".join(f"{c!r}: {sub!r}" for c, sub in zip(self.choices, self.subspaces))
        return f"Categorical({{{inner}}})"


def dimension_from_config(config):
    """Inverse of `Dimension.config()`."""
    kind = config.get("type")
    if kind == "real":
        return Real(config["low"], config["high"], log=config["log"], step=config.get("step"))
    if kind == "integer":
        return Integer(config["low"], config["high"], log=config["log"], step=config.get("step", 1))
    if kind == "categorical":
        if "choices" not in config:
            raise ValueError(
                f"cannot rebuild a Categorical from its stored description {config['choices_repr']!r}: its choices "
                "are not JSON values; pass the `space` explicitly."
            )
        if config.get("subspaces") is None:
            return Categorical(config["choices"])
        return Categorical({choice: None if sub is None else {name: dimension_from_config(c) for name, c in sub.items()}
                            for choice, sub in zip(config["choices"], config["subspaces"])})
    raise ValueError(f"unknown dimension type {kind!r} in the stored space.")
