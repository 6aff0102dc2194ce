"""SVG written by hand: scales from data to pixels, tick values, a canvas of elements, axes and legends.

Every element carries a class that says what it is (`axis`, `tick`, `tick-label`, `axis-label`, `grid`,
`plot-title`, `series`, `point`, `bar`, `cell`, `legend`, ...), so a reader of the SVG (or a test) can
find the parts of a plot; numbers a reader may want sit in `<title>` tooltips or in labels.

Colours: the Okabe-Ito palette for series (Okabe & Ito, "Color Universal Design", 2008; Wong, Nature
Methods 8:441, 2011), distinguishable with every common colour-vision deficiency; viridis (van der Walt &
Smith, matplotlib 2015) for values on a continuous scale, and the single-hue ColorBrewer Blues (Harrower &
Brewer 2003) for counts.
"""

import math

import numpy as np

# Okabe-Ito, ordered so that the first colours contrast most on white: blue, vermillion, bluish green,
# reddish purple, orange, sky blue, black, yellow.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
VIRIDIS = ("#440154", "#472c7a", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725")
BLUES = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
GREY = "#6b6b6b"
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"


def escape(text):
    """Text made safe inside an SVG element or a double-quoted attribute: & < > " as entities."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def series_colour(k):
    """The k-th Okabe-Ito colour (cycling)."""
    return OKABE_ITO[k % len(OKABE_ITO)]


def ramp_colour(t, anchors=VIRIDIS):
    """The colour at t in [0, 1] (clipped) of a ramp linearly interpolated in RGB between `anchors`."""
    t = min(max(float(t), 0.0), 1.0) if np.isfinite(t) else 0.0
    x = t * (len(anchors) - 1)
    k = min(int(x), len(anchors) - 2)
    a, b = (np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)], dtype=float) for c in anchors[k:k + 2])
    rgb = np.rint(a + (x - k) * (b - a)).astype(int)
    return "#" + "".join(f"{v:02x}" for v in rgb)


def format_number(v, digits=3):
    """A short label for a number: `digits` significant digits, exponents as 1e-5 (not 1e-05)."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return str(v)
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        return str(v)
    if v == 0:
        return "0"
    text = f"{float(v):.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def _nice(x, round_):
    """The 'nice' number 1, 2, 5 or 10 times a power of ten near x (Heckbert, "Nice numbers for graph
    labels", Graphics Gems, 1990)."""
    exponent = math.floor(math.log10(x))
    f = x / 10**exponent
    if round_:
        nf = 1 if f < 1.5 else 2 if f < 3 else 5 if f < 7 else 10
    else:
        nf = 1 if f <= 1 else 2 if f <= 2 else 5 if f <= 5 else 10
    return nf * 10**exponent


def nice_ticks(lo, hi, n=5):
    """About n tick values d apart inside [lo, hi], d a nice number (Heckbert 1990)."""
    if not hi > lo:
        return [lo]
    step = _nice(_nice(hi - lo, False) / max(n - 1, 1), True)
    first = math.ceil(lo / step - 1e-9)
    ticks = []
    k = first
    while k * step <= hi + 1e-9 * step:
        ticks.append(float(f"{k * step:.12g}") + 0.0)  # 0.6, not 0.6000000000000001
        k += 1
    return ticks


def tick_labels(values):
    """Labels for tick values with the fewest significant digits (at least 3) that tell them apart and
    read back as the values (so 0.9725 is not shown as 0.973)."""
    for digits in range(3, 13):
        labels = [format_number(v, digits) for v in values]
        if len(set(labels)) == len(labels) and all(
                math.isclose(float(label), float(v), rel_tol=1e-9, abs_tol=1e-300) for label, v in zip(labels, values)):
            return labels
    return [format_number(v, 12) for v in values]


def log_ticks(lo, hi, n=5):
    """Tick values of a log axis over [lo, hi] (lo > 0): the powers of ten inside, thinned to about n;
    with fewer than two of them, 1, 2 and 5 times the powers of ten; with still fewer, nice linear ticks."""
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    inside = [10.0**k for k in range(a, b + 1) if lo * (1 - 1e-9) <= 10.0**k <= hi * (1 + 1e-9)]
    if len(inside) >= 2:
        every = math.ceil(len(inside) / n)
        return inside[::every]
    more = sorted(m * 10.0**k for k in range(a, b + 1) for m in (1, 2, 5)
                  if lo * (1 - 1e-9) <= m * 10.0**k <= hi * (1 + 1e-9))
    return more if len(more) >= 2 else nice_ticks(lo, hi, n)


class Scale:
    """Data -> pixels along one axis: p = p0 + (x - a) / (b - a) (p1 - p0), with x = v on a linear axis
    and x = log10 v on a log one, [a, b] the domain [lo, hi] in x. p0 is the pixel of lo (for a y axis
    the bottom of the plot, since SVG's y grows downwards)."""

    def __init__(self, lo, hi, p0, p1, log=False):
        lo, hi = float(lo), float(hi)
        if log and not lo > 0:
            raise ValueError(f"a log axis needs a domain above 0; got [{lo!r}, {hi!r}].")
        if not hi > lo:  # a single value: a domain around it
            lo, hi = (lo / 2, lo * 2) if log else (lo - max(abs(lo), 1.0) / 2, lo + max(abs(lo), 1.0) / 2)
        self.lo, self.hi, self.p0, self.p1, self.log = lo, hi, float(p0), float(p1), bool(log)
        self._a, self._b = (math.log10(lo), math.log10(hi)) if log else (lo, hi)

    def __call__(self, v):
        v = np.asarray(v, dtype=np.float64)
        x = np.log10(v) if self.log else v
        p = self.p0 + (x - self._a) / (self._b - self._a) * (self.p1 - self.p0)
        return float(p) if p.ndim == 0 else p

    def ticks(self, n=5):
        return log_ticks(self.lo, self.hi, n) if self.log else nice_ticks(self.lo, self.hi, n)

    def labels(self, ticks):
        """The labels of these tick values."""
        return tick_labels(ticks)


class CategoryScale(Scale):
    """Categories at 0, 1, ..., m-1 on the domain [-1/2, m - 1/2]: category i at the centre of its band."""

    def __init__(self, labels, p0, p1):
        self.names = [str(label) for label in labels]
        super().__init__(-0.5, len(self.names) - 0.5, p0, p1)

    def ticks(self, n=None):
        return list(range(len(self.names)))

    def labels(self, ticks):
        return [self.names[int(round(v))] for v in ticks]


def data_range(values, pad=0.0, log=False):
    """(lo, hi) of the finite values (positive ones on a log axis), widened by `pad` times the span on
    each side (in log10 on a log axis); (0, 1) when there is none."""
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    v = v[np.isfinite(v) & ((v > 0) if log else True)]
    if v.size == 0:
        return (1.0, 10.0) if log else (0.0, 1.0)
    lo, hi = float(v.min()), float(v.max())
    if log:
        a, b = math.log10(lo), math.log10(hi)
        return 10 ** (a - pad * (b - a)), 10 ** (b + pad * (b - a))
    return lo - pad * (hi - lo), hi + pad * (hi - lo)


def _attrs(attrs):
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        name = "class" if key == "cls" else key.rstrip("_").replace("_", "-")
        if isinstance(value, float):
            value = f"{value:.2f}".rstrip("0").rstrip(".")
        parts.append(f'{name}="{escape(value)}"')
    return " ".join(parts)


def points_attr(xs, ys):
    """The `points` of a polyline: 'x1,y1 x2,y2 ...' with two decimals."""
    return " ".join(f"{x:.2f},{y:.2f}" for x, y in zip(xs, ys))


class Canvas:
    """An SVG image built element by element; `to_svg()` returns it as a string (one <svg> element with
    its own xmlns, so it may be inlined in HTML or saved as a .svg file)."""

    def __init__(self, width, height, title=None):
        self.width, self.height, self.title = int(width), int(height), title
        self.parts = []

    def element(self, tag, text=None, title=None, **attrs):
        """Append <tag attrs>text<title>title</title></tag>; `cls` sets the class attribute."""
        inner = (f"<title>{escape(str(title))}</title>" if title is not None else "") + \
            (escape(str(text)) if text is not None else "")
        head = f"<{tag} {_attrs(attrs)}".rstrip()
        self.parts.append(f"{head}>{inner}</{tag}>" if inner else f"{head}/>")

    def open_group(self, cls, title=None):
        self.parts.append(f"<g {_attrs({'cls': cls})}>" + (f"<title>{escape(str(title))}</title>" if title else ""))

    def close_group(self):
        self.parts.append("</g>")

    def line(self, x1, y1, x2, y2, cls, stroke=GREY, title=None, **attrs):
        self.element("line", x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2), cls=cls, stroke=stroke,
                     title=title, **attrs)

    def text(self, x, y, text, cls, anchor="middle", size=11, **attrs):
        self.element("text", text=text, x=float(x), y=float(y), cls=cls, text_anchor=anchor, font_size=size,
                     fill=attrs.pop("fill", "#222"), **attrs)

    def to_svg(self):
        label = f' aria-label="{escape(self.title)}"' if self.title else ""
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
                f'viewBox="0 0 {self.width} {self.height}" role="img"{label} style="{FONT}">')
        title = f"<title>{escape(self.title)}</title>" if self.title else ""
        return head + title + "".join(self.parts) + "</svg>"


