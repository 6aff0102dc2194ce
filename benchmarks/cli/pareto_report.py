"""`tunelab tune --objectives a,b`: a search for several objectives, its Pareto front printed and reported."""

import os

from tunelab.benchmarks._harness import markdown_table
from tunelab.searchers import NSGA2Search, ParEGOSearch, SearchCV
from tunelab.searchers.multi_metric import COSTS

MULTI_OBJECTIVE_SEARCHERS = {"nsga2": lambda budget: NSGA2Search(population_size=max(4, min(10, budget // 4))),
                             "parego": lambda budget: ParEGOSearch(n_initial=min(10, max(2, budget // 3)))}


def parse_objectives(text):
    """["accuracy", "fit_time"] from "accuracy,fit_time"; a ValueError for fewer than two or a repeated name."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if len(names) < 2 or len(set(names)) != len(names):
        raise ValueError(f"`--objectives` must name two or more different objectives, e.g. accuracy,fit_time; "
                         f"got {text!r}.")
    return names


def front_rows(search):
    """One row per trial of the Pareto front: its number, the mean of each objective and its params."""
    results, rows = search.cv_results_, []
    for i in search.pareto_front_:
        row = {"trial": i}
        row.update({name: float(results[f"mean_test_{name}"][i]) for name in search.scoring})
        row["params"] = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                                  for k, v in sorted(results["params"][i].items()))
        rows.append(row)
    return rows


def multi_objective_search(estimator, space, searcher, objectives, X, y, *, budget, cv, seed, n_jobs, progress,
                           storage=None):
    """SearchCV over `objectives` (scorer names, "fit_time", "n_weights"); the first score is refitted."""
    scoring = {name: name for name in objectives}
    scores = [name for name in objectives if name not in COSTS]
    search = SearchCV(estimator, space, searcher=searcher, n_trials=budget, cv=cv, scoring=scoring,
                      refit=(scores or objectives)[0], n_jobs=n_jobs, random_state=seed, progress=progress,
                      storage=storage)
    return search.fit(X, y)


def write_pareto_report(folder, title, header_lines, search):
    """report.md (the Pareto front) and trials.json into `folder`; returns the paths written."""
    os.makedirs(folder, exist_ok=True)
    rows = front_rows(search)
    paths = {"trials": os.path.join(folder, "trials.json"), "report": os.path.join(folder, "report.md")}
    with open(paths["trials"], "w") as handle:
        handle.write(search.study_.to_json())
    directions = ", ".join(f"{n} ({d})" for n, d in zip(search.scoring, search.study_.directions))
    with open(paths["report"], "w") as handle:
        handle.write(f"# {title}\n\n")
        for line in header_lines:
            handle.write(f"{line}\n\n")
        handle.write(f"## Pareto front\n\nObjectives: {directions}. {len(rows)} of {len(search.study_.trials)} "
                     f"trials are not dominated; refitted: trial {search.best_index_}.\n\n")
        handle.write(markdown_table(rows, list(rows[0]) if rows else ["trial"]) + "\n")
    return paths


def front_summary(search):
    """The front as a markdown table (to print)."""
    rows = front_rows(search)
    return markdown_table(rows, list(rows[0]) if rows else ["trial"]) if rows else "(no complete trial)"
