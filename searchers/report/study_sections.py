"""The report's sections drawn from the studies alone: the leaderboard, best so far, parallel coordinates,
slices, importance and the Pareto front. Each is a function of a `ReportContext` that returns a `Section`,
or None when it has nothing to show."""

import numpy as np

from tunelab.searchers.report.context import (
    complete_trials, is_multiobjective, params_text, running_best, show,
)
from tunelab.searchers.report.coordinates import Axis, parallel_coordinates, pareto_plot
from tunelab.searchers.report.html import Section, escape, figure, figures, html_legend, note, table
from tunelab.searchers.report.plots import POINT_PAD, Series, bar_chart, line_plot, scatter_plot
from tunelab.searchers.report.svg import data_range, series_colour
from tunelab.searchers.space import Categorical
from tunelab.searchers.trial import TrialState


def leaderboard_section(ctx):
    """The leaderboard (given rows, or one row per study) and the command that produced the run."""
    if ctx.leaderboard is not None:
        rows, columns = ctx.leaderboard
    else:
        rows, columns = [], ["searcher", "trials", "complete", "failed", "best value", "best params"]
        for label, study in ctx.studies.items():
            trials, complete = study.trials, complete_trials(study) if not is_multiobjective(study) else []
            pick = max if getattr(study, "direction", "minimize") == "maximize" else min
            best = pick(complete, key=lambda t: t.value) if complete else None
            rows.append({"searcher": label, "trials": len(trials), "complete": len(complete),
                         "failed": sum(t.state is TrialState.FAILED for t in trials),
                         "best value": best.value if best else "",
                         "best params": params_text(best.params) if best else ""})
    body = "".join(f"<p>{escape(line)}</p>" for line in ctx.header)
    body += table(rows, columns, numeric=("trials", "failed", "complete"))
    if ctx.command:
        body += f"<p>Produced by:</p><pre><code>{escape(ctx.command)}</code></pre>"
    return Section("leaderboard", "Leaderboard", body)


def _by_time(trials, maximize):
    """(seconds since the study's first trial started, best so far) in order of finishing."""
    start = min((t.start_time for t in trials if t.start_time), default=0.0)
    done = sorted((t for t in trials if t.end_time), key=lambda t: t.end_time)
    values = [t.value if t.state is TrialState.COMPLETE else None for t in done]
    return [t.end_time - start for t in done], running_best(values, maximize)


def history_section(ctx):
    """Best value so far against the trial number and against wall time, one line per searcher."""
    studies = ctx.single
    if not any(complete_trials(s) for s in studies.values()):
        return None
    by_trial, by_time = [], []
    for k, (label, study) in enumerate(studies.items()):
        trials = study.trials
        values = [t.value if t.state is TrialState.COMPLETE else None for t in trials]
        best = running_best(values, ctx.maximize)
        tips = [f"{label}, trial {t.number}: best so far {show(b)}" + (f" (this trial {show(v)})" if v is not None
                                                                       else f" (this trial {t.state.value})")
                for t, v, b in zip(trials, values, best)]
        by_trial.append(Series(label, list(range(1, len(trials) + 1)), best, colour=series_colour(k), markers=True,
                               tooltips=tips))
        seconds, best_t = _by_time(trials, ctx.maximize)
        by_time.append(Series(label, seconds, best_t, colour=series_colour(k)))
    end = max((x for s in by_time for x in s.x), default=1.0)
    word = "highest" if ctx.maximize else "lowest"
    body = figures(
        figure(line_plot(by_trial, xlabel="trial", ylabel=f"best {ctx.value_label}", step=True, legend=True,
                         title="Best so far, by trial"), f"The {word} {ctx.value_label} found after each trial."),
        figure(line_plot(by_time, xlabel="seconds", ylabel=f"best {ctx.value_label}", step=True, legend=True,
                         title="Best so far, by wall time", xlim=(0.0, end if end > 0 else 1.0)),
               "The same against seconds since each search started (trials in the order they finished)."))
    return Section("history", "Best so far", body)


def _axis(name, dim, values):
    if isinstance(dim, Categorical):
        return Axis(name, values, categories=[show(c) for c in dim.choices])
    return Axis(name, values, log=dim.log, domain=(dim.low, dim.high))


def _pooled(ctx):
    """(label, trial) for the complete trials of every single-objective study."""
    return [(label, t) for label, s in ctx.single.items() for t in complete_trials(s)]


def _tip(label, t):
    return f"{label}, trial {t.number}: {show(t.value)}; {params_text(t.params)}"


