"""Plots of many dimensions at once: parallel coordinates of trials, and the Pareto front of two objectives.

Parallel coordinates (Inselberg, "The plane with parallel coordinates", The Visual Computer, 1985): one
vertical axis per hyperparameter and one for the objective; each trial is a line through its values,
coloured by its objective value.
"""

from dataclasses import dataclass

import numpy as np

from tunelab.searchers.report.plots import MARGINS, POINT_PAD, colour_bar, frame
from tunelab.searchers.report.svg import (
    OKABE_ITO, CategoryScale, Scale, data_range, format_number, points_attr, ramp_colour,
)

DIRECTIONS = ("minimize", "maximize")


@dataclass
class Axis:
    """One vertical axis: its name, one value per row (a category index when `categories` lists the
    labels), log scale or not, and an optional domain (lo, hi) (default: the values' range)."""

    name: str
    values: list
    log: bool = False
    categories: list = None
    domain: tuple = None

    def scale(self, bottom, top):
        if self.categories is not None:
            return CategoryScale(self.categories, bottom, top)
        return Scale(*(self.domain or data_range(self.values, 0.0, self.log)), bottom, top, log=self.log)


def colour_range(values, better, clip=10.0):
    """The values mapped onto the colour ramp: from the `clip`-th percentile to the best value when higher
    is better (from the best to the (100 - clip)-th percentile when lower is), so that a few very poor
    trials do not squeeze the good ones into one colour; the poorer values take the end colour."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0, 1.0
    if better == "high":
        return float(np.percentile(v, clip)), float(v.max())
    return float(v.min()), float(np.percentile(v, 100.0 - clip))


def parallel_coordinates(axes, colour_values, *, colour_label, tooltips=None, better="high", title=None,
                         width=760, height=340, clip=10.0):
    """One polyline per row through `axes` (a list of `Axis`), coloured by `colour_values` on viridis from
    low (dark) to high (light) over `colour_range` (the colour bar marks a clipped end with <= or >=);
    rows with better values (`better` "high" or "low") are drawn last, on top. Axis names sit under the
    axes (two rows when they are crowded)."""
    if better not in ("high", "low"):
        raise ValueError(f"`better` must be 'high' or 'low'; got {better!r}.")
    axes = list(axes)
    canvas, f = frame(width, height + 16, False, title, extra_right=max(6.5 * len(colour_label), 81) + 14)
    f.bottom -= 16
    xs = np.linspace(f.left, f.right, len(axes)) if len(axes) > 1 else np.array([(f.left + f.right) / 2])
    scales = [axis.scale(f.bottom, f.top) for axis in axes]
    c = np.asarray(colour_values, dtype=np.float64)
    lo, hi = colour_range(c, better, clip)
    for x in xs:
        canvas.line(x, f.bottom, x, f.top, "axis", stroke="#444")
    for i in np.argsort(c if better == "high" else -c, kind="stable"):
        if not np.isfinite(c[i]):
            continue
        ys = [s(a.values[i]) for s, a in zip(scales, axes)]
        tip = tooltips[i] if tooltips else ", ".join(f"{a.name}={format_number(a.values[i])}" for a in axes)
        t = min(max((c[i] - lo) / (hi - lo), 0.0), 1.0) if hi > lo else 1.0
        canvas.element("polyline", points=points_attr(xs, ys), fill="none", stroke=ramp_colour(t), stroke_width=1.6,
                       stroke_opacity=0.85, cls="series", title=tip)
    _axis_labels(canvas, axes, scales, xs, f.bottom)  # over the lines, with a white halo
    finite = c[np.isfinite(c)]
    clipped = (finite.min() < lo, finite.max() > hi) if finite.size else (False, False)
    colour_bar(canvas, f.right + 30, f.top + 14, f.bottom, lo, hi, colour_label, clipped=clipped)
    if title:
        canvas.text(MARGINS["left"], 18, title, "plot-title", anchor="start", size=13, font_weight="600")
    return canvas.to_svg()


def _axis_labels(canvas, axes, scales, xs, bottom):
    """Ticks and tick labels of every axis, and its name below it (two rows when the names are crowded)."""
    crowded = len(axes) > 1 and (xs[1] - xs[0]) < 7 * max(len(a.name) for a in axes)
    for k, (axis, scale, x) in enumerate(zip(axes, scales, xs)):
        ticks = scale.ticks(5)
        for v, label in zip(ticks, scale.labels(ticks)):
            p = scale(v)
            canvas.line(x - 4, p, x, p, "tick")
            canvas.text(x - 6, p + 4, label, "tick-label", anchor="end", size=10, stroke="#fff",
                        stroke_width=3, paint_order="stroke")
        canvas.text(x, bottom + 18 + (14 if crowded and k % 2 else 0), axis.name, "axis-label", size=11)


def pareto_mask(points, directions):
    """mask (n,): True for the points no other point dominates. Point j dominates i when it is at least
    as good in every objective and better in one (minimise: smaller is better; maximise: larger)."""
    P = np.asarray(points, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] != len(directions):
        raise ValueError(f"`points` must have shape (n, {len(directions)}) for {len(directions)} directions; "
                         f"got {P.shape}.")
    for d in directions:
        if d not in DIRECTIONS:
            raise ValueError(f"each direction must be 'minimize' or 'maximize'; got {d!r}.")
    L = P * np.array([1.0 if d == "minimize" else -1.0 for d in directions])  # (n, k): smaller is better
    no_worse = (L[None, :, :] <= L[:, None, :]).all(axis=2)  # [i, j]: j is no worse than i everywhere
    better = (L[None, :, :] < L[:, None, :]).any(axis=2)
    return ~(no_worse & better).any(axis=1)


def pareto_plot(points, *, directions, labels=("objective 1", "objective 2"), tooltips=None, title=None,
                width=480, height=320):
    """A scatter of 2-D points (n, 2) with the non-dominated ones highlighted and joined in order of the
    first objective (the front); a legend says which is which."""
    P = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    mask = pareto_mask(P, directions)
    canvas, f = frame(width, height, True, title)
    f.set_x(*data_range(P[:, 0], POINT_PAD))
    f.set_y(*data_range(P[:, 1], POINT_PAD))
    arrows = [("lower" if d == "minimize" else "higher") + " is better" for d in directions]
    f.axes(f"{labels[0]} ({arrows[0]})", f"{labels[1]} ({arrows[1]})", title)
    front = np.flatnonzero(mask)
    front = front[np.lexsort((P[front, 1], P[front, 0]))]
    canvas.element("polyline", points=points_attr(f.x(P[front, 0]), f.y(P[front, 1])), fill="none",
                   stroke=OKABE_ITO[1], stroke_width=2.0, cls="series front", title="Pareto front")
    for i in range(P.shape[0]):
        tip = tooltips[i] if tooltips else \
            f"{labels[0]} {format_number(P[i, 0], 4)}, {labels[1]} {format_number(P[i, 1], 4)}"
        colour = OKABE_ITO[1] if mask[i] else OKABE_ITO[5]
        canvas.element("circle", cx=f.x(P[i, 0]), cy=f.y(P[i, 1]), r=4.0 if mask[i] else 3.0, fill=colour,
                       cls="point front-point" if mask[i] else "point", title=tip)
    f.legend([("trials", OKABE_ITO[5], "point"), ("Pareto front", OKABE_ITO[1], "line")])
    return canvas.to_svg()
