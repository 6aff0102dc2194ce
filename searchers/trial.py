"""Trials: the record of one evaluation of the objective, and the table they make together.

A trial is numbered 0, 1, 2, ... in the order it was asked, and moves from `running` to one of
`complete` (a finite value), `failed` (an exception, or a NaN/inf value; `error` says which) or
`pruned` (the objective raised `TrialPruned`, usually after `trial.should_prune()` said so).
In a study of several objectives (`Study(directions=[...])`) the objective returns a tuple of values,
kept as `trial.objective_values` (a list, one float per objective; `trial.value` is None there): a NaN,
inf or missing component fails the trial. (`trial.values()` stays the mapping method over the params.)

An objective receives the `Trial`, which reads as the mapping of its params (`trial["lr"]`,
`trial.items()`, `**trial`, `dict(trial)`), so `objective(params)` code works unchanged; and it may ask
for its values by name, as in Optuna (define-by-run):

    def objective(trial):
        optimizer = trial.suggest_categorical("optimizer", ["momentum", "adam"])
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        if optimizer == "momentum":                          # a branch: "momentum" exists in some trials only
            momentum = trial.suggest_float("momentum", 0.5, 0.99)
        ...

In a study created without a space, the space grows as names are first suggested, and a trial's params
hold the names it suggested. A name keeps one distribution in a study (a ValueError otherwise). The
searcher proposes values for the names the study knows when the trial is asked; a name seen for the
first time is drawn independently and uniformly in the unit interval of its dimension, from the stream
`Searcher.rng(INDEPENDENT_KEY, trial number, crc32(name))` of the study's seed, as Optuna's samplers
draw a new parameter with their independent sampler. In a study over a declared space, `suggest_*`
returns the trial's value after checking that the distribution is the declared one.
"""

import csv
import datetime
import io
import json
import math
import numbers
import zlib
from collections.abc import Mapping
from enum import Enum

import numpy as np

from tunelab.optimizers.validation import check_scalar
from tunelab.searchers.dimensions import Categorical, Integer, Real

INDEPENDENT_KEY = 7_340_033  # the first key of the stream a new define-by-run name is drawn from


class TrialState(str, Enum):
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    PRUNED = "pruned"

    @property
    def is_finished(self):
        return self is not TrialState.RUNNING

    def __str__(self):
        return self.value


# The attributes a cross-validation objective keeps with its trial, one entry per fold; SearchCV's
# cv_results_ is read from them (SearchCV, EpochCV and HypergradientCV write them by `set_cv_attrs`).
SPLIT_TEST_SCORES, FIT_TIMES, SCORE_TIMES = "split_test_scores", "fit_times", "score_times"


def set_cv_attrs(trial, test_scores, fit_times=None, score_times=None):
    """Keep with `trial` the per-fold test scores (and fit and score seconds) of a cross-validation objective."""
    trial.set_attr(SPLIT_TEST_SCORES, [float(s) for s in test_scores])
    if fit_times is not None:
        trial.set_attr(FIT_TIMES, [float(t) for t in fit_times])
    if score_times is not None:
        trial.set_attr(SCORE_TIMES, [float(t) for t in score_times])


class TrialPruned(Exception):
    """Raise it from an objective to stop a trial early; the trial is recorded as pruned, not failed."""


def independent_value(seed, number, name, dim):
    """The value of `dim` drawn for `name` in trial `number` when the searcher has none: from_unit(u), u uniform
    from the stream SeedSequence(seed, spawn_key=(INDEPENDENT_KEY, number, crc32(name))), which is
    `searcher.rng(INDEPENDENT_KEY, number, crc32(name))` for the study's seed."""
    key = (INDEPENDENT_KEY, int(number), zlib.crc32(name.encode("utf-8")))
    return dim.from_unit(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key)).random())


def _check_same(name, known, dim, where):
    if known != dim:
        raise ValueError(f"{name!r} is suggested as {dim!r}, but {where} has it as {known!r}: a name keeps one "
                         "distribution in a study; give another name to another range or list of choices.")


