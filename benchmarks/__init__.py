"""tunelab.benchmarks: seeded benchmarks of both levels of tuning, and the `tunelab` command line.

Nothing in tunelab.core, tunelab.optimizers or tunelab.searchers imports this package.
"""
