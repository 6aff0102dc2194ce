"""Leaderboards and report folders for `tunelab demo` and `tunelab tune`: a markdown report, the JSON of
every trial, a best-so-far plot (PNG with matplotlib, an aligned text plot otherwise), and the HTML report
of `tunelab.searchers.write_report` (report.html: every plot as inline SVG, opened from disk)."""

import json
import os

import numpy as np

from tunelab.benchmarks._harness import markdown_table, peer
from tunelab.searchers import TrialState
from tunelab.searchers import write_report as html_report

LEADERBOARD_COLUMNS = ["searcher", "best_cv", "test_score", "precision", "recall", "f1", "trials", "failed",
                       "seconds", "best_params"]


def best_so_far(values, maximize):
    """Running best of the values (None for failed trials keeps the previous best)."""
    best, running = None, []
    for value in values:
        if value is not None and np.isfinite(value):
            if best is None or (value > best if maximize else value < best):
                best = value
        running.append(best)
    return running


def text_plot(series, width=60, height=12, title="best so far"):
    """An aligned text plot of several best-so-far curves: {label: [value per trial]}."""
    finite = [v for values in series.values() for v in values if v is not None]
    if not finite:
        return "(no finished trial to plot)"
    low, high = min(finite), max(finite)
    span = (high - low) or 1.0
    length = max(len(values) for values in series.values())
    grid = [[" "] * width for _ in range(height)]
    marks = "*o+x@%&$"  # '#' marks a cell where several curves meet
    for k, (label, values) in enumerate(series.items()):
        for i, value in enumerate(values):
            if value is None:
                continue
            col = min(width - 1, int(i * (width - 1) / max(length - 1, 1)))
            row = height - 1 - int(round((value - low) / span * (height - 1)))
            mark = marks[k % len(marks)]
            grid[row][col] = mark if grid[row][col] in (" ", mark) else "#"
    lines = [title]
    for r, row in enumerate(grid):
        label = f"{high - r * span / (height - 1):9.4f} |" if r % 3 == 0 else "          |"
        lines.append(label + "".join(row))
    lines.append("          +" + "-" * width)
    lines.append(f"           trial 1{' ' * (width - 12)}trial {length}")
    legend = [f"{marks[k % len(marks)]} {label}" for k, label in enumerate(series)] + ["# several"]
    lines.append("           " + "   ".join(legend))
    return "\n".join(lines)


def png_plot(path, curves, maximize):
    """Best so far against trials and against seconds, one line per searcher (needs matplotlib)."""
    matplotlib = peer("matplotlib")
    if matplotlib is None:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (by_trial, by_time) = plt.subplots(1, 2, figsize=(11, 4))
    for label, (values, seconds) in curves.items():
        running = best_so_far(values, maximize)
        by_trial.plot(range(1, len(running) + 1), running, label=label, drawstyle="steps-post")
        by_time.plot(seconds, running, label=label, drawstyle="steps-post")
    by_trial.set_xlabel("trials")
    by_time.set_xlabel("seconds")
    for axis in (by_trial, by_time):
        axis.set_ylabel("best CV score so far")
        axis.grid(alpha=0.3)
    by_trial.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def write_report(folder, title, leaderboard, studies, maximize, header_lines=(), command=None, searches=None,
                 data=None, cv=3):
    """Write report.md, trials.json, best_so_far.png (or .txt) and report.html into `folder`; returns the
    paths written. `searches` ({label: fitted SearchCV}) and `data` (X, y, X_test, y_test) give the HTML
    report its model sections (training loss, learning and validation curves, confusion matrix)."""
    os.makedirs(folder, exist_ok=True)
    curves = {}
    trials_json = {}
    for label, study in studies.items():
        trials = study.trials
        start = min((t.start_time for t in trials if t.start_time), default=0.0)
        values = [t.value if t.state is TrialState.COMPLETE else None for t in trials]
        seconds = [(t.end_time or start) - start for t in trials]
        curves[label] = (values, seconds)
        trials_json[label] = json.loads(study.to_json())
    paths = {"trials": os.path.join(folder, "trials.json"), "report": os.path.join(folder, "report.md")}
    with open(paths["trials"], "w") as handle:
        json.dump(trials_json, handle, indent=2)
    plot_path = os.path.join(folder, "best_so_far.png")
    if png_plot(plot_path, curves, maximize):
        paths["plot"] = plot_path
        plot_markdown = "![best so far](best_so_far.png)"
    else:
        paths["plot"] = os.path.join(folder, "best_so_far.txt")
        text = text_plot({label: best_so_far(v, maximize) for label, (v, _) in curves.items()})
        with open(paths["plot"], "w") as handle:
            handle.write(text + "\n")
        plot_markdown = "```\n" + text + "\n```"
    columns = [c for c in LEADERBOARD_COLUMNS if any(c in r for r in leaderboard)]
    with open(paths["report"], "w") as handle:
        handle.write(f"# {title}\n\n")
        for line in header_lines:
            handle.write(f"{line}\n\n")
        if command:
            handle.write(f"Command: `{command}`\n\n")
        handle.write(markdown_table(leaderboard, columns) if leaderboard else "No trial completed.")
        handle.write("\n\n## Best score so far\n\n" + plot_markdown + "\n")
        handle.write("\nPlots of every trial, the hyperparameters' importance and the best model: report.html\n")
    paths["html"] = html_report(searches or studies, os.path.join(folder, "report.html"), title=title,
                                command=command, leaderboard=(leaderboard, columns), header=header_lines,
                                cv=cv, **(data or {}))
    return paths
