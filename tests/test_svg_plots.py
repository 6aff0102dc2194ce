"""The report's SVG plots: they parse as XML, hold their axes, series and labels, and put known values at
the pixels the scales say."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.searchers.report import (
    Axis, Series, bar_chart, heatmap, line_plot, parallel_coordinates, pareto_mask, pareto_plot, scatter_plot,
)
from tunelab.searchers.report.plots import LEGEND_WIDTH, MARGINS
from tunelab.searchers.report.svg import (
    BLUES, OKABE_ITO, VIRIDIS, CategoryScale, Scale, format_number, log_ticks, nice_ticks, ramp_colour, tick_labels,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg):
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    return root


def by_class(root, name, tag=None):
    """Elements whose class list holds `name` (and of `tag`, when given)."""
    return [e for e in root.iter() if name in (e.get("class") or "").split() and (tag is None or e.tag == SVG + tag)]


def texts(root, name):
    return [e.text for e in by_class(root, name)]


def plot_box(width, height, legend_room=0):
    return MARGINS["left"], width - MARGINS["right"] - legend_room, MARGINS["top"], height - MARGINS["bottom"]


def test_nice_and_log_ticks():
    assert nice_ticks(0.0, 1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0.13, 0.97) == [0.2, 0.4, 0.6, 0.8]
    assert nice_ticks(-3.0, 12.0, 4) == [0.0, 5.0, 10.0]
    assert log_ticks(1e-3, 0.2) == [1e-3, 1e-2, 1e-1]
    assert log_ticks(1e-6, 1e2) == [1e-6, 1e-4, 1e-2, 1.0, 1e2]  # 9 decades thinned to about 5
    assert log_ticks(3.0, 40.0) == [5.0, 10.0, 20.0]
    assert format_number(1e-5) == "1e-5" and format_number(0.012345) == "0.0123" and format_number(0) == "0"
    assert tick_labels([0.97, 0.9725, 0.975]) == ["0.97", "0.9725", "0.975"]  # as many digits as the ticks need
    assert tick_labels([0.0, 0.2, 0.4]) == ["0", "0.2", "0.4"] and tick_labels([1e-5, 1e-2]) == ["1e-5", "0.01"]


def test_scales_map_the_domain_onto_the_pixels():
    x = Scale(0.0, 10.0, 100.0, 300.0)
    assert x(0.0) == 100.0 and x(10.0) == 300.0 and x(2.5) == 150.0
    y = Scale(1e-4, 1.0, 250.0, 50.0, log=True)  # bottom to top
    assert y(1e-2) == pytest.approx(150.0) and y(1.0) == pytest.approx(50.0)
    c = CategoryScale(["a", "b", "c", "d"], 0.0, 400.0)
    assert [c(i) for i in range(4)] == [50.0, 150.0, 250.0, 350.0] and c.labels([2, 0]) == ["c", "a"]
    with pytest.raises(ValueError, match="log axis needs a domain above 0"):
        Scale(0.0, 1.0, 0, 1, log=True)


def test_ramps_run_from_their_first_to_their_last_colour():
    assert ramp_colour(0.0) == VIRIDIS[0] and ramp_colour(1.0) == VIRIDIS[-1] and ramp_colour(2.0) == VIRIDIS[-1]
    assert ramp_colour(0.5, BLUES) == BLUES[4]


def test_line_plot_has_axes_ticks_labels_series_and_a_legend():
    series = [Series("random", [1, 2, 3, 4], [0.5, 0.6, 0.6, 0.8]),
              Series("bayes", [1, 2, 3, 4], [0.4, None, 0.7, 0.9])]  # None breaks the line in two
    root = parse(line_plot(series, xlabel="trial", ylabel="best score", title="Best so far"))
    assert len(by_class(root, "axis")) == 2
    assert len(by_class(root, "x-tick")) == len(by_class(root, "x-tick-label")) >= 3
    assert len(by_class(root, "y-tick")) == len(by_class(root, "y-tick-label")) >= 3
    assert texts(root, "axis-label") == ["trial", "best score"] and texts(root, "plot-title") == ["Best so far"]
    assert len(by_class(root, "series", "polyline")) == 3
    assert texts(root, "legend-label") == ["random", "bayes"]
    assert [e.get("stroke") for e in by_class(root, "series")] == [OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[1]]


def test_a_point_lands_at_its_computed_pixel_on_linear_and_log_axes():
    width, height = 480, 300
    left, right, top, bottom = plot_box(width, height)
    s = Series("s", [5.0], [0.25], markers=True)
    root = parse(line_plot([s], xlabel="x", ylabel="y", xlim=(0.0, 10.0), ylim=(0.0, 1.0), width=width,
                           height=height))
    (point,) = by_class(root, "point")
    assert float(point.get("cx")) == pytest.approx(left + 0.5 * (right - left), abs=0.01)
    assert float(point.get("cy")) == pytest.approx(bottom - 0.25 * (bottom - top), abs=0.01)
    assert point.find(SVG + "title").text == "s: 5, 0.25"
    s = Series("s", [1e-2], [100.0], markers=True)
    root = parse(line_plot([s], xlabel="x", ylabel="y", xlog=True, ylog=True, xlim=(1e-4, 1.0), ylim=(1.0, 1e3),
                           width=width, height=height))
    (point,) = by_class(root, "point")
    assert float(point.get("cx")) == pytest.approx(left + 0.5 * (right - left), abs=0.01)
    assert float(point.get("cy")) == pytest.approx(bottom - 2 / 3 * (bottom - top), abs=0.01)
    ticks = {e.text: float(e.get("x")) for e in by_class(root, "x-tick-label")}
    assert ticks["0.01"] == pytest.approx(left + 0.5 * (right - left), abs=0.01)


def test_default_domains_span_the_data_and_a_legend_takes_room_on_the_right():
    width, height = 480, 300
    left, right, top, bottom = plot_box(width, height, LEGEND_WIDTH)
    series = [Series("a", [2.0, 4.0], [1.0, 3.0], markers=True), Series("b", [3.0], [2.0], markers=True)]
    root = parse(line_plot(series, xlabel="x", ylabel="y", width=width, height=height))
    cx = sorted(float(p.get("cx")) for p in by_class(root, "point"))
    assert cx == pytest.approx([left, (left + right) / 2, right], abs=0.01)  # x: the data's range
    cy = sorted(float(p.get("cy")) for p in by_class(root, "point"))
    pad = 0.05 * (bottom - top) / 1.1  # y: the range widened by 5% on each side
    assert cy == pytest.approx([top + pad, (top + bottom) / 2, bottom - pad], abs=0.01)


def test_step_lines_hold_each_value_until_the_next_point():
    root = parse(line_plot([Series("s", [0, 1, 2], [0.0, 1.0, 1.0])], xlabel="x", ylabel="y", step=True,
                           xlim=(0, 2), ylim=(0, 1), width=200, height=200))
    (line,) = by_class(root, "series")
    pairs = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
    assert len(pairs) == 5 and pairs[1][1] == pairs[0][1] and pairs[1][0] == pairs[2][0]


def test_scatter_plot_of_categories_spreads_points_within_their_band():
    groups = [("random", [0, 0, 1, 2], [0.1, 0.2, 0.3, 0.4], None, None),
              ("bayes", [2, 2], [0.5, 0.6], ["first", "second"], None)]
    root = parse(scatter_plot(groups, xlabel="width", ylabel="score", xcategories=["(16,)", "(32,)", "(64,)"]))
    points = by_class(root, "point")
    assert len(points) == 6 and texts(root, "x-tick-label") == ["(16,)", "(32,)", "(64,)"]
    centres = {float(t.get("x")): t.text for t in by_class(root, "x-tick-label")}
    band = sorted(centres)[1] - sorted(centres)[0]
    for p, category in zip(points, [0, 0, 1, 2, 2, 2]):
        assert abs(float(p.get("cx")) - sorted(centres)[category]) <= 0.3 * band + 0.01
    assert [p.find(SVG + "title").text for p in points[-2:]] == ["first", "second"]
    assert texts(root, "legend-label") == ["random", "bayes"]


def test_bar_chart_bars_are_proportional_and_labelled():
    root = parse(bar_chart(["lr", "alpha <&> beta"], [0.5, 0.25], xlabel="share", xlim=(0.0, 1.0)))
    bars = by_class(root, "bar")
    assert len(bars) == 2 and texts(root, "bar-label") == ["0.5", "0.25"]
    assert float(bars[0].get("width")) == pytest.approx(2 * float(bars[1].get("width")), abs=0.02)
    assert float(bars[0].get("y")) < float(bars[1].get("y"))  # the first label on top
    assert texts(root, "y-tick-label") == ["alpha <&> beta", "lr"]  # escaped in the file, read back as text


def test_heatmap_has_one_cell_per_entry_coloured_by_its_count():
    C = np.array([[5, 0, 1], [0, 7, 0], [2, 0, 3]])
    root = parse(heatmap(C, ["a", "b", "c"], ["a", "b", "c"], xlabel="predicted", ylabel="true"))
    cells = by_class(root, "cell")
    assert len(cells) == 9 and texts(root, "cell-label") == [str(v) for v in C.ravel()]
    assert cells[4].get("fill") == BLUES[-1] and cells[1].get("fill") == BLUES[0]
    assert cells[2].find(SVG + "title").text == "true a, predicted c: 1"
    assert float(cells[0].get("y")) < float(cells[3].get("y"))  # row 0 on top
    assert texts(root, "x-tick-label") == ["a", "b", "c"] and texts(root, "y-tick-label") == ["c", "b", "a"]


def test_parallel_coordinates_draw_one_line_per_row_through_every_axis():
    axes = [Axis("lr", [1e-3, 1e-2, 1e-1], log=True, domain=(1e-3, 1e-1)),
            Axis("act", [0, 1, 1], categories=["relu", "tanh"]),
            Axis("score", [0.2, 0.9, 0.5])]
    root = parse(parallel_coordinates(axes, [0.2, 0.9, 0.5], colour_label="score", better="high", clip=0.0))
    lines = by_class(root, "series")
    assert len(by_class(root, "axis")) == 3 and len(lines) == 3
    assert texts(root, "axis-label")[:3] == ["lr", "act", "score"]
    assert [line.get("stroke") for line in lines] == [VIRIDIS[0], ramp_colour(3 / 7), VIRIDIS[-1]]  # best last
    best = [tuple(map(float, p.split(","))) for p in lines[-1].get("points").split()]
    worst = [tuple(map(float, p.split(","))) for p in lines[0].get("points").split()]
    lr_axis = by_class(root, "axis")[0]
    bottom, top, x = float(lr_axis.get("y1")), float(lr_axis.get("y2")), float(lr_axis.get("x1"))
    assert worst[0] == pytest.approx((x, bottom), abs=0.01)  # lr = 1e-3, the bottom of its log axis
    assert best[0] == pytest.approx((x, (bottom + top) / 2), abs=0.01)  # lr = 1e-2, half way in log10
    assert len(by_class(root, "colour-strip")) == 32


@settings(max_examples=60, deadline=None)
@given(points=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=12),
       directions=st.tuples(st.sampled_from(["minimize", "maximize"]), st.sampled_from(["minimize", "maximize"])))
def test_pareto_mask_matches_the_definition_of_dominance(points, directions):
    P = np.array(points, dtype=float)
    sign = np.array([1.0 if d == "minimize" else -1.0 for d in directions])
    L = P * sign

    def dominated(i):
        return any(np.all(L[j] <= L[i]) and np.any(L[j] < L[i]) for j in range(len(L)))

    assert pareto_mask(P, directions).tolist() == [not dominated(i) for i in range(len(L))]


def test_pareto_plot_joins_the_front_in_order_of_the_first_objective():
    # accuracy (maximise) against seconds (minimise): the front is (0.8, 1), (0.9, 2), (0.95, 5)
    points = [(0.8, 1.0), (0.9, 2.0), (0.85, 3.0), (0.95, 5.0), (0.7, 4.0)]
    root = parse(pareto_plot(points, directions=["maximize", "minimize"], labels=("accuracy", "seconds")))
    front = by_class(root, "front-point")
    assert len(by_class(root, "point")) == 5 and len(front) == 3
    (line,) = by_class(root, "front", "polyline")
    xy = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
    assert xy == sorted(xy) and len(xy) == 3
    centres = sorted((float(c.get("cx")), float(c.get("cy"))) for c in front)
    np.testing.assert_allclose(centres, xy, atol=0.01)
    assert xy[0][1] > xy[1][1] > xy[2][1]  # seconds grow along the front: up the page
    assert texts(root, "axis-label") == ["accuracy (higher is better)", "seconds (lower is better)"]
    assert texts(root, "legend-label") == ["trials", "Pareto front"]
    with pytest.raises(ValueError, match="'minimize' or 'maximize'"):
        pareto_mask(points, ["up", "down"])
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        pareto_mask(points, ["minimize"] * 3)


def test_parallel_coordinates_clip_a_few_poor_values_to_the_end_of_the_colour_bar():
    values = [0.1] + list(np.linspace(0.8, 0.9, 19))  # one poor trial among twenty
    root = parse(parallel_coordinates([Axis("score", values)], values, colour_label="score", better="high"))
    labels = [t.text for t in by_class(root, "colour-bar")[0].iter(SVG + "text") if "tick-label" in t.get("class")]
    assert labels == ["0.9", "<= " + format_number(float(np.percentile(values, 10)), 4)]
    strokes = [line.get("stroke") for line in by_class(root, "series")]
    assert strokes[0] == VIRIDIS[0] and strokes[-1] == VIRIDIS[-1] and len(set(strokes)) >= 15
    values = [0.1, 0.2, 5.0]  # lower is better: the poor high value is clipped at the top
    root = parse(parallel_coordinates([Axis("loss", values)], values, colour_label="loss", better="low"))
    labels = [t.text for t in by_class(root, "colour-bar")[0].iter(SVG + "text") if "tick-label" in t.get("class")]
    assert labels[0].startswith(">= ") and labels[1] == "0.1"
    with pytest.raises(ValueError, match="`better` must be 'high' or 'low'; got 'up'"):
        parallel_coordinates([Axis("loss", values)], values, colour_label="loss", better="up")
