"""A histogram drawn as SVG on the server, for the map page's "how areas are spread".

Why not Altair here: Vega's 0.8 MB of JavaScript would be the largest download of the map page
after the map itself; a histogram of a few hundred values is thirty rectangles. Each bar names its
range and count (tooltip and accessible label), and the benchmark and the chosen place are marked
as lines whose meaning the caption under the chart states.
"""
from __future__ import annotations

import html

import numpy as np

WIDTH, HEIGHT = 420, 230
LEFT, RIGHT, TOP, BOTTOM = 40, 24, 10, 42
BAR = "#31688e"
BENCHMARK = "#000000"
CHOSEN = "#d62728"


def _ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    """Round numbers across [lo, hi] (1, 2 or 5 times a power of ten apart)."""
    span = hi - lo if hi > lo else abs(hi) or 1.0
    raw = span / n
    step = 10 ** np.floor(np.log10(raw))
    step *= next(m for m in (1, 2, 5, 10) if raw <= m * step)
    return np.arange(np.ceil(lo / step) * step, hi + step / 2, step)


def histogram(values: np.ndarray, title: str, x_label: str, fmt, *, benchmark: float | None = None,
              chosen: float | None = None, bins: int = 30) -> str:
    """One histogram as an SVG element on one line. `fmt` writes a value with its unit."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return ""
    lo, hi = float(values.min()), float(values.max())
    marks = [v for v in (benchmark, chosen) if v is not None and np.isfinite(v)]
    lo, hi = min([lo, *marks]), max([hi, *marks])
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    x = lambda v: LEFT + (v - lo) / (hi - lo) * plot_w  # noqa: E731 - a scale, read like one
    y_top = max(int(counts.max()), 1) * 1.08  # headroom above the tallest bar
    y = lambda c: TOP + plot_h - c / y_top * plot_h  # noqa: E731
    parts = []
    for c, a, b in zip(counts, edges[:-1], edges[1:]):
        if c == 0:
            continue
        label = html.escape(f"{fmt(a)} to {fmt(b)}: {int(c)} area{'s' if c != 1 else ''}", quote=True)
        parts.append(f'<rect x="{x(a):.1f}" y="{y(c):.1f}" width="{max(x(b) - x(a) - 1, 1):.1f}" '
                     f'height="{TOP + plot_h - y(c):.1f}" fill="{BAR}" role="img" aria-label="{label}">'
                     f"<title>{label}</title></rect>")
    axis = [f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#555"/>']
    ticks = _ticks(lo, hi)
    step = float(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    for t in ticks:
        text = f"{t:,.0f}" if step >= 1 else f"{t:,.{int(np.ceil(-np.log10(step)))}f}"
        axis.append(f'<text x="{x(t):.1f}" y="{TOP + plot_h + 14}" text-anchor="middle">{text}</text>')
    for t in _ticks(0, y_top, 4):
        if t == int(t):
            axis.append(f'<text x="{LEFT - 4}" y="{y(t) + 4:.1f}" text-anchor="end">{int(t)}</text>')
    axis.append(f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 6}" text-anchor="middle">'
                f"{html.escape(x_label)}</text>")
    axis.append(f'<text x="10" y="{TOP + plot_h / 2:.0f}" text-anchor="middle" '
                f'transform="rotate(-90 10 {TOP + plot_h / 2:.0f})">Number of areas</text>')
    lines = []
    if benchmark is not None and np.isfinite(benchmark):
        lines.append(f'<line x1="{x(benchmark):.1f}" x2="{x(benchmark):.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
                     f'stroke="{BENCHMARK}" stroke-dasharray="4 3" stroke-width="1.5"/>')
    if chosen is not None and np.isfinite(chosen):
        lines.append(f'<line x1="{x(chosen):.1f}" x2="{x(chosen):.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
                     f'stroke="{CHOSEN}" stroke-width="3"/>')
    name = html.escape(title, quote=True)
    return (f'<svg class="gg-hist" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="group" '
            f'aria-label="{name}" style="width:100%;height:auto;display:block;font-size:11px;fill:#000">'
            f"<title>{name}</title>{''.join(axis)}{''.join(parts)}{''.join(lines)}</svg>")
