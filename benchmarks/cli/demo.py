"""`tunelab demo`: both levels of tuning on the shipped digits data.

An MLPClassifier's weights are fitted by a mini-batch optimizer (parameter tuning) inside every trial, while
each searcher tunes, by 3-fold cross-validation (hyperparameter tuning) at the same budget, its L2 strength
and hidden width and the optimizer itself: momentum (learning rate, batch size, momentum) or Adam (learning
rate, batch size, beta1, beta2), a conditional space whose optimizer's hyperparameters exist only under it.
The leaderboard compares them on a held-out test split, and a report folder keeps every trial. Ctrl-C stops
the demo with a report of the trials that finished, marked as interrupted.
"""

import os

from tunelab.benchmarks._harness import markdown_table
from tunelab.benchmarks.cli.report import LEADERBOARD_COLUMNS, best_so_far, text_plot, write_report
from tunelab.benchmarks.cli.tuning import (
    SEARCHER_NAMES, Interrupted, SearchInterrupted, finished_trials, model_and_space, run_search,
)
from tunelab.core import StandardScaler, load_digits, train_test_split
from tunelab.searchers import TrialState


def run_demo(budget=30, seed=0, searchers=SEARCHER_NAMES, out="tunelab-report",
             quick=False, n_jobs=1, progress=True, print_fn=print):
    X, y = load_digits()
    if quick:  # a third of the rows and fewer epochs: the same pipeline in a few seconds
        X, _, y, _ = train_test_split(X, y, train_size=600, stratify=y, random_state=seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    estimator, space = model_and_space("mlp", True, max_epochs=8 if quick else 30, random_state=seed)
    print_fn(f"tunelab demo: MLPClassifier on digits ({X_train.shape[0]} train / {X_test.shape[0]} test rows, "
             f"{X.shape[1]} features, 10 classes), 3-fold CV accuracy, {budget} trials per searcher, seed {seed}")
    header = [f"Data: digits, {X_train.shape[0]} train / {X_test.shape[0]} test rows. Model: MLPClassifier, "
              "mini-batch momentum or Adam, chosen with its hyperparameters. "
              f"Budget: {budget} trials per searcher, 3-fold CV accuracy, seed {seed}."]
    command = "tunelab demo" + (" --quick" if quick else "") + f" --budget {budget} --seed {seed}"
    if tuple(searchers) != SEARCHER_NAMES:
        command += " --searchers " + ",".join(searchers)
    data = {"X": X_train, "y": y_train, "X_test": X_test, "y_test": y_test}
    rows, studies, searches = [], {}, {}
    for name in searchers:
        try:
            row, search = run_search(name, estimator, space, X_train, y_train, X_test, y_test, budget=budget, cv=3,
                                     scoring="accuracy", seed=seed, n_jobs=n_jobs, progress=progress)
        except SearchInterrupted as stop:  # keep what finished, in a report that says it is partial
            studies[name] = stop.study
            rows += [] if stop.row is None else [stop.row]
            paths = write_report(out, "tunelab demo (interrupted)", rows, studies, maximize=True,
                                 header_lines=[stop.note()] + header, command=command)
            raise Interrupted(sum(finished_trials(s) for s in studies.values()), paths["trials"]) from None
        rows.append(row)
        studies[name], searches[name] = search.study_, search
        size = search.study_.searcher.size()
        covered = f" of the grid's {size} points" if size is not None and size > row["trials"] else ""
        print_fn(f"  {name:<10} best CV accuracy {row['best_cv']:.4f}, test accuracy {row['test_score']:.4f} "
                 f"({row['trials']} trials{covered}, {row['seconds']:.1f} s)")
    rows.sort(key=lambda r: -r["best_cv"])
    print_fn("")
    print_fn(markdown_table(rows, LEADERBOARD_COLUMNS))
    curves = {name: best_so_far([t.value if t.state is TrialState.COMPLETE else None for t in s.trials], True)
              for name, s in studies.items()}
    print_fn("")
    print_fn(text_plot(curves, title="best 3-fold CV accuracy so far, by trial"))
    paths = write_report(out, "tunelab demo", rows, studies, maximize=True, header_lines=header, command=command,
                         searches=searches, data=data)
    print_fn("")
    print_fn(f"report written to {os.path.abspath(paths['report'])}")
    print_fn(f"open {os.path.abspath(paths['html'])} in a browser for the plots")
    return rows, paths
