"""tunelab.benchmarks.cli: the `tunelab` command line (also `python -m tunelab.benchmarks`).

- commands.py: the argument parser of `tunelab demo|tune|bench`, its exit codes, and `main`.
- demo.py: `tunelab demo`, every searcher tuning an MLP on the shipped digits data.
- tune.py: `tunelab tune DATA.csv --target COLUMN`, a model tuned on a user's own CSV file.
- tuning.py: what demo and tune share: searchers by name, the models' search spaces, one SearchCV run.
- report.py: leaderboards and report folders (report.md, trials.json, a best-so-far plot).

`tunelab bench` runs the suites that sit beside this package in tunelab.benchmarks.
"""

from tunelab.benchmarks.cli.commands import build_parser, main

__all__ = ["main", "build_parser"]
