"""The report helpers: best-so-far curves and the terminal plot."""

from tunelab.benchmarks.cli.report import best_so_far, text_plot


def test_best_so_far_skips_failed_trials_and_never_gets_worse():
    assert best_so_far([0.2, None, 0.1, 0.5, float("nan")], maximize=True) == [0.2, 0.2, 0.2, 0.5, 0.5]
    assert best_so_far([None, 3.0, 4.0, 1.0], maximize=False) == [None, 3.0, 3.0, 1.0]


def test_text_plot_shows_every_curve_and_marks_where_they_meet():
    text = text_plot({"a": [0.1, 0.5, 0.5, 0.9], "b": [0.1, 0.5, 0.7, 0.9]}, width=20, height=6)
    body = "\n".join(line.split("|", 1)[1] for line in text.splitlines() if "|" in line)
    assert body.count("#") == 3  # trials 1, 2 and 4 are shared
    assert "*" in body and "o" in body  # trial 3 differs: each curve keeps its own mark
    assert "* a" in text and "o b" in text and "# several" in text


def test_text_plot_without_values():
    assert text_plot({"a": [None, None]}) == "(no finished trial to plot)"
