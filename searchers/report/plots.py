"""Plots as SVG strings: lines (with bands), scatters, horizontal bars, heat maps and colour bars.

Each function takes plain numbers (lists or arrays) and returns one <svg> element. The data domain of an
axis is the range of the values drawn (y widened by 5% of it on each side, points by 3%), unless `xlim`
/ `ylim` give it; the plot area is the canvas less `MARGINS` (and less `LEGEND_WIDTH` on the right when
there is a legend), so a value's pixel is `Scale(lo, hi, left, right)(value)`.
"""

from dataclasses import dataclass, field

import numpy as np

from tunelab.searchers.report.svg import (
    BLUES, VIRIDIS, Canvas, Frame, data_range, format_number, points_attr, ramp_colour, series_colour,
)

MARGINS = {"left": 68, "right": 18, "top": 34, "bottom": 50}
LEGEND_WIDTH = 130
Y_PAD, POINT_PAD = 0.05, 0.03


@dataclass
class Series:
    """One line of a line plot: x, y (None or NaN breaks it), an optional band [lower, upper] drawn
    under it (e.g. mean +- one standard deviation), a colour (default: the k-th Okabe-Ito colour),
    `dashed`, and `markers` (a circle with a tooltip at each point)."""

    label: str
    x: list
    y: list
    lower: list = None
    upper: list = None
    colour: str = None
    dashed: bool = False
    markers: bool = False
    tooltips: list = field(default=None, repr=False)


def legend_width(labels):
    """The room a legend of these labels takes on the right: swatch, gap and about 6.5 px per character."""
    return max(LEGEND_WIDTH, 40 + 6.5 * max((len(str(label)) for label in labels), default=0))


def frame(width, height, legend=False, title=None, extra_right=0):
    """A canvas and its plot area with the standard margins; `legend`: False, True (a legend of standard
    width on the right) or the legend's labels (room for the longest)."""
    canvas = Canvas(width, height, title)
    room = 0 if legend is False else LEGEND_WIDTH if legend is True else legend_width(legend)
    right = width - MARGINS["right"] - room - extra_right
    return canvas, Frame(canvas, MARGINS["left"], MARGINS["top"], right, height - MARGINS["bottom"])


def _finite_runs(x, y):
    """Maximal runs of consecutive points with finite x and y; a list of (xs, ys)."""
    runs, xs, ys = [], [], []
    for a, b in zip(x, y):
        if a is None or b is None or not (np.isfinite(a) and np.isfinite(b)):
            if xs:
                runs.append((xs, ys))
            xs, ys = [], []
        else:
            xs.append(float(a))
            ys.append(float(b))
    if xs:
        runs.append((xs, ys))
    return runs


def _steps(xs, ys):
    """The corners of a step line that holds each value until the next x (drawstyle 'steps-post')."""
    sx, sy = [xs[0]], [ys[0]]
    for a, b in zip(xs[1:], ys[1:]):
        sx += [a, a]
        sy += [sy[-1], b]
    return sx, sy


def _draw_series(f, s, colour, step):
    c = f.canvas
    if s.lower is not None and s.upper is not None:
        for (xs, lo), (_, hi) in zip(_finite_runs(s.x, s.lower), _finite_runs(s.x, s.upper)):
            px, plo, phi = f.x(xs), f.y(lo), f.y(hi)
            c.element("polygon", points=points_attr(np.r_[px, px[::-1]], np.r_[phi, plo[::-1]]), fill=colour,
                      fill_opacity=0.18, stroke="none", cls="band")
    for xs, ys in _finite_runs(s.x, s.y):
        lx, ly = _steps(xs, ys) if step else (xs, ys)
        c.element("polyline", points=points_attr(f.x(lx), f.y(ly)), fill="none", stroke=colour, stroke_width=2.0,
                  stroke_dasharray="6 4" if s.dashed else None, cls="series", title=s.label)
    if s.markers:
        for k, (a, b) in enumerate(zip(s.x, s.y)):
            if a is None or b is None or not (np.isfinite(a) and np.isfinite(b)):
                continue
            tip = s.tooltips[k] if s.tooltips else f"{s.label}: {format_number(a)}, {format_number(b, 4)}"
            c.element("circle", cx=f.x(a), cy=f.y(b), r=3.0, fill=colour, cls="point", title=tip)


