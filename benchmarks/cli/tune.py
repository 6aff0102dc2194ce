"""`tunelab tune DATA.csv --target COLUMN`: tune a model on a user's own CSV file (read by cli.data).

Everything that can be checked is checked before the search: the file, its target (a continuous target is
not cast to classes; missing target values are refused), the model against the target, a stored study's
context. Ctrl-C ends the search with the finished trials kept (SearchInterrupted, then Interrupted).
"""

import hashlib
import os
import shlex

import numpy as np

from tunelab.benchmarks._harness import markdown_table
from tunelab.benchmarks.cli.data import parse_number, read_csv
from tunelab.benchmarks.cli.pareto_report import (
    MULTI_OBJECTIVE_SEARCHERS, front_rows, front_summary, multi_objective_search, parse_objectives,
    write_pareto_report)
from tunelab.benchmarks.cli.report import LEADERBOARD_COLUMNS, write_report
from tunelab.benchmarks.cli.tuning import (
    Interrupted, SearchInterrupted, finished_trials, make_searcher, model_and_space, open_stored_study, run_search,
)
from tunelab.core import StandardScaler, get_scorer, is_class_labels, train_test_split
from tunelab.searchers import Study


def is_class_target(y, model):
    """Whether the target is classes: never for linear, always for logistic; for mlp when it is not numeric, or
    holds at most 20 distinct integral values."""
    if model == "linear":
        return False
    if y.dtype.kind not in "fiu" or model == "logistic":
        return True
    return is_class_labels(y) and len(np.unique(y)) <= 20


def class_labels(table, target, path, model):
    """The target of `table` as class labels: refused when continuous (never cast to classes); integral
    floats (1.0, 2.0 as a CSV holds them) become int64."""
    y = table.y
    if y.dtype.kind != "f":
        return y
    if not is_class_labels(y):
        i = int(np.flatnonzero(y != np.round(y))[0])
        raise ValueError(f"target {target!r} of {path!r} holds continuous values (e.g. {y[i]:g} on line "
                         f"{table.lines[i]}); `--model {model}` needs class labels. Use `--model linear` (or "
                         "`--model mlp`) for a numeric target.")
    return y.astype(np.int64) if np.abs(y).max() < 2.0 ** 53 else y


def numeric_target(table, target, path, model):
    """The target of `table` as numbers; refused, naming a line, when some cell is not a number."""
    if table.y.dtype.kind == "f":
        return table.y
    for line, value in zip(table.lines, table.y.tolist()):
        if parse_number(value) is None:
            raise ValueError(f"`--model {model}` needs a numeric target; {target!r} of {path!r} has {value!r} on "
                             f"line {line}. Use `--model logistic` or `--model mlp` for class labels.")
    return table.y.astype(np.float64)


def check_metric(scoring, classification, model):
    """Refuse, before the search, a metric for the other kind of task: a regression metric (one that scores
    continuous targets) for classes, or a classification metric for a numeric target."""
    targets = get_scorer(scoring).targets
    if targets is None or ("continuous" in targets) != classification:
        return
    if classification:
        raise ValueError(f"`--metric {scoring}` scores numeric predictions, but `--model {model}` predicts classes "
                         "here; use accuracy, f1_macro, neg_log_loss or another classification metric.")
    raise ValueError(f"`--metric {scoring}` scores class labels, but `--model {model}` predicts numbers here; use r2, "
                     "neg_mean_squared_error or neg_mean_absolute_error.")


