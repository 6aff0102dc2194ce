"""What the report's sections are drawn from: the studies (one per searcher), and, when given, the best
model, its data and the command that produced the run. Values computed once (the importance) are kept."""

import functools
import math

from tunelab.searchers.fanova import importance
from tunelab.searchers.space import Categorical
from tunelab.searchers.trial import TrialState


def is_multiobjective(study):
    """True for a study with several objectives (`directions` of length > 1)."""
    return len(getattr(study, "directions", None) or ()) > 1


def complete_trials(study):
    """The complete trials of a single-objective study with a finite value, in trial order."""
    return [t for t in study.trials if t.state is TrialState.COMPLETE and t.value is not None
            and math.isfinite(t.value)]


def running_best(values, maximize):
    """The best value so far after each entry (None until the first finite value)."""
    best, out = None, []
    for v in values:
        if v is not None and math.isfinite(v) and (best is None or (v > best if maximize else v < best)):
            best = v
        out.append(best)
    return out


def show(value):
    """A parameter value as text: floats to 3 significant digits."""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def params_text(params):
    return ", ".join(f"{k}={show(v)}" for k, v in params.items())


class ReportContext:
    """The inputs of one report.

    studies : {label: Study} (one per searcher, over one space).
    model : the fitted best model or None; X, y its training data, X_test, y_test the held-out split.
    scoring, cv : how the model's curves score it (the search's own scoring, by default).
    leaderboard : (rows, columns) or None; command : the command line that produced the run, or None.
    value_label : the name of a trial's value on axes (e.g. "3-fold CV accuracy").
    """

    def __init__(self, studies, *, model=None, X=None, y=None, X_test=None, y_test=None, scoring=None, cv=3,
                 leaderboard=None, command=None, header=(), value_label="objective value", random_state=0):
        self.studies = dict(studies)
        self.model, self.X, self.y, self.X_test, self.y_test = model, X, y, X_test, y_test
        self.scoring, self.cv = scoring, cv
        self.leaderboard, self.command, self.header = leaderboard, command, list(header)
        self.value_label = value_label
        self.random_state = random_state

    @property
    def single(self):
        """The single-objective studies, {label: study}."""
        return {label: s for label, s in self.studies.items() if not is_multiobjective(s)}

    @property
    def space(self):
        return next(iter(self.studies.values())).space

    @property
    def maximize(self):
        return any(getattr(s, "direction", "minimize") == "maximize" for s in self.single.values())

    @functools.cached_property
    def importance(self):
        """(shares, None) from `importance` over the pooled single-objective studies, or (None, reason)."""
        studies = list(self.single.values())
        if not studies:
            return None, "no single-objective study"
        try:
            return importance(studies, random_state=self.random_state), None
        except (ValueError, TypeError, ArithmeticError) as exc:
            return None, str(exc)

    def most_important(self):
        """The numeric (Real or Integer) hyperparameter with the largest share, or None: one every complete
        trial sets (the importance runs over those), so a validation curve can move it along its range."""
        shares, _ = self.importance
        names = [k for k in (shares or {}) if isinstance(k, str) and not isinstance(self.space[k], Categorical)]
        return names[0] if names else None

    def axis_values(self, name, trials):
        """The x of each trial on the axis of `name`: the value, or its choice index for a categorical
        (the trials must all set `name`; in a conditional space some trials do not)."""
        dim = self.space[name]
        if isinstance(dim, Categorical):
            return [dim.index(t.params[name]) for t in trials]
        return [t.params[name] for t in trials]