class Trial:
    """One evaluation: `number`, `params`, `state`, `value`, `error`, `start_time`, `end_time` (UNIX seconds);
    in a study of several objectives, `objective_values` (one float per objective) instead of `value`.

    The objective receives the trial (see `Study.optimize`). It reads as the mapping of its params
    (`trial["lr"]`, `"lr" in trial`, `trial.items()`, `**trial`), may ask for values by name with
    `suggest_float`, `suggest_int` and `suggest_categorical` (see the module docstring), report
    intermediate values with `trial.report(value, step)`, ask `trial.should_prune()`, and keep JSON-able
    extra results with `trial.set_attr(key, value)`. Trials compare by identity, not by their params.
    """

    __slots__ = ("number", "params", "state", "value", "objective_values", "error", "start_time", "end_time",
                 "intermediate_values", "attrs", "system_attrs", "_pruner", "_history",
                 "_space", "_proposal", "_seed", "_grow", "_dims")

    def __init__(self, number, params, state=TrialState.RUNNING, value=None, error=None, start_time=None,
                 end_time=None, intermediate_values=None, attrs=None, system_attrs=None, objective_values=None):
        self.number = number
        self.params = params
        self.state = TrialState(state)
        self.value = value
        self.objective_values = None if objective_values is None else [float(v) for v in objective_values]
        self.error = error
        self.start_time = start_time
        self.end_time = end_time
        self.intermediate_values = {} if intermediate_values is None else intermediate_values  # step -> value
        self.attrs = {} if attrs is None else attrs  # set by the objective
        self.system_attrs = {} if system_attrs is None else system_attrs  # set by tunelab ("lost", "worker")
        self._pruner = None  # set by the study while the trial runs
        self._history = None
        self._space = None  # the study's space when the trial was asked (`attach_space`)
        self._proposal = None  # define-by-run: the searcher's values for the names the study knew
        self._seed = None  # the study's seed, for names drawn independently
        self._grow = None  # define-by-run: grow(name, dim) adds a name to the study's space (same process)
        self._dims = {}  # define-by-run: name -> the dimension suggested in this trial

    # ---- the mapping of its params ------------------------------------------------------------

    def __getitem__(self, name):
        try:
            return self.params[name]
        except KeyError:
            raise KeyError(self._why_missing(name)) from None

    def __iter__(self):
        return iter(self.params)

    def __len__(self):
        return len(self.params)

    def __contains__(self, name):
        return name in self.params

    def __bool__(self):
        return True  # a trial is a trial, even before its first suggestion

    def keys(self):
        return self.params.keys()

    def values(self):
        return self.params.values()

    def items(self):
        return self.params.items()

    def get(self, name, default=None):
        return self.params.get(name, default)

    def _why_missing(self, name):
        space = self._space
        if space is not None and space.define_by_run:
            return (f"trial {self.number} has no {name!r}: ask for it first with trial.suggest_float({name!r}, ...), "
                    "suggest_int or suggest_categorical.")
        if space is not None and name in space and space.condition(name) is not None:
            parent, choices = space.condition(name)
            return (f"{name!r} is not active in trial {self.number}: it exists only when {parent} is one of "
                    f"{list(choices)!r}.")
        return f"trial {self.number} has no parameter {name!r}; its params are {list(self.params)}."

    # ---- define-by-run ----------------------------------------------------------------------------

    def suggest_float(self, name, low, high, *, log=False, step=None):
        """A real value for `name` in [low, high]: log-uniform with log=True, one of low + k step with `step`."""
        return self._suggest(name, Real(low, high, log=log, step=step))

    def suggest_int(self, name, low, high, *, log=False, step=1):
        """An integer for `name` in [low, high], one of low + k step; log-uniform with log=True (step 1)."""
        return self._suggest(name, Integer(low, high, log=log, step=step))

    def suggest_categorical(self, name, choices):
        """One of `choices` (None, bool, int, float or str, as Optuna's, so that a study stores them) for `name`."""
        if isinstance(choices, (list, tuple)):
            odd = [c for c in choices if not isinstance(c, (str, int, float, bool, type(None)))]
            if odd:
                raise TypeError(f"suggest_categorical({name!r}, choices) takes None, bool, int, float and str choices; "
                                f"got {odd[0]!r} of type {type(odd[0]).__name__}. Declare the space as a dict "
                                "(Categorical takes any objects) to choose among objects.")
        return self._suggest(name, Categorical(choices))

    def _suggest(self, name, dim):
        if not isinstance(name, str) or not name:
            raise TypeError(f"a parameter name must be a non-empty string; got {name!r}.")
        space = self._space
        if space is None:
            raise RuntimeError(f"trial {self.number} was not asked from a study, so it has nothing to suggest; "
                               "use Study.ask() or Study.optimize.")
        if not space.define_by_run:
            return self._declared(space, name, dim)
        if name in self._dims:
            _check_same(name, self._dims[name], dim, f"trial {self.number}")
            return self.params[name]
        known = space[name] if name in space else None
        if known is not None:
            _check_same(name, known, dim, "the study")
        if self._grow is not None:
            self._grow(name, dim)  # a ValueError when another trial gave the name another distribution
        if known is not None and name in self._proposal:
            value = self._proposal[name]
        else:
            value = independent_value(self._seed, self.number, name, dim)
        self._dims[name] = dim
        self.params[name] = value
        return value

    def _declared(self, space, name, dim):
        """suggest_* in a study over a declared space: the trial's value, once the distribution is checked."""
        if name not in space:
            raise ValueError(f"{name!r} is not in the study's space {list(space.names)}; a declared space does not "
                             "grow. Create the Study without a space to define it by run.")
        _check_same(name, space[name], dim, "the study's space")
        if name not in self.params:
            raise ValueError(self._why_missing(name))
        return self.params[name]

    @property
    def duration(self):
        """end_time - start_time in seconds, or None while running."""
        if self.start_time is None or self.end_time is None:
            return None
        return self.end_time - self.start_time

    @property
    def lost(self):
        """True when the trial never finished because its process died or the study was interrupted."""
        return "lost" in self.system_attrs

    def report(self, value, step=None):
        """Record an intermediate value (e.g. the validation loss after `step` epochs) for a pruner."""
        value = check_value(value, "report(value)")
        if step is None:
            step = len(self.intermediate_values)
        check_scalar(step, "step", numbers.Integral, low=0)
        self.intermediate_values[int(step)] = value

    def should_prune(self):
        """Ask the study's pruner whether to stop this trial now; always False without a pruner."""
        if self._pruner is None:
            return False
        return bool(self._pruner.should_prune(self, self._history))

    def set_attr(self, key, value):
        """Keep a JSON-able result with the trial (stored with it, exported with the table)."""
        if not isinstance(key, str):
            raise TypeError(f"attribute keys must be strings; got {key!r}.")
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"attribute {key!r} must be JSON-able (numbers, strings, lists, dicts); {exc}.") from None
        self.attrs[key] = value

    def to_dict(self):
        return {"number": self.number, "state": self.state.value, "value": self.value, "params": self.params,
                "error": self.error, "start_time": self.start_time, "end_time": self.end_time,
                "intermediate_values": {str(k): v for k, v in self.intermediate_values.items()},
                "attrs": self.attrs, "system_attrs": self.system_attrs, "objective_values": self.objective_values}

    @classmethod
    def from_dict(cls, d):
        return cls(d["number"], d["params"], d["state"], d["value"], d["error"], d["start_time"], d["end_time"],
                   {int(k): v for k, v in d.get("intermediate_values", {}).items()},
                   d.get("attrs", {}), d.get("system_attrs", {}), d.get("objective_values"))

    def copy(self):
        """A copy of the record, with what it needs to suggest values (not its link to the study)."""
        copy = Trial(self.number, dict(self.params), self.state, self.value, self.error, self.start_time,
                     self.end_time, dict(self.intermediate_values), dict(self.attrs), dict(self.system_attrs),
                     self.objective_values)
        copy._space, copy._proposal, copy._seed, copy._dims = self._space, self._proposal, self._seed, dict(self._dims)
        return copy

    def __getstate__(self):  # a trial sent to another process carries its pruner, a frozen history, its space
        return {"record": self.to_dict(), "params": self.params, "pruner": self._pruner, "history": self._history,
                "space": self._space, "proposal": self._proposal, "seed": self._seed, "dims": self._dims}

    def __setstate__(self, state):
        copy = Trial.from_dict(state["record"])
        for name in Trial.__slots__:
            if not name.startswith("_"):
                setattr(self, name, getattr(copy, name))
        self.params = state["params"]  # params as given (choices that are not JSON values included)
        self._pruner, self._history = state["pruner"], state["history"]
        self._space, self._proposal, self._seed = state["space"], state["proposal"], state["seed"]
        self._grow, self._dims = None, state["dims"]

    def __repr__(self):
        shown = f", value={self.value!r}" if self.value is not None else ""
        shown += f", objective_values={self.objective_values!r}" if self.objective_values is not None else ""
        shown += f", error={self.error!r}" if self.error else ""
        return f"Trial(number={self.number}, state={self.state.value}, params={self.params!r}{shown})"


