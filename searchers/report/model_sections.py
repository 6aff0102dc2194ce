"""The report's sections drawn from the best model: parameter tuning seen from inside (its training loss
per epoch, a learning curve, a validation curve of the most important numeric hyperparameter) and its confusion
matrix on the held-out test split. Each returns a `Section`, or None without a model."""

import warnings

import numpy as np

from tunelab.core import confusion_matrix, is_classifier, learning_curve, validation_curve
from tunelab.searchers.report.context import show
from tunelab.searchers.report.html import Section, figure, figures, note
from tunelab.searchers.report.plots import Series, heatmap, line_plot
from tunelab.searchers.space import Categorical, Real

N_CURVE_VALUES = 7  # values of a real or wide integer hyperparameter on its validation curve


def _mean_band(scores):
    """(mean, mean - std, mean + std) over the folds (axis 1), NaN where every fold failed."""
    S = np.asarray(scores, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a row of failed fits is NaN, and says so
        mean, std = np.nanmean(S, axis=1), np.nanstd(S, axis=1)
    return list(mean), list(mean - std), list(mean + std)


def loss_figures(model):
    """The training loss per epoch (`loss_curve_`) and, with early stopping, the validation score per epoch."""
    loss = list(getattr(model, "loss_curve_", None) or [])
    if not loss:
        return []
    epochs = list(range(1, len(loss) + 1))
    out = [figure(line_plot([Series("training loss", epochs, loss, markers=len(loss) <= 60)], xlabel="epoch",
                            ylabel="training loss", title="Training loss per epoch", legend=False),
                  f"{type(model).__name__}, refitted on the whole training split with the best hyperparameters: "
                  f"{len(loss)} epochs, final loss {show(float(loss[-1]))}.")]
    scores = list(getattr(model, "validation_scores_", None) or [])
    if scores:
        out.append(figure(line_plot([Series("validation score", epochs[:len(scores)], scores, markers=True)],
                                    xlabel="epoch", ylabel="validation score", title="Validation score per epoch",
                                    legend=False),
                          "The score on the rows held out for early stopping, after each epoch."))
    return out


def learning_figure(ctx):
    """Train and CV scores against the number of training rows (mean +- one standard deviation over folds)."""
    sizes, train, test = learning_curve(ctx.model, ctx.X, ctx.y, cv=ctx.cv, scoring=ctx.scoring,
                                        train_sizes=(0.1, 0.325, 0.55, 0.775, 1.0))
    series = []
    for k, (label, S) in enumerate((("training score", train), ("cross-validation score", test))):
        mean, lo, hi = _mean_band(S)
        series.append(Series(label, list(sizes), mean, lower=lo, upper=hi, markers=True, dashed=k == 0))
    return figure(line_plot(series, xlabel="training rows", ylabel=ctx.scoring or "score", title="Learning curve"),
                  f"{ctx.cv}-fold cross-validation at 5 training sizes; bands: one standard deviation over folds.")


def curve_values(dim):
    """The values a validation curve visits: N_CURVE_VALUES spread over a real dimension (in log x when
    log), every level of a discrete one with at most that many, else that many spread over its range."""
    if isinstance(dim, Real):
        return dim.grid(N_CURVE_VALUES)
    if isinstance(dim, Categorical) or dim.n_values <= N_CURVE_VALUES:
        return dim.grid()
    return sorted({dim.from_unit(u) for u in np.linspace(0.0, 1.0, N_CURVE_VALUES)})


def validation_figure(ctx, name):
    """Train and CV scores of the best model as hyperparameter `name` varies, the others at their best
    (`name` a dimension of the space; a categorical one is drawn at its levels)."""
    dim = ctx.space[name]
    values = curve_values(dim)
    train, test = validation_curve(ctx.model, ctx.X, ctx.y, name, values, cv=ctx.cv, scoring=ctx.scoring)
    categorical = isinstance(dim, Categorical)
    x = list(range(len(values))) if categorical else [float(v) for v in values]
    series = []
    for k, (label, S) in enumerate((("training score", train), ("cross-validation score", test))):
        mean, lo, hi = _mean_band(S)
        series.append(Series(label, x, mean, lower=lo, upper=hi, markers=True, dashed=k == 0))
    best = ctx.model.get_params(deep=True).get(name)
    at = dim.index(best) if categorical and dim.contains(best) else best if dim.contains(best) else None
    svg = line_plot(series, xlabel=name + (" (log scale)" if getattr(dim, "log", False) else ""),
                    ylabel=ctx.scoring or "score", title=f"Validation curve: {name}",
                    xlog=bool(getattr(dim, "log", False)),
                    xcategories=[show(v) for v in values] if categorical else None,
                    vlines=[] if at is None else [(at, "best trial")])
    return figure(svg, f"{name}, the most important numeric hyperparameter, at {len(values)} values with the others "
                       f"at the best trial's (there {name}={show(best)}); {ctx.cv}-fold cross-validation.")


def _warning_note(caught, what):
    """One line counting the warnings of each kind raised while computing `what` (None if there were none)."""
    counts = {}
    for w in caught:
        counts[w.category.__name__] = counts.get(w.category.__name__, 0) + 1
    if not counts:
        return None
    kinds = ", ".join(f"{n} {name}" for name, n in counts.items())
    return f"While computing {what}: {kinds}. Failed fits are left out of the means. The first: {caught[0].message}"


def training_section(ctx):
    """Loss per epoch, learning curve and validation curve of the best model."""
    if ctx.model is None:
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        section = _training_section(ctx)
    message = _warning_note(caught, "the curves")
    if message:
        section.notes.append(message)
    return section


def _training_section(ctx):
    items, notes = loss_figures(ctx.model), []
    if not items:
        notes.append(f"{type(ctx.model).__name__} records no loss per epoch (no `loss_curve_`).")
    if ctx.X is not None and ctx.y is not None:
        try:
            items.append(learning_figure(ctx))
        except (ValueError, TypeError) as exc:
            notes.append(f"No learning curve: {exc}")
        name = ctx.most_important()
        if ctx.importance[0] is None:
            notes.append(f"No validation curve: the importance was not computed ({ctx.importance[1]}).")
        elif name is None:
            notes.append("No validation curve: no numeric hyperparameter is set by every complete trial.")
        elif name not in ctx.model.get_params(deep=True):
            notes.append(f"No validation curve: {name!r} is not a parameter of {type(ctx.model).__name__}.")
        else:
            try:
                items.append(validation_figure(ctx, name))
            except (ValueError, TypeError) as exc:
                notes.append(f"No validation curve: {exc}")
    else:
        notes.append("Learning and validation curves need the training data (X, y).")
    return Section("training", "Parameter tuning: inside the best model", figures(*items), notes=notes)


def confusion_section(ctx):
    """The confusion matrix of the best model (a classifier) on the held-out test split."""
    if ctx.model is None or ctx.X_test is None or ctx.y_test is None or not is_classifier(ctx.model):
        return None
    labels = getattr(ctx.model, "classes_", None)
    predicted = ctx.model.predict(ctx.X_test)
    labels = np.unique(np.concatenate([np.asarray(ctx.y_test), predicted])) if labels is None else np.asarray(labels)
    C = confusion_matrix(ctx.y_test, predicted, labels=labels)
    accuracy = np.trace(C) / max(C.sum(), 1)
    names = [show(v.item() if hasattr(v, "item") else v) for v in labels]
    svg = heatmap(C, names, names, xlabel="predicted", ylabel="true", title="Confusion matrix (test split)")
    caption = (f"{C.sum()} held-out test rows; row i, column j counts rows of class i predicted as j "
               f"(accuracy {accuracy:.4f}).")
    return Section("confusion", "Confusion matrix", figure(svg, caption) + note(
        "The diagonal holds the correct predictions; the darker a cell, the more rows it counts."))
