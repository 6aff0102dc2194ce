"""`tunelab tune DATA.csv --target COLUMN`: tune a model on a user's own CSV (read with the standard library)."""

import csv
import hashlib
import os

import numpy as np

from tunelab.benchmarks._harness import markdown_table
from tunelab.benchmarks.cli.pareto_report import (
    MULTI_OBJECTIVE_SEARCHERS, front_rows, front_summary, multi_objective_search, parse_objectives,
    write_pareto_report)
from tunelab.benchmarks.cli.report import LEADERBOARD_COLUMNS, write_report
from tunelab.benchmarks.cli.tuning import make_searcher, model_and_space, open_stored_study, run_search
from tunelab.core import StandardScaler, is_class_labels, train_test_split


def read_csv(path, target):
    """(X float64 (n, d), y, feature names) from a CSV with a header row; y is numeric when it parses as such."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"data file {path!r} does not exist.")
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise ValueError(f"data file {path!r} is empty.")
    header, body = [h.strip() for h in rows[0]], [r for r in rows[1:] if any(cell.strip() for cell in r)]
    if target not in header:
        raise ValueError(f"column {target!r} is not in {path!r}; its columns are {', '.join(header)}.")
    if not body:
        raise ValueError(f"data file {path!r} has a header but no rows.")
    t = header.index(target)
    features = [h for k, h in enumerate(header) if k != t]
    X = np.empty((len(body), len(features)))
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise ValueError(f"row {i + 2} of {path!r} has {len(row)} fields; the header has {len(header)}.")
        cells = [cell for k, cell in enumerate(row) if k != t]
        for j, cell in enumerate(cells):
            try:
                X[i, j] = float(cell)
            except ValueError:
                raise ValueError(f"feature {features[j]!r} is not numeric: row {i + 2} has {cell!r}.") from None
    labels = [row[t].strip() for row in body]
    try:
        y = np.array([float(v) for v in labels])
    except ValueError:
        y = np.array(labels)
    return X, y, features


def is_class_target(y, model):
    """A target is classes when it is not numeric, or when the model asks for classes (logistic, mlp with few values)."""
    if y.dtype.kind not in "fiu":
        return True
    if model == "logistic":
        return True
    if model == "linear":
        return False
    return is_class_labels(y) and len(np.unique(y)) <= 20


def file_sha256(path):
    """The SHA-256 of a file's bytes, in hex."""
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run_tune(path, target, model="logistic", searcher="random", trials=20, cv=5, metric=None, storage=None, seed=0,
             out="tunelab-report", max_epochs=50, n_jobs=1, progress=True, print_fn=print, objectives=None):
    X, y, _ = read_csv(path, target)
    classification = is_class_target(y, model)
    if classification:
        y = y.astype(np.int64) if y.dtype.kind == "f" else y
        if len(np.unique(y)) < 2:
            raise ValueError(f"target {target!r} has one class only ({np.unique(y)[0]!r}); a classifier needs two or more.")
    estimator, space = model_and_space(model, classification, max_epochs, seed)
    scoring = metric or ("accuracy" if classification else "r2")
    stratify = y if classification and min(np.unique(y, return_counts=True)[1]) >= 2 else None
    if storage is not None and not objectives:  # the study's values depend on these: a stored study continues only with the same
        context = {"data file sha256": file_sha256(path), "--target": target, "--model": model, "--metric": scoring,
                   "--cv": cv, "--seed": seed}
        earlier = open_stored_study(storage, searcher, space, budget=trials, seed=seed, context=context)
        if earlier:
            print_fn(f"resumed: {earlier} earlier trials in {storage}")
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=stratify, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if objectives:
        return _tune_objectives(path, target, estimator, space, searcher, objectives, X_train, y_train, trials=trials,
                                cv=cv, seed=seed, n_jobs=n_jobs, progress=progress, storage=storage, out=out,
                                print_fn=print_fn)
    row, search = run_search(searcher, estimator, space, X_train, y_train, X_test, y_test, budget=trials, cv=cv,
                             scoring=scoring, seed=seed, n_jobs=n_jobs, progress=progress, storage=storage)
    print_fn(markdown_table([row], LEADERBOARD_COLUMNS))
    header = [f"Data: {path}, target {target!r}, {X_train.shape[0]} train / {X_test.shape[0]} test rows. "
              f"Model: {type(estimator).__name__}. Metric: {scoring} by {cv}-fold CV."]
    paths = write_report(out, f"tunelab tune {os.path.basename(path)}", [row], {searcher: search.study_},
                         maximize=True, header_lines=header)
    print_fn(f"report written to {os.path.abspath(paths['report'])}")
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