Mapping.register(Trial)  # isinstance(trial, Mapping), without Mapping's __eq__ (trials compare by identity)


def attach_space(trial, space, seed, proposal=None, grow=None):
    """Let `trial.suggest_*` work: `space` is the study's space when the trial was asked, `seed` the study's
    seed; in a define-by-run study, `proposal` holds the searcher's values for the names it knew, and
    grow(name, dim) (None in another process) adds a name to the study's space or raises a ValueError."""
    trial._space, trial._seed, trial._proposal, trial._grow = space, seed, proposal, grow


def suggested_dimensions(trial):
    """name -> dimension of what the trial suggested in a define-by-run study (empty otherwise)."""
    return dict(trial._dims)


def attach_pruner(trial, pruner, history):
    """Let `trial.should_prune()` ask `pruner.should_prune(trial, history)` while the trial runs;
    attach_pruner(trial, None, None) detaches it (the study does so when it records the trial)."""
    trial._pruner, trial._history = pruner, history


def to_worker(trial):
    """The trial as another process receives it: with a pruner, a copy whose pruner reads a frozen
    history (`History.frozen`, a snapshot that no longer follows the study); without one, the trial."""
    if trial._pruner is None:
        return trial
    sent = trial.copy()
    attach_pruner(sent, trial._pruner, trial._history.frozen())
    return sent


