"""Tables written as HTML in the page rather than drawn by Streamlit's data grid.

Why: the data grid needs 1.2 MB of JavaScript (Arrow and Glide) before its first row shows; a
ranked list of a few hundred areas is plain HTML, which the browser shows at once, which screen
readers read as a table (a caption, column headers with scope), and which a keyboard scrolls.
The same frame goes to the page's CSV download, so nothing is lost by not having the grid.
"""
from __future__ import annotations

import html
from typing import Callable, Mapping

import pandas as pd

Format = Callable[[object], str]

CSS = """<style>
.gg-table {max-height: 380px; overflow: auto; border: 1px solid #ddd; border-radius: .4rem;}
.gg-table table {border-collapse: collapse; width: 100%; font-size: .9rem;}
.gg-table caption {text-align: left; padding: .3rem .5rem; font-weight: 600;}
.gg-table th {position: sticky; top: 0; background: #f0f2f6; text-align: left; padding: .3rem .5rem;}
.gg-table td {padding: .2rem .5rem; border-top: 1px solid #eee;}
.gg-table td.num, .gg-table th.num {text-align: right; font-variant-numeric: tabular-nums;}
</style>"""


def table(frame: pd.DataFrame, columns: Mapping[str, tuple[str, Format | None]], caption: str, *,
          links: pd.Series | None = None, link_column: str | None = None) -> str:
    """`columns`: frame column → (header, formatter or None for text). Numbers are right-aligned
    when a formatter is given. `links` (same index as `frame`) turns `link_column`'s cells into
    links. Every cell and header is escaped here. One line, no blank lines (a raw HTML block)."""
    head = "".join(f'<th scope="col" class="num">{html.escape(h)}</th>' if fmt else
                   f'<th scope="col">{html.escape(h)}</th>' for h, fmt in columns.values())
    cells: list[list[str]] = []
    for col, (_, fmt) in columns.items():
        values = frame[col].tolist()
        if fmt is None:
            text = ["–" if v is None or (isinstance(v, float) and v != v) else html.escape(str(v)) for v in values]
        else:
            text = [html.escape(fmt(v)) for v in values]
        if col == link_column and links is not None:
            text = [f'<a href="{html.escape(str(u), quote=True)}" target="_top">{t}</a>' if isinstance(u, str) else t
                    for t, u in zip(text, links.tolist())]
        cells.append([f'<td class="num">{t}</td>' if fmt else f"<td>{t}</td>" for t in text])
    rows = "".join(f"<tr>{''.join(r)}</tr>" for r in zip(*cells))
    return (f'<div class="gg-table" tabindex="0" role="region" aria-label="{html.escape(caption, quote=True)}">'
            f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table></div>")
