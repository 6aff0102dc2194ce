"""The one place where tunelab checks scalar arguments and turns seeds into generators.

Every public function and constructor validates through these helpers so that error
messages read the same everywhere: "`lr` must be > 0; got -0.1."
"""

import numbers

import numpy as np


class ConvergenceError(RuntimeError):
    """A fit diverged: its loss became NaN or infinite. Searchers catch it and record a failed trial."""


class ConvergenceWarning(UserWarning):
    """A fit ran out of epochs (or L-BFGS iterations) before its stopping rule was met: the weights may be
    short of the optimum. As scikit-learn's ConvergenceWarning; silence it with
    `warnings.filterwarnings("ignore", category=ConvergenceWarning)` where under-training is intended."""


def check_scalar(value, name, kind=numbers.Real, *, low=None, high=None,
                 low_inclusive=True, high_inclusive=True, allow_none=False):
    """Return `value` if it is a `kind` inside [low, high] (bounds optional); raise a clear error otherwise.

    `kind` is `numbers.Real` or `numbers.Integral`; booleans are refused for both.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if kind is numbers.Integral else "a real number"
        raise TypeError(f"`{name}` must be {what}; got {value!r} of type {type(value).__name__}.")
    if kind is numbers.Real and not np.isfinite(value):
        raise ValueError(f"`{name}` must be finite; got {value!r}.")
    if low is not None:
        if value < low or (value == low and not low_inclusive):
            sign = ">=" if low_inclusive else ">"
            raise ValueError(f"`{name}` must be {sign} {low}; got {value!r}.")
    if high is not None:
        if value > high or (value == high and not high_inclusive):
            sign = "<=" if high_inclusive else "<"
            raise ValueError(f"`{name}` must be {sign} {high}; got {value!r}.")
    return value


def check_bool(value, name):
    """Return `value` as a bool if it is True or False (numpy's bool too); raise a TypeError otherwise."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False; got {value!r} of type {type(value).__name__}.")
    return bool(value)


def check_choice(value, name, choices):
    """Return `value` if it is one of `choices`; raise a ValueError that lists them otherwise."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {allowed}; got {value!r}.")
    return value


def check_random_state(random_state, name="random_state"):
    """Turn None, an int seed (>= 0) or a Generator into a `numpy.random.Generator` (the only source of
    randomness); `name` is the argument's name in the messages."""
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)
    if isinstance(random_state, (numbers.Integral, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"`{name}` must be a non-negative int seed (or None, or a numpy.random.Generator); "
                             f"got {random_state!r}.")
        return np.random.default_rng(random_state)
    raise TypeError(
        f"`{name}` must be None, an int seed or a numpy.random.Generator; "
        f"got {random_state!r} of type {type(random_state).__name__}."
    )
