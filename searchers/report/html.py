"""The report page: one self-contained HTML file (inline CSS and SVG; no script, no network) that opens
from disk in any browser."""

import html
from dataclasses import dataclass, field

from tunelab.searchers.report.svg import FONT, series_colour

CSS = f"""
body {{ {FONT}; color: #222; background: #fff; margin: 0 auto; max-width: 1180px; padding: 16px 24px 48px; }}
h1 {{ font-size: 1.6em; margin-bottom: 0.2em; }}
h2 {{ font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }}
h3 {{ font-size: 1.02em; margin: 1.2em 0 0.3em; }}
nav ol {{ columns: 2; font-size: 0.95em; }}
p.note {{ color: #555; font-size: 0.92em; max-width: 70em; }}
pre {{ background: #f5f5f5; padding: 8px 10px; overflow-x: auto; border-radius: 4px; }}
table {{ border-collapse: collapse; font-size: 0.9em; margin: 0.6em 0; }}
th, td {{ border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f2f2f2; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.figures {{ display: flex; flex-wrap: wrap; gap: 12px 20px; align-items: flex-start; }}
figure {{ margin: 0; }}
figcaption {{ font-size: 0.85em; color: #555; max-width: 480px; }}
svg {{ max-width: 100%; height: auto; }}
p.legend .key {{ margin-right: 1.4em; font-size: 0.92em; }}
"""


@dataclass
class Section:
    """One part of the report: an anchor `id`, a heading, and its HTML body (figures, tables, notes)."""

    id: str
    title: str
    body: str
    notes: list = field(default_factory=list)


def escape(text):
    return html.escape(str(text), quote=True)


def note(text):
    return f'<p class="note">{escape(text)}</p>'


def figure(svg, caption=None):
    """An inline SVG in a <figure>, with an optional caption."""
    caption = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f"<figure>{svg}{caption}</figure>"


def figures(*items):
    """Figures side by side, wrapping on narrow screens."""
    return '<div class="figures">' + "".join(items) + "</div>"


def html_legend(labels):
    """A line of coloured dots naming the searchers (the k-th label in the k-th Okabe-Ito colour), shared
    by a group of small plots."""
    items = "".join(f'<span class="key"><span style="color:{series_colour(k)}">&#9679;</span> {escape(label)}</span>'
                    for k, label in enumerate(labels))
    return f'<p class="legend">{items}</p>'


def table(rows, columns, numeric=()):
    """An HTML table of dict rows; numbers formatted to 4 significant digits."""
    def cell(row, column):
        value = row.get(column, "")
        if isinstance(value, float):
            return f'<td class="num">{value:.4g}</td>'
        return f'<td class="num">{value}</td>' if column in numeric else f"<td>{escape(value)}</td>"

    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(cell(r, c) for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_page(title, sections, intro=()):
    """The whole HTML document: title, intro paragraphs, a table of contents, then each section."""
    toc = "".join(f'<li><a href="#{escape(s.id)}">{escape(s.title)}</a></li>' for s in sections)
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        f"<h1>{escape(title)}</h1>", *(f"<p>{escape(line)}</p>" for line in intro),
        f'<nav aria-label="sections"><ol>{toc}</ol></nav>',
    ]
    for s in sections:
        parts.append(f'<section id="{escape(s.id)}"><h2>{escape(s.title)}</h2>{s.body}'
                     + "".join(note(n) for n in s.notes) + "</section>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"