def is_real_number(value):
    """The rule for a value: a real number, Python's or numpy's (int, float, Fraction, numpy integer and
    floating scalars), not a bool (nor numpy.bool_), a string or an array; the rule SearchCV's scorers
    follow too (tunelab.core.model_selection: `numbers.Real` and not bool)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _shown(value):
    """repr of a value for an error message, an integer too long to print as its number of digits."""
    if isinstance(value, numbers.Integral) and abs(int(value)).bit_length() > 100:
        return f"an integer of about {int(abs(int(value)).bit_length() * 0.30103) + 1} digits"
    return repr(value)


def check_value(value, who="the objective"):
    """`value` as a finite float when it is a real number (`is_real_number`); a TypeError for anything else
    (a string such as "1.5", a bool, None, an array), a ValueError for NaN, inf or a number beyond the
    float range (10**400)."""
    if not is_real_number(value):
        raise TypeError(f"{who} must return a real number; got {_shown(value)} of type {type(value).__name__} "
                        "(an int or float, Python's or numpy's, counts; a bool, str or array does not).")
    try:
        number = float(value)
    except (OverflowError, ValueError, TypeError):
        raise ValueError(f"{who} returned {_shown(value)}, beyond the range of a float; a finite number is "
                         "required.") from None
    if not math.isfinite(number):
        raise ValueError(f"{who} returned {number!r}; a finite number is required.")
    return number


def check_objective(value, who="the objective"):
    """check_value for what an objective returns: a finite float, or for several objectives (a tuple, list
    or 1-D array) a tuple of finite floats; a ValueError/TypeError naming the component otherwise."""
    if isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray) and value.ndim == 1):
        if len(value) == 0:
            raise ValueError(f"{who} returned an empty sequence; one value per objective is required.")
        return tuple(check_value(v, f"{who} (component {k} of {len(value)})") for k, v in enumerate(value))
    return check_value(value, who)


def fit_to_objectives(value, n_objectives, who="the objective"):
    """A checked value (float or tuple, see `check_objective`) for a study of `n_objectives`: a float for
    one objective (a 1-tuple is taken too), a list of floats for several; a ValueError when the count differs."""
    count = len(value) if isinstance(value, tuple) else 1
    if count != n_objectives:
        several = "several" if count > 1 else "one"
        raise ValueError(f"{who} returned {count} value{'s' * (count > 1)} ({several}); the study has "
                         f"{n_objectives} objective{'s' * (n_objectives > 1)}: return one value per direction.")
    if n_objectives == 1:
        return value[0] if isinstance(value, tuple) else value
    return list(value)


class Outcome:
    """What happened when an objective ran: picklable, so it can come back from another process.
    `params` and `dims` (None unless set by `evaluate`): the trial's params and the dimensions it suggested
    in a define-by-run study, which the study takes back from a trial run in another process."""

    __slots__ = ("state", "value", "error", "intermediate_values", "attrs", "exc", "exc_types", "params", "dims")

    def __init__(self, state, value=None, error=None, intermediate_values=None, attrs=None, exc=None):
        self.state, self.value, self.error, self.exc = state, value, error, exc
        self.intermediate_values = intermediate_values or {}
        self.attrs = attrs or {}
        self.exc_types = () if exc is None else tuple(c.__name__ for c in type(exc).__mro__)  # survive pickling
        self.params, self.dims = None, None

    def __getstate__(self):
        return {"state": self.state, "value": self.value, "error": self.error, "exc_types": self.exc_types,
                "intermediate_values": self.intermediate_values, "attrs": self.attrs,
                "params": self.params, "dims": self.dims}  # the exception stays here

    def __setstate__(self, state):
        for name, value in state.items():
            setattr(self, name, value)
        self.exc = None


def error_text(exc):
    """'ValueError: message' (the class name without its module, as a user reads it)."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def evaluate(objective, trial, pass_trial=True):
    """Run objective(trial) (or, pass_trial=False, objective(a dict copy of trial.params)) and turn what
    happens into an Outcome, which carries the trial's params and suggested dimensions back.

    An exception (Exception, not KeyboardInterrupt) gives a failed outcome carrying it; a NaN, inf or
    non-number value a failed one without exception; `TrialPruned` a pruned one (its value is the last
    reported intermediate value, if any).
    """
    try:
        returned = objective(trial) if pass_trial else objective(dict(trial.params))
    except TrialPruned as pruned:
        steps = trial.intermediate_values
        outcome = Outcome(TrialState.PRUNED, steps[max(steps)] if steps else None, str(pruned) or None)
    except Exception as exc:
        outcome = Outcome(TrialState.FAILED, error=error_text(exc), exc=exc)
    else:
        try:
            outcome = Outcome(TrialState.COMPLETE, check_objective(returned))
        except (TypeError, ValueError) as exc:
            outcome = Outcome(TrialState.FAILED, error=str(exc))
    outcome.intermediate_values = dict(trial.intermediate_values)
    outcome.attrs = dict(trial.attrs)
    outcome.params, outcome.dims = dict(trial.params), dict(trial._dims)
    return outcome