class Frame:
    """A plot area of a canvas: its pixel box (left, top, right, bottom) and the scales x and y mapping
    data into it (x from left to right, y from bottom to top)."""

    def __init__(self, canvas, left, top, right, bottom):
        self.canvas = canvas
        self.left, self.top, self.right, self.bottom = float(left), float(top), float(right), float(bottom)
        self.x = self.y = None

    def set_x(self, lo, hi, log=False, categories=None):
        self.x = (CategoryScale(categories, self.left, self.right) if categories is not None
                  else Scale(lo, hi, self.left, self.right, log))
        return self.x

    def set_y(self, lo, hi, log=False, categories=None):
        self.y = (CategoryScale(categories, self.bottom, self.top) if categories is not None
                  else Scale(lo, hi, self.bottom, self.top, log))
        return self.y

    def axes(self, xlabel, ylabel, title=None, grid=True, xticks=None, yticks=None):
        """The two axis lines, ticks with labels (and light grid lines), axis labels and the title."""
        c = self.canvas
        c.line(self.left, self.bottom, self.right, self.bottom, "axis x-axis", stroke="#444")
        c.line(self.left, self.bottom, self.left, self.top, "axis y-axis", stroke="#444")
        xticks = self.x.ticks() if xticks is None else xticks
        for v, label in zip(xticks, self.x.labels(xticks)):
            p = self.x(v)
            if grid and not isinstance(self.x, CategoryScale):
                c.line(p, self.bottom, p, self.top, "grid", stroke="#e6e6e6")
            c.line(p, self.bottom, p, self.bottom + 5, "tick x-tick")
            c.text(p, self.bottom + 17, label, "tick-label x-tick-label")
        yticks = self.y.ticks() if yticks is None else yticks
        for v, label in zip(yticks, self.y.labels(yticks)):
            p = self.y(v)
            if grid and not isinstance(self.y, CategoryScale):
                c.line(self.left, p, self.right, p, "grid", stroke="#e6e6e6")
            c.line(self.left - 5, p, self.left, p, "tick y-tick")
            c.text(self.left - 8, p + 4, label, "tick-label y-tick-label", anchor="end")
        c.text((self.left + self.right) / 2, self.bottom + 36, xlabel, "axis-label x-label", size=12)
        middle = (self.top + self.bottom) / 2
        c.text(14, middle, ylabel, "axis-label y-label", size=12, transform=f"rotate(-90 14 {middle:.2f})")
        if title:
            c.text(self.left, 18, title, "plot-title", anchor="start", size=13, font_weight="600")

    def legend(self, entries, x=None, y=None):
        """A legend at (x, y) (default: right of the plot area): entries (label, colour, kind), kind one of
        "line", "dashed", "point", "band"."""
        c = self.canvas
        x = self.right + 14 if x is None else x
        y = self.top + 4 if y is None else y
        c.open_group("legend")
        for k, (label, colour, kind) in enumerate(entries):
            yk = y + 18 * k
            if kind == "point":
                c.element("circle", cx=x + 9, cy=yk, r=4.0, fill=colour, cls="legend-swatch")
            elif kind == "band":
                c.element("rect", x=x, y=yk - 5, width=18, height=10, fill=colour, fill_opacity=0.25,
                          cls="legend-swatch")
            else:
                c.line(x, yk, x + 18, yk, "legend-swatch", stroke=colour, stroke_width=2.5,
                       stroke_dasharray="5 3" if kind == "dashed" else None)
            c.text(x + 24, yk + 4, label, "legend-label", anchor="start")
        c.close_group()
