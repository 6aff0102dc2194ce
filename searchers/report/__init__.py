"""The HTML report of a search: one self-contained `report.html` (inline SVG, no script, no network).

    from tunelab.searchers import write_report
    write_report(study, "report.html")                                   # the study's sections
    write_report(search, "report.html", X=X_train, y=y_train, X_test=X_test, y_test=y_test)  # a fitted SearchCV
    write_report({"random": study_a, "bayes": study_b}, "report.html")   # searchers side by side

- svg.py: scales, ticks, the canvas, axes and legends; the Okabe-Ito and viridis colours.
- plots.py: line plots (with bands), scatters, bar charts, heat maps, colour bars.
- coordinates.py: parallel coordinates, and the Pareto front of two objectives.
- html.py: the page (sections, figures, tables) with its inline CSS.
- context.py, study_sections.py, model_sections.py: what each section draws, from the studies and the model.

A section is a function of the `ReportContext` that returns a `Section` (or None when it has nothing to
show); `SECTIONS` lists them in page order, and `write_report(..., sections=...)` takes another list.
"""

import os

from tunelab.searchers.report.context import ReportContext
from tunelab.searchers.report.coordinates import Axis, parallel_coordinates, pareto_mask, pareto_plot
from tunelab.searchers.report.html import Section, render_page
from tunelab.searchers.report.model_sections import confusion_section, training_section
from tunelab.searchers.report.plots import Series, bar_chart, heatmap, line_plot, scatter_plot
from tunelab.searchers.report.study_sections import (
    history_section, importance_section, leaderboard_section, parallel_section, pareto_section, slices_section,
)

SECTIONS = (leaderboard_section, history_section, parallel_section, slices_section, importance_section,
            pareto_section, training_section, confusion_section)


def _is_search(obj):
    """A fitted SearchCV (or any object with a `study_`): its study, its best model and its scoring."""
    return hasattr(obj, "study_")


def _studies(study):
    """{label: study or fitted search} from a Study, a fitted SearchCV, or a dict of them."""
    if isinstance(study, dict):
        items = dict(study)
        if not items:
            raise ValueError("`study` must not be an empty dict; give {label: Study or fitted SearchCV}.")
    else:
        source = study.study_ if _is_search(study) else study
        items = {type(getattr(source, "searcher", source)).__name__: study}
    for label, item in items.items():
        source = item.study_ if _is_search(item) else item
        if not (hasattr(source, "trials") and hasattr(source, "space")):
            raise TypeError(f"`study` must be a Study, a fitted SearchCV or a dict of them; {label!r} is "
                            f"{item!r:.100} of type {type(item).__name__}.")
    spaces = {label: (i.study_ if _is_search(i) else i).space for label, i in items.items()}
    first = next(iter(spaces))
    for label, space in spaces.items():
        if space != spaces[first]:
            raise ValueError(f"the studies of one report must share a space; {first!r} has {spaces[first]}, "
                             f"{label!r} has {space}.")
    return items


def _best_search(items):
    searches = [i for i in items.values() if _is_search(i) and hasattr(i, "best_score_")]
    return max(searches, key=lambda s: s.best_score_) if searches else None


def write_report(study, path, *, title="tunelab report", command=None, leaderboard=None, header=(), model=None,
                 X=None, y=None, X_test=None, y_test=None, scoring=None, cv=3, value_label=None, random_state=0,
                 sections=SECTIONS):
    """Write the HTML report of `study` to `path` (its folder is created); returns `path`.

    study : a Study, a fitted SearchCV, or a dict {label: Study or fitted SearchCV} over one space (one
        line per label in the plots).
    model : the fitted model whose training is shown; default: the best search's `best_estimator_`.
    X, y : its training data (learning and validation curves); X_test, y_test : the held-out split
        (confusion matrix of a classifier). Sections without their inputs are left out.
    scoring, cv : how the curves score the model (default: the search's scoring, 3 folds).
    command : the command line that produced the run; leaderboard : (rows, columns) for the first table.
    value_label : the name of a trial's value on the axes (default "CV <scoring>" for a search).
    random_state : seeds the importance (functional ANOVA of a GP); same seed, same report.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a file path; got {path!r} of type {type(path).__name__}.")
    items = _studies(study)
    best = _best_search(items)
    if model is None and best is not None:
        model = getattr(best, "best_estimator_", None)
    if scoring is None and best is not None and isinstance(getattr(best, "scoring", None), str):
        scoring = best.scoring
    if value_label is None:
        value_label = f"CV {scoring}" if best is not None and scoring else "CV score" if best else "objective value"
    ctx = ReportContext({label: (i.study_ if _is_search(i) else i) for label, i in items.items()}, model=model,
                        X=X, y=y, X_test=X_test, y_test=y_test, scoring=scoring, cv=cv, leaderboard=leaderboard,
                        command=command, header=header, value_label=value_label, random_state=random_state)
    built = [s for s in (section(ctx) for section in sections) if s is not None]
    folder = os.path.dirname(os.fspath(path))
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render_page(title, built))
    return path


__all__ = ["write_report", "SECTIONS", "ReportContext", "Section", "render_page", "Series", "line_plot",
           "scatter_plot", "bar_chart", "heatmap", "Axis", "parallel_coordinates", "pareto_plot", "pareto_mask"]