def line_plot(series, *, xlabel, ylabel, title=None, xlog=False, ylog=False, xlim=None, ylim=None, step=False,
              xcategories=None, legend=None, vlines=(), width=520, height=300):
    """Lines (`Series`) over shared axes, with a legend when there are several (or `legend`=True).

    step: hold each value until the next x (best so far). xcategories: labels of x = 0, 1, ..., m-1.
    vlines: (x, label) pairs drawn as dashed vertical reference lines, labelled at the top.
    """
    series = list(series)
    legend = len(series) > 1 if legend is None else legend
    canvas, f = frame(width, height, [s.label for s in series] if legend else False, title)
    xs = [v for s in series for v in s.x]
    ys = [v for s in series for v in list(s.y) + list(s.lower or []) + list(s.upper or [])]
    if xcategories is not None:
        f.set_x(None, None, categories=xcategories)
    else:
        f.set_x(*(xlim or data_range(xs, 0.0, xlog)), log=xlog)
    f.set_y(*(ylim or data_range(ys, Y_PAD, ylog)), log=ylog)
    f.axes(xlabel, ylabel, title)
    for x, label in vlines:
        p = f.x(x)
        canvas.line(p, f.bottom, p, f.top, "reference", stroke="#444", stroke_dasharray="3 3", title=label)
        canvas.text(p + 3, f.top + 10, label, "reference-label", anchor="start", size=10)
    entries = []
    for k, s in enumerate(series):
        colour = s.colour or series_colour(k)
        _draw_series(f, s, colour, step)
        entries.append((s.label, colour, "dashed" if s.dashed else "line"))
    if legend:
        f.legend(entries)
    return canvas.to_svg()


def scatter_plot(groups, *, xlabel, ylabel, title=None, xlog=False, ylog=False, xcategories=None, xlim=None,
                 ylim=None, legend=None, width=360, height=260):
    """Points in groups, each (label, x, y, tooltips or None, colour or None); a legend when there are
    several groups. With `xcategories`, x holds category indices and points are spread sideways within
    their band by a fixed pattern (no randomness) so that equal values stay visible."""
    groups = list(groups)
    legend = len(groups) > 1 if legend is None else legend
    canvas, f = frame(width, height, [g[0] for g in groups] if legend else False, title)
    if xcategories is not None:
        f.set_x(None, None, categories=xcategories)
    else:
        f.set_x(*(xlim or data_range([v for g in groups for v in g[1]], POINT_PAD, xlog)), log=xlog)
    f.set_y(*(ylim or data_range([v for g in groups for v in g[2]], Y_PAD, ylog)), log=ylog)
    f.axes(xlabel, ylabel, title)
    entries, n = [], 0
    for k, (label, x, y, tips, colour) in enumerate(groups):
        colour = colour or series_colour(k)
        for i, (a, b) in enumerate(zip(x, y)):
            if b is None or not np.isfinite(b):
                continue
            px = f.x(a)
            if xcategories is not None:  # golden-ratio offsets in [-0.3, 0.3) of the band
                px += ((n * 0.6180339887) % 1.0 - 0.5) * 0.6 * (f.x(1) - f.x(0))
            n += 1
            tip = tips[i] if tips else f"{label}: {format_number(a)}, {format_number(b, 4)}"
            f.canvas.element("circle", cx=px, cy=f.y(b), r=3.5, fill=colour, fill_opacity=0.8, cls="point", title=tip)
        entries.append((label, colour, "point"))
    if legend:
        f.legend(entries)
    return canvas.to_svg()