def file_sha256(path):
    """The SHA-256 of a file's bytes, in hex."""
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run_tune(path, target, model="logistic", searcher="random", trials=20, cv=5, metric=None, storage=None, seed=0,
             out="tunelab-report", max_epochs=50, n_jobs=1, progress=True, print_fn=print, objectives=None):
    table = read_csv(path, target)
    classification = is_class_target(table.y, model)
    y = class_labels(table, target, path, model) if classification else numeric_target(table, target, path, model)
    if classification and len(np.unique(y)) < 2:
        raise ValueError(f"target {target!r} has one class only ({np.unique(y)[0].item()!r}); a classifier needs two "
                         "or more.")
    estimator, space = model_and_space(model, classification, max_epochs, seed)
    scoring = metric or ("accuracy" if classification else "r2")
    check_metric(scoring, classification, model)
    stratify = y if classification and min(np.unique(y, return_counts=True)[1]) >= 2 else None
    X_train, X_test, y_train, y_test = train_test_split(table.X, y, test_size=0.2, stratify=stratify,
                                                        random_state=seed)
    if cv > len(y_train):
        raise ValueError(f"`--cv {cv}` needs at least {cv} training rows; {path!r} has {len(y)} rows, {len(y_train)} "
                         "of them for training (a fifth is held out to test the best model). Give a smaller --cv or "
                         "more rows.")
    if storage is not None and not objectives:  # the study's values depend on these: it continues only with the same
        context = {"data file sha256": file_sha256(path), "--target": target, "--model": model, "--metric": scoring,
                   "--cv": cv, "--seed": seed}
        earlier = open_stored_study(storage, searcher, space, budget=trials, seed=seed, context=context)
        if earlier:
            print_fn(f"resumed: {earlier} earlier trials in {storage}")
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if objectives:
        return _tune_objectives(path, target, estimator, space, searcher, objectives, X_train, y_train, trials=trials,
                                cv=cv, seed=seed, n_jobs=n_jobs, progress=progress, storage=storage, out=out,
                                print_fn=print_fn)
    header = [f"Data: {path}, target {target!r}, {X_train.shape[0]} train / {X_test.shape[0]} test rows. "
              f"Model: {type(estimator).__name__}. Metric: {scoring} by {cv}-fold CV."]
    command = shlex.join(["tunelab", "tune", path, "--target", target, "--model", model, "--searcher", searcher,
                          "--trials", str(trials), "--cv", str(cv), "--seed", str(seed)]
                         + (["--metric", metric] if metric else []) + (["--storage", storage] if storage else []))
    title = f"tunelab tune {os.path.basename(path)}"
    try:
        row, search = run_search(searcher, estimator, space, X_train, y_train, X_test, y_test, budget=trials, cv=cv,
                                 scoring=scoring, seed=seed, n_jobs=n_jobs, progress=progress, storage=storage)
    except SearchInterrupted as stop:
        rows = [] if stop.row is None else [stop.row]
        paths = write_report(out, title, rows, {searcher: stop.study}, maximize=True,
                             header_lines=[stop.note()] + header, command=command)
        kept = stop.study if storage is None else Study.load(storage)  # count what the file holds
        raise Interrupted(finished_trials(kept), storage or paths["trials"]) from None
    print_fn(markdown_table([row], LEADERBOARD_COLUMNS))
    paths = write_report(out, title, [row], {searcher: search.study_}, maximize=True, header_lines=header,
                         command=command, searches={searcher: search},
                         data={"X": X_train, "y": y_train, "X_test": X_test, "y_test": y_test}, cv=cv)
    print_fn(f"report written to {os.path.abspath(paths['report'])}")
    print_fn(f"open {os.path.abspath(paths['html'])} in a browser for the plots")
    return row, paths


def _tune_objectives(path, target, estimator, space, searcher, objectives, X, y, *, trials, cv, seed, n_jobs,
                     progress, storage, out, print_fn):
    """`--objectives`: one SearchCV over several objectives; prints the Pareto front and writes the report."""
    names = parse_objectives(objectives)
    if searcher in MULTI_OBJECTIVE_SEARCHERS:
        chosen = MULTI_OBJECTIVE_SEARCHERS[searcher](trials)
    else:
        chosen = make_searcher(searcher, trials, len(space))
    search = multi_objective_search(estimator, space, chosen, names, X, y, budget=trials, cv=cv, seed=seed,
                                    n_jobs=n_jobs, progress=progress, storage=storage)
    print_fn(front_summary(search))
    header = [f"Data: {path}, target {target!r}, {X.shape[0]} train rows. Model: {type(estimator).__name__}. "
              f"Searcher: {searcher}. {cv}-fold CV."]
    paths = write_pareto_report(out, f"tunelab tune {os.path.basename(path)} --objectives {','.join(names)}",
                                header, search)
    print_fn(f"report written to {os.path.abspath(paths['report'])}")
    return front_rows(search), paths
