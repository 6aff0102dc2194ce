"""The benchmark harness: the "met" verdict of a row, and what the fit benchmark says about a missing peer."""

import pytest

from tunelab.benchmarks import bench_fit
from tunelab.benchmarks._harness import installed, met


@pytest.mark.parametrize("value, target, verdict", [
    (0.4, ("<=", 0.5), "yes"), (0.5, ("<=", 0.5), "yes"), (0.51, ("<=", 0.5), "no"),
    (2.0, (">=", 1.7), "yes"), (1.6, (">=", 1.7), "no"), (None, ("<=", 1.0), ""), (3.0, None, ""),
])
def test_met_compares_a_value_with_its_target(value, target, verdict):
    assert met(value, target) == verdict


@pytest.mark.parametrize("present", [True, False])
def test_the_fit_benchmark_says_why_scikit_learn_rows_are_skipped(monkeypatch, present):
    monkeypatch.setattr(bench_fit, "installed", lambda name: present)
    monkeypatch.setattr(bench_fit, "peer", lambda name: object() if present else None)
    if present:
        assert bench_fit._sklearn_note(compare=False) == \
            "scikit-learn is installed but --compare is off: the rows against it are skipped"
        assert bench_fit._sklearn_note(compare=True) is None
    else:
        for compare in (True, False):
            assert bench_fit._sklearn_note(compare).startswith("scikit-learn is not installed")


def test_installed_looks_without_importing():
    assert installed("numpy") and not installed("no_such_module_here")


def test_a_row_gives_the_ratio_tunelab_over_peer_in_ms():
    row = bench_fit.compared("case", 0.002, "peer", 0.004, 0.5)
    assert (row["tunelab_ms"], row["peer_ms"], row["ratio"], row["target"], row["met"]) == (2.0, 4.0, 0.5, "<= 0.5x",
                                                                                          "yes")