def bar_chart(labels, values, *, xlabel, title=None, xlim=None, colour=None, width=480, height=None):
    """Horizontal bars, one per label from the top, each with its value written at its end."""
    labels, values = [str(label) for label in labels], [float(v) for v in values]
    height = height or MARGINS["top"] + MARGINS["bottom"] + 28 * max(len(labels), 1)
    extra_left = min(max((max((len(t) for t in labels), default=0) - 8) * 6.5, 0), 160)
    canvas, f = frame(width, height, False, title, extra_right=28)
    f.left += extra_left
    f.set_x(*(xlim or (0.0, max(max(values, default=0.0), 1e-12))))
    f.set_y(None, None, categories=labels[::-1])
    f.axes(xlabel, "", title, grid=True)
    colour = colour or series_colour(0)
    band = abs(f.y(1) - f.y(0)) if len(labels) > 1 else (f.bottom - f.top)
    for k, (label, v) in enumerate(zip(labels, values)):
        y = f.y(len(labels) - 1 - k)
        x0, x1 = f.x(0.0), f.x(max(v, 0.0))
        f.canvas.element("rect", x=x0, y=y - 0.35 * band, width=max(x1 - x0, 0.0), height=0.7 * band, fill=colour,
                         cls="bar", title=f"{label}: {format_number(v)}")
        f.canvas.text(x1 + 4, y + 4, format_number(v, 2), "bar-label", anchor="start")
    return canvas.to_svg()


def heatmap(matrix, row_labels, col_labels, *, xlabel, ylabel, title=None, width=None, height=None):
    """A matrix of cells coloured by value (ColorBrewer Blues at t = sqrt(value / largest value), so that
    small counts stay visible beside a large diagonal), each cell with its value written in it and in its
    tooltip; rows from the top."""
    M = np.asarray(matrix, dtype=np.float64)
    n_rows, n_cols = M.shape
    cell = max(22, min(48, 360 // max(n_rows, n_cols, 1)))
    width = width or MARGINS["left"] + MARGINS["right"] + cell * n_cols + 20
    height = height or MARGINS["top"] + MARGINS["bottom"] + cell * n_rows
    canvas, f = frame(width, height, False, title, extra_right=20)
    f.set_x(None, None, categories=[str(c) for c in col_labels])
    f.set_y(None, None, categories=[str(r) for r in row_labels][::-1])
    f.axes(xlabel, ylabel, title, grid=False)
    top = float(M.max()) if M.size and M.max() > 0 else 1.0
    w, h = (f.right - f.left) / n_cols, (f.bottom - f.top) / n_rows
    for i in range(n_rows):
        for j in range(n_cols):
            t = np.sqrt(max(M[i, j], 0.0) / top)
            x, y = f.left + j * w, f.top + i * h
            text = format_number(M[i, j], 4)
            f.canvas.element("rect", x=x, y=y, width=w, height=h, fill=ramp_colour(t, BLUES), stroke="#fff",
                             cls="cell", title=f"{ylabel} {row_labels[i]}, {xlabel} {col_labels[j]}: {text}")
            f.canvas.text(x + w / 2, y + h / 2 + 4, text, "cell-label", size=10,
                          fill="#fff" if t > 0.55 else "#222")
    return canvas.to_svg()


def colour_bar(canvas, x, top, bottom, lo, hi, label, anchors=VIRIDIS, steps=32, clipped=(False, False)):
    """A vertical colour bar from `lo` (bottom) to `hi` (top) at x, of `steps` strips, with end labels
    (written <= lo or >= hi when `clipped` says that values lie beyond that end)."""
    low_text = ("<= " if clipped[0] else "") + format_number(lo, 4)
    high_text = (">= " if clipped[1] else "") + format_number(hi, 4)
    canvas.open_group("colour-bar", title=f"{label}: {low_text} to {high_text}")
    h = (bottom - top) / steps
    for k in range(steps):
        canvas.element("rect", x=x, y=bottom - (k + 1) * h, width=12, height=h + 0.5,
                       fill=ramp_colour((k + 0.5) / steps, anchors), stroke="none", cls="colour-strip")
    canvas.text(x + 16, top + 8, high_text, "tick-label", anchor="start")
    canvas.text(x + 16, bottom, low_text, "tick-label", anchor="start")
    canvas.text(x, top - 8, label, "axis-label", anchor="start", size=11)
    canvas.close_group()
