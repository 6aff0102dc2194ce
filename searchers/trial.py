"""Trials: the record of one evaluation of the objective, and the table they make together.

A trial is numbered 0, 1, 2, ... in the order it was asked, and moves from `running` to one of
`complete` (a finite value), `failed` (an exception, or a NaN/inf value; `error` says which) or
`pruned` (the objective raised `TrialPruned`, usually after `trial.should_prune()` said so).
"""

import csv
import datetime
import inspect
import io
import json
import math
import numbers
from enum import Enum

from tunelab.optimizers.validation import check_scalar


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


class Trial:
    """One evaluation: `number`, `params`, `state`, `value`, `error`, `start_time`, `end_time` (UNIX seconds).

    An objective that takes a trial (see `Study.optimize`) reads `trial.params`, may report
    intermediate values with `trial.report(value, step)`, ask `trial.should_prune()`, and keep
    JSON-able extra results with `trial.set_attr(key, value)`.
    """

    __slots__ = ("number", "params", "state", "value", "error", "start_time", "end_time",
                 "intermediate_values", "attrs", "system_attrs", "_pruner", "_history")

    def __init__(self, number, params, state=TrialState.RUNNING, value=None, error=None, start_time=None,
                 end_time=None, intermediate_values=None, attrs=None, system_attrs=None):
        self.number = number
        self.params = params
        self.state = TrialState(state)
        self.value = value
        self.error = error
        self.start_time = start_time
        self.end_time = end_time
        self.intermediate_values = {} if intermediate_values is None else intermediate_values  # step -> value
        self.attrs = {} if attrs is None else attrs  # set by the objective
        self.system_attrs = {} if system_attrs is None else system_attrs  # set by tunelab ("lost", "worker")
        self._pruner = None  # set by the study while the trial runs
        self._history = None

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
                "attrs": self.attrs, "system_attrs": self.system_attrs}

    @classmethod
    def from_dict(cls, d):
        return cls(d["number"], d["params"], d["state"], d["value"], d["error"], d["start_time"], d["end_time"],
                   {int(k): v for k, v in d.get("intermediate_values", {}).items()},
                   d.get("attrs", {}), d.get("system_attrs", {}))

    def copy(self):
        return Trial(self.number, dict(self.params), self.state, self.value, self.error, self.start_time,
                     self.end_time, dict(self.intermediate_values), dict(self.attrs), dict(self.system_attrs))

    def __getstate__(self):  # a trial sent to another process carries its pruner and a frozen history
        return {"record": self.to_dict(), "params": self.params, "pruner": self._pruner, "history": self._history}

    def __setstate__(self, state):
        copy = Trial.from_dict(state["record"])
        for name in Trial.__slots__:
            if not name.startswith("_"):
                setattr(self, name, getattr(copy, name))
        self.params = state["params"]  # params as given (choices that are not JSON values included)
        self._pruner, self._history = state["pruner"], state["history"]

    def __repr__(self):
        shown = f", value={self.value!r}" if self.value is not None else ""
        shown += f", error={self.error!r}" if self.error else ""
        return f"Trial(number={self.number}, state={self.state.value}, params={self.params!r}{shown})"


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


def check_value(value, who="the objective"):
    """A finite float, or a ValueError/TypeError saying what came back."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        try:
            value = float(value)  # 0-d and size-1 numpy arrays
        except (TypeError, ValueError):
            raise TypeError(f"{who} must return a real number; got {value!r} of type {type(value).__name__}.") from None
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{who} returned {value!r}; a finite number is required.")
    return value


class Outcome:
    """What happened when an objective ran: picklable, so it can come back from another process."""

    __slots__ = ("state", "value", "error", "intermediate_values", "attrs", "exc", "exc_types")

    def __init__(self, state, value=None, error=None, intermediate_values=None, attrs=None, exc=None):
        self.state, self.value, self.error, self.exc = state, value, error, exc
        self.intermediate_values = intermediate_values or {}
        self.attrs = attrs or {}
        self.exc_types = () if exc is None else tuple(c.__name__ for c in type(exc).__mro__)  # survive pickling

    def __getstate__(self):
        return {"state": self.state, "value": self.value, "error": self.error, "exc_types": self.exc_types,
                "intermediate_values": self.intermediate_values, "attrs": self.attrs}  # the exception stays here

    def __setstate__(self, state):
        for name, value in state.items():
            setattr(self, name, value)
        self.exc = None


def error_text(exc):
    """'ValueError: message' (the class name without its module, as a user reads it)."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def evaluate(objective, trial, pass_trial):
    """Run objective(trial) or objective(trial.params) and turn what happens into an Outcome.

    An exception (Exception, not KeyboardInterrupt) gives a failed outcome carrying it; a NaN, inf or
    non-number value a failed one without exception; `TrialPruned` a pruned one (its value is the last
    reported intermediate value, if any).
    """
    try:
        returned = objective(trial) if pass_trial else objective(trial.params)
    except TrialPruned as pruned:
        steps = trial.intermediate_values
        outcome = Outcome(TrialState.PRUNED, steps[max(steps)] if steps else None, str(pruned) or None)
    except Exception as exc:
        outcome = Outcome(TrialState.FAILED, error=error_text(exc), exc=exc)
    else:
        try:
            outcome = Outcome(TrialState.COMPLETE, check_value(returned))
        except (TypeError, ValueError) as exc:
            outcome = Outcome(TrialState.FAILED, error=str(exc))
    outcome.intermediate_values = dict(trial.intermediate_values)
    outcome.attrs = dict(trial.attrs)
    return outcome


def wants_trial(objective, pass_trial=None):
    """The rule for what an objective receives: a `Trial` if `pass_trial` is True, or (pass_trial=None)
    if its first parameter is named `trial` or annotated `Trial`; otherwise the params dict."""
    if pass_trial is not None:
        return bool(pass_trial)
    try:
        signature = inspect.signature(objective)
    except (TypeError, ValueError):
        return False
    positional = [p for p in signature.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not positional:
        return False
    first = positional[0]
    return first.name == "trial" or first.annotation is Trial or first.annotation == "Trial"


def _iso(t):
    """UNIX seconds as local ISO time; a time outside the calendar (a hand-edited file) as its number."""
    if t is None:
        return ""
    try:
        return datetime.datetime.fromtimestamp(t).isoformat(timespec="milliseconds")
    except (OverflowError, OSError, ValueError):
        return repr(t)


def trials_table(trials, names):
    """Rows (dicts) of the trials table: number, state, value, params_<name>..., times, duration, error."""
    rows = []
    for t in trials:
        row = {"number": t.number, "state": t.state.value, "value": t.value}
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


def to_csv(trials, names, path=None):
    """The trials table as CSV text (written to `path` when given); params that are objects appear as repr."""
    rows = trials_table(trials, names)
    buffer = io.StringIO()
    fields = ["number", "state", "value", *[f"params_{n}" for n in names], "start_time", "end_time",
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