def parallel_section(ctx):
    """Parallel coordinates of every complete trial, coloured by value."""
    pooled = _pooled(ctx)
    if not pooled:
        return None
    trials = [t for _, t in pooled]
    names = [name for name in ctx.space.names if all(name in t.params for t in trials)]
    axes = [_axis(name, ctx.space[name], ctx.axis_values(name, trials)) for name in names]
    values = [t.value for t in trials]
    axes.append(Axis(ctx.value_label, values))
    svg = parallel_coordinates(axes, values, colour_label=ctx.value_label, tooltips=[_tip(lb, t) for lb, t in pooled],
                               better="high" if ctx.maximize else "low", title="Parallel coordinates")
    caption = (f"{len(trials)} complete trials of {', '.join(ctx.single)}; one line per trial through its "
               f"hyperparameters and its {ctx.value_label} (the last axis), lighter for higher values.")
    sometimes = [name for name in ctx.space.names if name not in names]
    notes = [f"Axes for the hyperparameters every trial sets; {', '.join(sometimes)} exist only in some trials "
             "(their slices below show them)."] if sometimes else []
    return Section("parallel", "Parallel coordinates", figure(svg, caption), notes=notes)


def slices_section(ctx):
    """One scatter per hyperparameter: the value of each complete trial against that hyperparameter."""
    single = ctx.single
    if not any(complete_trials(s) for s in single.values()):
        return None
    plots = []
    for name, dim in ctx.space.items():
        groups = []
        for k, (label, study) in enumerate(single.items()):
            trials = [t for t in complete_trials(study) if name in t.params]  # the trials where `name` is active
            groups.append((label, ctx.axis_values(name, trials), [t.value for t in trials],
                           [_tip(label, t) for t in trials], series_colour(k)))
        if not any(g[1] for g in groups):
            continue
        log = bool(getattr(dim, "log", False))
        categories = [show(c) for c in dim.choices] if isinstance(dim, Categorical) else None
        xlim = None if categories else data_range([dim.low, dim.high], POINT_PAD, log)
        svg = scatter_plot(groups, xlabel=name + (" (log scale)" if log else ""), ylabel=ctx.value_label, title=name,
                           xlog=log, xcategories=categories, xlim=xlim, legend=False)
        plots.append(figure(svg))
    key = html_legend(list(single)) if len(single) > 1 else ""
    return Section("slices", "Slices", key + figures(*plots),
                   notes=["Each point is a complete trial; its tooltip gives its searcher, number, value and params. "
                          "The x axes span each hyperparameter's whole range in the search space."])


def importance_section(ctx):
    """The importance bar chart (functional ANOVA of a GP fitted to every complete trial, over the
    hyperparameters they all set)."""
    if not ctx.single:
        return None
    shares, reason = ctx.importance
    if shares is None:
        return Section("importance", "Hyperparameter importance", note(f"Not computed: {reason}"))
    main = {k: v for k, v in shares.items() if isinstance(k, str)}
    n = sum(len(complete_trials(s)) for s in ctx.single.values())
    svg = bar_chart(list(main), list(main.values()), xlabel=f"share of the variance of the {ctx.value_label}",
                    title="Hyperparameter importance", xlim=(0.0, max(1e-12, max(main.values()))))
    rest = max(0.0, 1.0 - sum(main.values()))
    caption = (f"Functional ANOVA (Hutter, Hoos & Leyton-Brown, ICML 2014) of a Gaussian process fitted to {n} "
               f"complete trials: the share of the variance over the search space that each hyperparameter "
               f"explains alone. Interactions explain the remaining {rest:.0%}.")
    sometimes = [name for name in ctx.space.names if name not in main]
    notes = [f"Over the hyperparameters every complete trial sets (the intersection search space); "
             f"{', '.join(sometimes)} exist only in some trials, so the fit averages over them and a choice between "
             "branches gets the share of the differences between its branches."] if sometimes else []
    return Section("importance", "Hyperparameter importance", figure(svg, caption), notes=notes)


def pareto_section(ctx):
    """The Pareto front of each multi-objective study (its first two objectives)."""
    multi = {label: s for label, s in ctx.studies.items() if is_multiobjective(s)}
    if not multi:
        return None
    plots, notes = [], []
    for label, study in multi.items():
        directions = list(study.directions)
        trials = [t for t in study.trials if t.state is TrialState.COMPLETE and t.objective_values is not None]
        if not trials:
            notes.append(f"{label}: no complete trial yet.")
            continue
        points = np.array([list(t.objective_values)[:2] for t in trials], dtype=np.float64)
        names = [f"objective {k + 1}" for k in range(2)]
        tips = [f"{label}, trial {t.number}: {', '.join(show(v) for v in t.objective_values)}; {params_text(t.params)}"
                for t in trials]
        plots.append(figure(pareto_plot(points, directions=directions[:2], labels=names, tooltips=tips,
                                        title=f"Pareto front, {label}")))
        if len(directions) > 2:
            notes.append(f"{label}: {len(directions)} objectives; the plot shows the first two.")
    return Section("pareto", "Pareto front", figures(*plots), notes=notes)