def wants_trial(objective=None, pass_trial=None):
    """The rule for what an objective receives: the `Trial` (pass_trial None or True), which reads as the
    mapping of its params, so an objective gets it whatever its parameter is called and `objective(params)`
    code that reads params["lr"] works unchanged; with pass_trial=False, a plain dict copy of the params
    (for code that needs a real dict, e.g. to json.dumps it)."""
    return pass_trial is not False


def _iso(t):
    """UNIX seconds as local ISO time; a time outside the calendar (a hand-edited file) as its number."""
    if t is None:
        return ""
    try:
        return datetime.datetime.fromtimestamp(t).isoformat(timespec="milliseconds")
    except (OverflowError, OSError, ValueError):
        return repr(t)


def value_columns(n_objectives=1):
    """The value columns of the trials table: "value", or values_0, ..., values_<m-1> for m objectives."""
    return ["value"] if n_objectives == 1 else [f"values_{k}" for k in range(n_objectives)]


def trials_table(trials, names, n_objectives=1):
    """Rows (dicts) of the trials table: number, state, value (values_0, values_1, ... for several
    objectives), params_<name>..., times, duration, error."""
    rows = []
    for t in trials:
        row = {"number": t.number, "state": t.state.value}
        if n_objectives == 1:
            row["value"] = t.value
        else:
            vector = t.objective_values or [None] * n_objectives
            row.update(zip(value_columns(n_objectives), vector))
        for name in names:
            row[f"params_{name}"] = t.params.get(name)
        row.update(start_time=_iso(t.start_time), end_time=_iso(t.end_time), duration=t.duration, error=t.error)
        rows.append(row)
    return rows


def _jsonable(value):
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


def to_csv(trials, names, path=None, n_objectives=1):
    """The trials table as CSV text (written to `path` when given); params that are objects appear as repr."""
    rows = trials_table(trials, names, n_objectives)
    buffer = io.StringIO()
    fields = ["number", "state", *value_columns(n_objectives), *[f"params_{n}" for n in names], "start_time", "end_time",
              "duration", "error"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v if isinstance(v, (int, float, str)) else repr(v))
                         for k, v in row.items()})
    text = buffer.getvalue()
    if path is not None:
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    return text


def to_json(trials, path=None):
    """Every trial as a JSON list of records (Trial.to_dict); params that are not JSON values appear as repr."""
    records = []
    for t in trials:
        record = t.to_dict()
        record["params"] = {k: _jsonable(v) for k, v in t.params.items()}
        record["duration"] = t.duration
        records.append(record)
    text = json.dumps(records, indent=1)
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return text
