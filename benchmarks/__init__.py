"""tunelab.benchmarks: seeded benchmarks of both levels of tuning, and the `tunelab` command line.

The benchmark suites, each run by `tunelab bench NAME` and writing `NAME.json`:
- bench_fit.py: parameter fitting (kernels, optimizers, models) against numpy and scikit-learn.
- bench_search.py: SearchCV against scikit-learn's searches, the study's overhead, parallel trials.
- bench_functions.py: searchers' simple regret on standard test functions, and time per suggestion.
- bench_hyper.py: hypergradients for alpha, and successive halving for epochs.
- functions.py: the standard test functions (Branin, Hartmann, Ackley, ...) with their known minima.
- _harness.py: what the suites share: interleaved timing, markdown tables, JSON records.

cli/: the `tunelab` command line (`tunelab demo`, `tunelab tune`, `tunelab bench`), also run by
`python -m tunelab.benchmarks`.

Nothing in tunelab.core, tunelab.optimizers or tunelab.searchers imports this package.
"""
