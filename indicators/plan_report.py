"""Plan evaluation reports: CSV, JSON and one self-contained HTML file.

The HTML report is meant to be attached to a committee paper, so it stands alone: inline CSS,
no scripts, no fonts, images or style sheets fetched from anywhere, and charts drawn here as
inline SVG. The only links are plain text links to the publishers' release pages.

Every string that comes from the plan file or the data (titles, place names, labels, reasons,
URLs, period labels) passes through ``_esc`` before it is written, and a URL only becomes a
link when it is http(s). Status is always written in words as well as shown in colour; the
palette is Okabe–Ito, which stays distinguishable for the common colour-vision deficiencies.
"""
from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from . import csv_export
from .plan_model import HORIZON_YEARS, Source
from .plans import NOT_MEASURED_WORDS, STATUSES, Evaluation, ObjectiveResult, TargetResult, likelihood
from .plans import calibration as _calibration


def to_csv(ev: Evaluation) -> str:
    return csv_export.to_csv(_linked(ev).rows())


def to_json(ev: Evaluation) -> str:
    """Strict JSON: a non-finite number (which json.dumps would write as the invalid token
    NaN or Infinity) is written as null, and allow_nan=False makes any that slip through an error."""
    return json.dumps(_finite(_linked(ev).to_json()), indent=1, ensure_ascii=False, default=_plain,
                      allow_nan=False) + "\n"


def _linked(ev: Evaluation) -> Evaluation:
    """The evaluation with the values of its linked prevention models, worked out here (among the shipped
    models, on the configured snapshot) when the caller has not attached them already."""
    if ev.prevention is None:
        from .prevention.link import attach
        attach(None, ev)
    return ev


def _finite(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


def _plain(v: object) -> object:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v) if np.isfinite(v) else None
    return str(v)


# ---------------------------------------------------------------- palette and words

# Okabe–Ito: (background, text on it). Dark text on every swatch keeps contrast at or above 4.5:1.
PALETTE: dict[str, tuple[str, str]] = {
    "met": ("#009E73", "#000000"),
    "on track": ("#56B4E9", "#000000"),
    "at risk": ("#E69F00", "#000000"),
    "off track": ("#D55E00", "#000000"),
    "too early": ("#999999", "#000000"),
    "too few points": ("#CCCCCC", "#000000"),
    "no data": ("#F0E442", "#000000"),
}
# Lines drawn in a status colour need 3:1 against white: sky blue is too light, so its line is Okabe–Ito blue.
LINE_INK = {"met": "#007A59", "on track": "#0072B2", "at risk": "#8F6300", "off track": "#B34F00",
            "too early": "#666666", "too few points": "#666666", "no data": "#666666"}
STATUS_MEANING = {
    "met": "the latest published value already meets the target (\u201cwithin the margin of error\u201d when its "
           "95% confidence interval includes the target).",
    "on track": "not met yet; the projected trend reaches the target by the target year and it is at least 50% "
                "likely to be reached.",
    "at risk": "not met yet, and 10% to 50% likely to be reached by the target year on the projected trend (or "
               "more likely, but the central projection falls short or the trend points away from the target).",
    "off track": "not met, and less than 10% likely to be reached by the target year (or the target year is in the "
                 "data and was missed).",
    "too early": "nothing has been published since the baseline, so there is no progress to judge.",
    "too few points": "fewer than five non-overlapping published values, too few to project a trend from.",
    "no data": "no usable series for this place (or the indicator cannot be added up for a custom footprint), "
               "or the target value could not be worked out.",
}
PILLAR_NAMES = {"economy": "Economy", "public_services": "Public services", "environment": "Environment"}
HORIZON_NAMES = {"immediate": "Immediate", "medium": "Medium term", "long": "Long term"}
LEVEL_NAMES = {"ltla": "district", "utla": "county or unitary authority", "combined_authority": "combined authority",
               "region": "region", "country": "country", "uk": "United Kingdom"}


def _esc(v: object) -> str:
    """HTML-escape anything from the plan or the data (also safe inside attribute values)."""
    return html.escape("" if v is None else str(v), quote=True)


def _is_web_url(url: str | None) -> bool:
    if not url:
        return False
    u = url.strip()
    return u.lower().startswith(("http://", "https://")) and not any(c.isspace() or ord(c) < 32 for c in u)


def web_link(url: str | None, text: str | None = None) -> str:
    """A plain text link for an http(s) URL; anything else is shown as text, never as a link."""
    if not url:
        return ""
    label = _esc(text if text is not None else url)
    if _is_web_url(url):
        return f'<a href="{_esc(url.strip())}">{label}</a>'
    return f"<span class=\"url\">{_esc(url)}</span>"


def _host(url: str) -> str:
    rest = url.strip().split("://", 1)[-1]
    return rest.split("/", 1)[0].split("?", 1)[0] or url


def _slug(status: str) -> str:
    return status.replace(" ", "-")


def _badge(status: str, cls: str = "badge", text: str | None = None) -> str:
    key = status if status in PALETTE else "no data"
    return f'<span class="{cls} s-{_slug(key)}">{_esc(text or status)}</span>'


def _missing(v: Any) -> bool:
    """None, NaN or infinite: nothing that can be written as a number or drawn."""
    if v is None:
        return True
    try:
        return not math.isfinite(float(v))
    except (TypeError, ValueError):
        return True


# ---------------------------------------------------------------- units and numbers

def unit_parts(unit: str, *, minutes: str = " minutes", money_per: bool = False) -> tuple[str, str]:
    """(prefix, suffix) written with every value: '£' + '608', '71.9' + '%', '57.9' + ' years'.

    Only short units travel with the value. A long unit ('Rate per 100,000 population') would swamp every
    number, so values are written bare and the unit is named once, beside the indicator and on the chart axis.
    The place profile writes minutes short (`minutes=" min"`) and carries '£ per head' with the value
    (`money_per=True`); the plan report names such units beside the indicator instead.
    """
    u = (unit or "").strip()
    low = u.lower()
    if u == "%":
        return "", "%"
    if u == "£":
        return "£", ""
    if low in ("£ million", "£m"):
        return "£", " million"
    if money_per and low.startswith("£ per "):
        return "£", u[1:]
    if low in ("yrs", "years", "year"):
        return "", " years"
    if low in ("mins", "minutes"):
        return "", minutes
    return "", ""


def unit_named_apart(unit: str, **style: Any) -> bool:
    """True when values are written bare and the unit must be named once beside them."""
    return bool((unit or "").strip()) and unit_parts(unit, **style) == ("", "")


def _unit_title(unit: str) -> str:
    """The axis title for a unit."""
    u = (unit or "").strip()
    named = {"%": "Per cent (%)", "£": "Pounds (£)", "yrs": "Years", "years": "Years", "mins": "Minutes"}
    if u in named:
        return named[u]
    if not u:
        return "Value"
    return u[0].upper() + u[1:]


def _number(v: float, money: bool = False) -> str:
    a = abs(v)
    if a >= 1000:
        text = f"{a:,.0f}"
    elif a >= 100:
        text = f"{a:,.0f}" if money else f"{a:,.1f}"
    elif a >= 10:
        text = f"{a:,.2f}" if money else f"{a:,.1f}"
    else:
        text = f"{a:,.2f}"
    if "." in text and not (money and 1 <= a < 100):
        text = text.rstrip("0").rstrip(".")
    if text in ("0", ""):
        return "0"
    return ("−" if v < 0 else "") + text


def fmt_value(v: float | None, unit: str) -> str:
    """A value in words with its unit; 'n/a' when missing."""
    if _missing(v):
        return "n/a"
    prefix, suffix = unit_parts(unit)
    text = _number(float(v), money=prefix == "£" and not suffix)  # type: ignore[arg-type]
    if text.startswith("−") and prefix:
        return "−" + prefix + text[1:] + suffix
    return prefix + text + suffix


def _tick(v: float, step: float, unit: str) -> str:
    """A compact axis tick label: only the currency sign and the per cent sign are written."""
    decimals = max(0, -int(math.floor(math.log10(step)))) if step > 0 and step < 1 else 0
    if abs(v) < step * 1e-9:
        v = 0.0
    text = f"{abs(v):,.{decimals}f}"
    prefix, suffix = unit_parts(unit)
    prefix = prefix if prefix == "£" else ""
    suffix = "%" if suffix == "%" else ""
    return ("−" if v < 0 else "") + prefix + text + suffix


def _nice_step(span: float, target_ticks: int) -> float:
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(target_ticks, 1)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _ticks(lo: float, hi: float, target_ticks: int = 5) -> tuple[float, float, list[float]]:
    step = _nice_step(hi - lo, target_ticks)
    start, end = math.floor(lo / step) * step, math.ceil(hi / step) * step
    n = int(round((end - start) / step))
    return start, end, [start + i * step for i in range(n + 1)]


# ---------------------------------------------------------------- dates

def _long_date(value: Any) -> str:
    """'26/03/2026', '2026-03-26' or a timestamp → '26 March 2026'; anything else as given."""
    if value is None:
        return "not stated"
    if isinstance(value, date):
        return f"{value.day} {value:%B %Y}"
    text = str(value).strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            d = datetime.strptime(text, fmt)
            return f"{d.day} {d:%B %Y}"
        except ValueError:
            pass
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        return text
    tz = " UTC" if d.utcoffset() is not None and d.utcoffset().total_seconds() == 0 else ""
    return f"{d.day} {d:%B %Y, %H:%M}{tz}"


def _decimal_year(d: date) -> float:
    start = date(d.year, 1, 1)
    days = (date(d.year + 1, 1, 1) - start).days
    return d.year + (d - start).days / days


def _sources(t: TargetResult) -> list[tuple[str, str | None, str | None]]:
    """The target's sources: publisher, release date and URL (several are joined with '|')."""
    names = [s.strip() for s in str(t.source or "").split("|")]
    dates = [s.strip() for s in str(t.source_date or "").split("|")] if t.source_date else []
    urls = [s.strip() for s in str(t.source_url or "").split("|")] if t.source_url else []
    out = []
    for i, name in enumerate(names):
        d = dates[i] if i < len(dates) else (dates[0] if len(dates) == 1 else None)
        u = urls[i] if i < len(urls) else (urls[0] if len(urls) == 1 else None)
        out.append((name or "unknown publisher", d or None, u or None))
    return out


# ---------------------------------------------------------------- the chart

W, H = 640, 270
LEFT, RIGHT, TOP, BOTTOM = 64, 20, 30, 46


Projected = list[tuple[float, float, "float | None", "float | None"]]


def _projection_path(t: TargetResult, xs: np.ndarray, ys: np.ndarray) -> tuple[list[tuple[float, float]], Projected]:
    """The fitted trend over its points, and (year, value, low, high) from the last observation to the target year.

    Both come from the evaluation itself (``fit_path`` and ``projection_path``: the same fit, the same feasible
    bounds), so the shaded band is exactly the interval the status was judged on. When the target year is not
    after the last observation the projection is a single point (drawn as a whisker). Without a stored path (a
    hand-edited result) the projection is a straight segment from the last point to the stated value.
    """
    if _missing(t.projected_value):
        return [], []
    goal_x, value = float(t.target_year), float(t.projected_value)  # type: ignore[arg-type]
    lo_t = None if _missing(t.projection_low) else float(t.projection_low)  # type: ignore[arg-type]
    hi_t = None if _missing(t.projection_high) else float(t.projection_high)  # type: ignore[arg-type]
    x_last, y_last = float(xs[-1]), float(ys[-1])
    if goal_x <= x_last:
        return [], [(goal_x, value, lo_t, hi_t)]
    fallback: Projected = [(x_last, y_last, y_last if lo_t is not None else None, y_last if hi_t is not None else None),
                           (goal_x, value, lo_t, hi_t)]
    path = [p for p in (t.projection_path or [])
            if not any(_missing(p.get(k)) for k in ("year", "value", "low", "high"))]
    if len(path) < 2 or abs(float(path[-1]["value"]) - value) > 1e-6 * max(1.0, abs(value)):
        return [], fallback
    fit = [(float(p["year"]), float(p["value"])) for p in (t.fit_path or [])
           if not _missing(p.get("year")) and not _missing(p.get("value"))]
    return fit, [(float(p["year"]), float(p["value"]), float(p["low"]), float(p["high"])) for p in path]


class _Labels:
    """Places short chart labels so they neither overlap one another nor run off the plot."""

    def __init__(self, left: float, top: float, right: float, bottom: float) -> None:
        self.bounds = (left, top, right, bottom)
        self.boxes: list[tuple[float, float, float, float]] = []

    def block(self, x: float, y: float, r: float) -> None:
        self.boxes.append((x - r, y - r, x + r, y + r))

    def block_line(self, points: Sequence[tuple[float, float]], r: float = 1.5) -> None:
        """Keep labels off a drawn line: small boxes every few pixels along it."""
        for (xa, ya), (xb, yb) in zip(points, points[1:]):
            n = max(1, int(math.hypot(xb - xa, yb - ya) / 4))
            for i in range(n + 1):
                self.block(xa + (xb - xa) * i / n, ya + (yb - ya) * i / n, r)

    @staticmethod
    def _box(text: str, x: float, y: float, anchor: str, bold: bool) -> tuple[float, float, float, float]:
        w = len(text) * (7.3 if bold else 6.8) + 2
        x0 = x - w if anchor == "end" else (x - w / 2 if anchor == "middle" else x)
        return (x0, y - 11, x0 + w, y + 3)

    def place(self, text: str, candidates: Sequence[tuple[float, float, str]], bold: bool = False
              ) -> tuple[float, float, str] | None:
        """The first candidate (x, y, anchor) that is inside the plot and clear of everything; None if none is."""
        left, top, right, bottom = self.bounds
        for x, y, anchor in candidates:
            b = self._box(text, x, y, anchor, bold)
            inside = b[0] >= left and b[2] <= right and b[1] >= top and b[3] <= bottom
            clear = not any(b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3] for o in self.boxes)
            if inside and clear:
                self.boxes.append(b)
                return x, y, anchor
        return None


def _chart(t: TargetResult, ev: Evaluation, chart_id: str) -> str:
    pts = [(float(p["year"]), float(p["value"]), str(p.get("label", ""))) for p in t.series
           if not _missing(p.get("year")) and not _missing(p.get("value"))]
    if not pts:
        return ""
    pts.sort(key=lambda p: p[0])
    xs = np.array([p[0] for p in pts])
    ys = np.array([p[1] for p in pts])
    fit, proj = _projection_path(t, xs, ys)
    goal = None if _missing(t.target_value) else float(t.target_value)  # type: ignore[arg-type]
    published = _decimal_year(ev.plan.published)

    # y range: the series, the target and the projection; the interval may widen it, but never so far that the
    # series is squashed into less than about a third of the height (the band is cut at the edge, and we say so).
    core = list(ys) + ([goal] if goal is not None else []) + [p[1] for p in proj] + [f[1] for f in fit]
    c_lo, c_hi = min(core), max(core)
    c_span = (c_hi - c_lo) or max(abs(c_hi) * 0.1, 1.0)
    band = [v for p in proj for v in (p[2], p[3]) if v is not None]
    lo = max(min(band + [c_lo]), c_lo - c_span)
    hi = min(max(band + [c_hi]), c_hi + c_span)
    band_cut = bool(band) and (min(band) < lo - 1e-9 or max(band) > hi + 1e-9)
    pad = (hi - lo) * 0.08 or 1.0
    y0, y1, yticks = _ticks(max(lo - pad, 0.0) if lo >= 0 else lo - pad, hi + pad)

    x_lo = float(xs.min())
    x_hi = max(float(xs.max()), float(t.target_year))
    x_span = x_hi - x_lo or 1.0
    x0, x1 = x_lo - x_span * 0.04, x_hi + x_span * 0.04
    step = next(s for s in (1, 2, 5, 10, 20, 50) if (x1 - x0) / s <= 9)
    xticks = list(range(int(math.ceil(x0 / step) * step), int(math.floor(x1)) + 1, step))

    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def sx(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        y = min(max(y, y0), y1)
        return TOP + (1 - (y - y0) / (y1 - y0)) * ph

    ink = LINE_INK.get(t.status, "#666666")
    fill = PALETTE.get(t.status, PALETTE["no data"])[0]
    labels = _Labels(LEFT + 2, TOP, W - 2, TOP + ph)
    parts: list[str] = []
    notes: list[str] = []
    # grid and axes
    ystep = yticks[1] - yticks[0] if len(yticks) > 1 else 1.0
    for v in yticks:
        y = sy(v)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{_esc(_tick(v, ystep, t.unit))}</text>')
    for v in xticks:
        x = sx(v)
        parts.append(f'<line class="axis" x1="{x:.1f}" y1="{TOP + ph}" x2="{x:.1f}" y2="{TOP + ph + 4}"/>')
        parts.append(f'<text class="tick" x="{x:.1f}" y="{TOP + ph + 17}" text-anchor="middle">{v}</text>')
    parts.append(f'<line class="axis" x1="{LEFT}" y1="{TOP + ph}" x2="{W - RIGHT}" y2="{TOP + ph}"/>')
    parts.append(f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + ph}"/>')
    parts.append(f'<text class="axis-title" x="{LEFT + pw / 2:.1f}" y="{H - 6}" text-anchor="middle">'
                 f'Year (start of each period)</text>')
    parts.append(f'<text class="axis-title" x="8" y="{TOP - 14}">{_esc(_unit_title(t.unit))}</text>')
    # plan publication
    px = sx(published) if x0 <= published <= x1 else None
    if px is not None:
        parts.append(f'<line class="plan-start" x1="{px:.1f}" y1="{TOP}" x2="{px:.1f}" y2="{TOP + ph}"/>')
    # prediction band, fitted trend and projection
    if len(proj) > 1 and any(p[2] is not None and p[3] is not None for p in proj):
        upper = [(sx(p[0]), sy(p[3])) for p in proj if p[3] is not None]
        lower = [(sx(p[0]), sy(p[2])) for p in proj if p[2] is not None]
        poly = " ".join(f"{x:.1f},{y:.1f}" for x, y in upper + lower[::-1])
        parts.append(f'<polygon class="band" points="{poly}" fill="{fill}"/>')
    if fit:
        labels.block_line([(sx(x), sy(y)) for x, y in fit])
        line = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in fit)
        parts.append(f'<polyline class="fit" points="{line}" stroke="{ink}"/>')
    if len(proj) > 1:
        labels.block_line([(sx(p[0]), sy(p[1])) for p in proj])
        line = " ".join(f"{sx(p[0]):.1f},{sy(p[1]):.1f}" for p in proj)
        parts.append(f'<polyline class="projection" points="{line}" stroke="{ink}"/>')
    if proj:
        ex, ev_, elo, ehi = proj[-1]
        if len(proj) == 1 and elo is not None and ehi is not None:  # target year inside the data: a whisker
            wx = sx(ex)
            parts.append(f'<line class="whisker" x1="{wx:.1f}" y1="{sy(elo):.1f}" x2="{wx:.1f}" y2="{sy(ehi):.1f}" '
                         f'stroke="{ink}"/>')
            labels.block_line([(wx, sy(elo)), (wx, sy(ehi))], 3)
            for v in (elo, ehi):
                if not y0 <= v <= y1:  # cut at the edge of the chart: no end cap
                    continue
                parts.append(f'<line class="whisker" x1="{wx - 5:.1f}" y1="{sy(v):.1f}" x2="{wx + 5:.1f}" '
                             f'y2="{sy(v):.1f}" stroke="{ink}"/>')
        parts.append(f'<circle class="projection-end" cx="{sx(ex):.1f}" cy="{sy(ev_):.1f}" r="4" stroke="{ink}"/>')
        labels.block(sx(ex), sy(ev_), 5)
    # the series
    path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs, ys))
    parts.append(f'<polyline class="series" points="{path}"/>')
    labels.block_line([(sx(x), sy(y)) for x, y in zip(xs, ys)], 2.5)
    base_label = t.baseline_period
    for x, y, label in pts:
        base = bool(base_label) and label == base_label
        parts.append(f'<circle class="point{" base" if base else ""}" cx="{sx(x):.1f}" cy="{sy(y):.1f}" '
                     f'r="{4.5 if base else 2.8}"><title>{_esc(label)}: {_esc(fmt_value(y, t.unit))}</title></circle>')
        labels.block(sx(x), sy(y), 4)
    # target: a dashed horizontal line and a diamond at the target year
    if goal is not None:
        gy, gx = sy(goal), sx(float(t.target_year))
        parts.append(f'<line class="target-line" x1="{LEFT}" y1="{gy:.1f}" x2="{W - RIGHT}" y2="{gy:.1f}"/>')
        parts.append(f'<path class="target-mark" d="M{gx:.1f},{gy - 7:.1f} L{gx + 7:.1f},{gy:.1f} '
                     f'L{gx:.1f},{gy + 7:.1f} L{gx - 7:.1f},{gy:.1f} Z" fill="{fill}"/>')
        labels.block(gx, gy, 8)
        labels.block_line([(LEFT, gy), (W - RIGHT, gy)], 1)
        text = f"target {fmt_value(goal, t.unit)}"
        spot = labels.place(text, [
            (gx - 11, gy - 9, "end"), (gx - 11, gy + 17, "end"),
            (gx + 11, gy - 9, "start"), (gx + 11, gy + 17, "start"),
            (gx, gy - 12, "middle"), (gx, gy + 21, "middle"), (gx - 11, gy + 32, "end"), (gx - 11, gy - 24, "end"),
            (gx - 11, gy + 47, "end"), (gx - 11, gy - 39, "end"), (gx - 60, gy - 9, "end"), (gx - 60, gy + 17, "end")],
            bold=True)
        if spot is None:  # crowded: say it in the top margin instead, beside the unit
            spot = (W - RIGHT, TOP - 14, "end")
            text = f"dashed line: {text}"
        lx, ly, anchor = spot
        notes.append(f'<text class="note strong halo" x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}">'
                     f'{_esc(text)}</text>')
    last_x, last_y, _ = pts[-1]
    text = f"latest {fmt_value(last_y, t.unit)}"
    lx, ly = sx(last_x), sy(last_y)
    spot = labels.place(text, [
        (lx - 8, ly + 17, "end"), (lx - 8, ly - 9, "end"), (lx + 8, ly + 17, "start"), (lx + 8, ly - 9, "start"),
        (lx + 9, ly + 4, "start"), (lx, ly + 20, "middle"), (lx, ly - 12, "middle"), (lx - 8, ly + 32, "end"),
        (lx - 8, ly - 24, "end"), (lx + 8, ly + 32, "start"), (lx + 8, ly - 24, "start"), (lx - 8, ly + 47, "end"),
        (lx - 8, ly - 39, "end")])
    if spot is not None:  # no clear spot: the value is in the table above and in the chart's description
        lx, ly, anchor = spot
        notes.append(f'<text class="note halo" x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}">{_esc(text)}</text>')
    if px is not None:
        text = "plan published"
        spot = labels.place(text, [(px + 4, TOP + 12, "start"), (px - 4, TOP + 12, "end"),
                                   (px + 4, TOP + ph - 6, "start"), (px - 4, TOP + ph - 6, "end"),
                                   (px + 4, TOP + ph / 2, "start"), (px - 4, TOP + ph / 2, "end")])
        if spot is not None:
            lx, ly, anchor = spot
            notes.append(f'<text class="note halo" x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}">{text}</text>')

    desc = _chart_words(t, ev, pts, proj, band_cut)
    title = f"{t.indicator}, {ev.place.name}: series, target and projection"
    return (f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{_esc(desc)}" '
            f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{chart_id}-t">{_esc(title)}</title><desc id="{chart_id}-d">{_esc(desc)}</desc>'
            + "".join(parts) + "".join(notes) + "</svg>")


def _chart_words(t: TargetResult, ev: Evaluation, pts: Sequence[tuple[float, float, str]],
                 proj: Sequence[tuple[float, float, float | None, float | None]], band_cut: bool) -> str:
    first, last = pts[0], pts[-1]
    words = [f"Line chart of {t.indicator} for {ev.place.name}, {len(pts)} published values from "
             f"{first[2]} ({fmt_value(first[1], t.unit)}) to {last[2]} ({fmt_value(last[1], t.unit)})."]
    if unit_named_apart(t.unit):
        words.append(f"Values are in {t.unit}.")
    if t.baseline_period:
        words.append(f"Baseline {t.baseline_period}: {fmt_value(t.baseline_value, t.unit)}.")
    if not _missing(t.target_value):
        words.append(f"Target {fmt_value(t.target_value, t.unit)} by {t.target_year}, "
                     f"drawn as a dashed horizontal line and a diamond.")
    if proj:
        end = proj[-1]
        pi = (f" with a 95% prediction interval of {fmt_value(end[2], t.unit)} to {fmt_value(end[3], t.unit)}"
              f" (shaded)" if end[2] is not None and end[3] is not None else " (no interval)")
        words.append(f"The projection of the recent trend gives {fmt_value(end[1], t.unit)} in "
                     f"{t.target_year}{pi}.")
        if band_cut:
            words.append("The interval is wider than the chart and is cut at its edge.")
    if not _missing(t.probability):
        words.append(f"Chance of reaching the target by {t.target_year}: {_chance(t.probability)}.")
    words.append(f"Status: {t.status_text}.")
    return " ".join(words)


def _series_table(t: TargetResult) -> str:
    rows = "".join(f"<tr><td>{_esc(p.get('label', ''))}</td><td class=\"num\">{_esc(fmt_value(p.get('value'), t.unit))}"
                   f"</td></tr>" for p in t.series)
    extra = ""
    if not _missing(t.target_value):
        extra += (f"<tr class=\"aside\"><td>Target, {t.target_year}</td>"
                  f"<td class=\"num\">{_esc(fmt_value(t.target_value, t.unit))}</td></tr>")
    if not _missing(t.projected_value):
        pi = ""
        if not _missing(t.projection_low) and not _missing(t.projection_high):
            pi = f" ({_esc(fmt_value(t.projection_low, t.unit))} to {_esc(fmt_value(t.projection_high, t.unit))})"
        extra += (f"<tr class=\"aside\"><td>Projection, {t.target_year}</td>"
                  f"<td class=\"num\">{_esc(fmt_value(t.projected_value, t.unit))}{pi}</td></tr>")
    return (f"<details><summary>Chart data as a table ({len(t.series)} values)</summary>"
            f"<table class=\"data\"><thead><tr><th scope=\"col\">Period</th><th scope=\"col\">Value</th></tr></thead>"
            f"<tbody>{rows}{extra}</tbody></table></details>")


# ---------------------------------------------------------------- sections

def _chance(p: float | None) -> str:
    """The probability as a council would quote it; the same words as the evaluation's reason."""
    return "n/a" if _missing(p) else likelihood(float(p))  # type: ignore[arg-type]


def _target_card(t: TargetResult, ev: Evaluation, chart_id: str, if_met: str | None = None) -> str:
    def row(name: str, value: str) -> str:
        return f"<tr><th scope=\"row\">{name}</th><td>{value}</td></tr>"

    baseline = ("n/a" if not t.baseline_period else
                f"{_esc(fmt_value(t.baseline_value, t.unit))} <span class=\"muted\">("
                f"{_esc(t.baseline_rule or t.baseline_period)})</span>")
    latest = ("n/a" if not t.latest_period else
              f"{_esc(fmt_value(t.latest_value, t.unit))} <span class=\"muted\">({_esc(t.latest_period)})</span>")
    if _missing(t.projected_value):
        projection = "none" + (" (already met)" if t.status == "met" else "")
    else:
        projection = f"{_esc(fmt_value(t.projected_value, t.unit))} in {t.target_year}"
        if not _missing(t.projection_low) and not _missing(t.projection_high):
            projection += (f"; 95% prediction interval {_esc(fmt_value(t.projection_low, t.unit))} to "
                           f"{_esc(fmt_value(t.projection_high, t.unit))}")
        else:
            projection += " (no interval)"
    sources = "; ".join(
        f"{_esc(name)}, released {_esc(_long_date(d) if d else 'date not stated')}"
        + (f" ({web_link(u, 'release page on ' + _host(u)) if _is_web_url(u) else web_link(u)})" if u else "")
        for name, d, u in _sources(t))
    notes = [f"fitted to the last {t.projection_points} non-overlapping values"] if t.projection_points else []
    notes += [t.trend_note] if t.trend_note else []
    trend_note = f" <span class=\"muted\">({_esc('; '.join(notes))})</span>" if notes and t.trend else ""
    facts = "".join([
        row("Indicator", f"{_esc(t.indicator)} <span class=\"muted\">({_esc(t.indicator_id)})</span>"),
        row("Unit", _esc(t.unit) or "not stated"),
        row("Horizon", f"{_esc(HORIZON_NAMES.get(t.horizon, t.horizon))}, target year {t.target_year}"),
        row("Target", _esc(t.target_text) or "n/a"),
        row("Baseline", baseline),
        row("Latest", latest),
        row("Trend", _esc(t.trend or "n/a") + trend_note),
        row("Projection", projection),
        row("Chance", _esc(f"{_chance(t.probability)} to reach the target by {t.target_year}")
            if not _missing(t.probability) else "not assessed"),
        row("Status", _badge(t.status, "badge target-status")
            + (" <span class=\"muted\">(within the margin of error)</span>" if t.status_text != t.status else "")),
        row("Why", _esc(t.reason) or "n/a"),
        *([row("If met", _esc(if_met[:1].upper() + if_met[1:]))] if if_met else []),
        row("Source", sources or "not stated"),
    ])
    chart = _chart(t, ev, chart_id)
    if chart:
        figure = f"<figure>{chart}{_series_table(t)}</figure>"
    else:
        figure = "<p class=\"nochart\">No chart: there is no published series for this place.</p>"
    key = _slug(t.status if t.status in PALETTE else "no data")
    return (f"<article class=\"target t-{key}\"><h3><span>{_esc(t.indicator)}: "
            f"{_esc(HORIZON_NAMES.get(t.horizon, t.horizon)).lower()}, {t.target_year}</span> "
            f"{_badge(t.status, text=t.status_text)}</h3><table class=\"facts\">{facts}</table>{figure}</article>")


def _source_html(src: Source) -> str:
    """The plan's cited source: its one-line citation, the address as a link (http(s) only), and its note."""
    link = f" {web_link(src.url)}" if src.url else ""
    note = f"<br><span class=\"muted\">{_esc(src.note)}</span>" if src.note else ""
    return f"{_esc(src.citation(with_url=False))}{link}{note}"


def _objective(o: ObjectiveResult, ev: Evaluation, n: int, if_met: dict[tuple[int, int], Any] | None = None) -> str:
    if_met = if_met or {}
    note = f"<p class=\"objective-note\">{_esc(o.note)}</p>" if o.note else ""
    if o.not_measured_text is not None:  # kept in the report, with the plan's reason, never dropped
        return (f"<section class=\"objective not-measured\"><h2>{n}. {_esc(o.title)}</h2>"
                f"<p class=\"meta\"><span>Pillar: <strong>{_esc(PILLAR_NAMES.get(o.pillar, o.pillar))}</strong></span>"
                f"<span>Weight: <strong>none</strong></span><span>Targets: <strong>none</strong></span></p>"
                f"{note}<p class=\"not-measured-reason\"><strong>{_esc(NOT_MEASURED_WORDS)}.</strong> "
                f"{_esc(o.not_measured)}</p></section>")
    cards = "".join(_target_card(t, ev, f"c{n}-{i}", getattr(if_met.get((n - 1, i - 1)), "text", None))
                    for i, t in enumerate(o.targets, 1))
    counts = {s: sum(t.status == s for t in o.targets) for s in STATUSES}
    tally = ", ".join(f"{c} {s}" for s, c in counts.items() if c)
    return (f"<section class=\"objective\"><h2>{n}. {_esc(o.title)}</h2>"
            f"<p class=\"meta\"><span>Pillar: <strong>{_esc(PILLAR_NAMES.get(o.pillar, o.pillar))}</strong></span>"
            f"<span>Weight: <strong>{o.weight:.0%}</strong> of the plan</span>"
            f"<span>Targets: <strong>{len(o.targets)}</strong> ({_esc(tally)})</span></p>{note}"
            f"<p class=\"counterfactual\"><strong>Compared with similar places:</strong> {_esc(o.counterfactual)}</p>"
            f"{_counterfactual_facts(o)}{cards}</section>")


def _counterfactual_facts(o: ObjectiveResult) -> str:
    """The synthetic-control figures of one objective as a small table (the same fields as the CSV columns)."""
    f = o.counterfactual_fields()
    if _missing(f.get("counterfactual_estimate")):
        return ""
    unit = next((t.unit for t in o.targets), "")

    def signed(v: Any) -> str:
        return "n/a" if _missing(v) else ("+" if float(v) >= 0 else "−") + fmt_value(abs(float(v)), unit)

    fit = (f"{'passes' if f['counterfactual_pre_fit_ok'] else 'fails'} (error "
           f"{float(f['counterfactual_pre_fit_ratio']):.1f}× the typical neighbour's; at most 2× passes)")
    cells = [("Verdict", _esc(f["counterfactual_verdict"])),
             ("Estimate", f"{_esc(signed(f['counterfactual_estimate']))} <span class=\"muted\">(90% placebo range "
                          f"{_esc(signed(f['counterfactual_lci']))} to {_esc(signed(f['counterfactual_uci']))})</span>"),
             ("Placebo p-value", f"{float(f['counterfactual_p_value']):.2f} <span class=\"muted\">(among "
                                 f"{int(f['counterfactual_n_donors']) + 1} places; 0.10 or less needed)</span>"),
             ("Fit before the plan", _esc(fit)),
             ("Periods", f"{int(f['counterfactual_pre_periods'])} before, {int(f['counterfactual_post_periods'])} after")]
    if not _missing(f.get("counterfactual_did_estimate")):
        cells.append(("Difference-in-differences", f"{_esc(signed(f['counterfactual_did_estimate']))} "
                                                    f"<span class=\"muted\">(placebo p-value "
                                                    f"{float(f['counterfactual_did_p_value']):.2f})</span>"))
    rows = "".join(f"<tr><th scope=\"row\">{k}</th><td>{v}</td></tr>" for k, v in cells)
    return f"<table class=\"facts counterfactual-facts\"><caption>Compared with similar places</caption>{rows}</table>"


def _rollup_table(frame: pd.DataFrame, by: str, names: dict[str, str], caption: str,
                  notes: dict[str, str] | None = None) -> str:
    if frame is None or frame.empty:
        return f"<p>No targets to summarise by {_esc(by)}.</p>"
    head = "".join(f"<th scope=\"col\">{_badge(s, 'chip')}</th>" for s in STATUSES)
    body = []
    for rec in frame.to_dict(orient="records"):
        key = str(rec.get(by, ""))
        name = _esc(names.get(key, key)) + (f" <span class=\"muted\">{_esc(notes[key])}</span>"
                                             if notes and key in notes else "")
        share = rec.get("share_met_or_on_track")
        share_text = "none judged" if _missing(share) else f"{float(share):.0%}"
        cells = "".join(f"<td class=\"num\">{int(rec.get(s, 0) or 0)}</td>" for s in STATUSES)
        body.append(f"<tr><th scope=\"row\">{name}</th><td class=\"num\">{int(rec.get('targets', 0) or 0)}</td>"
                    f"{cells}<td class=\"num share\">{share_text}</td></tr>")
    return (f"<table class=\"rollup\"><caption>{caption}</caption><thead><tr><th scope=\"col\">"
            f"{_esc(by.capitalize())}</th><th scope=\"col\">Targets</th>{head}"
            f"<th scope=\"col\">Met or on track</th></tr></thead><tbody>{''.join(body)}</tbody></table>")


def _overall_text(ev: Evaluation) -> str:
    if ev.overall is None:
        return " No target could be judged yet."
    return f" Overall, a weighted {ev.overall:.0%} of the targets that could be judged are met or on track."


def _legend() -> str:
    items = "".join(f"<li>{_badge(s, 'chip')} {_esc(STATUS_MEANING[s])}</li>" for s in STATUSES)
    keys = ("<li><span class=\"key k-series\"></span> published values (the larger ring is the baseline)</li>"
            "<li><span class=\"key k-target\"></span> target value, with a diamond at the target year</li>"
            "<li><span class=\"key k-fit\"></span> straight-line trend through the last five non-overlapping values"
            "</li>"
            "<li><span class=\"key k-projection\"></span> the projection to the target year: the trend carried on "
            "in part, as trends in the data have been (open circle)</li>"
            "<li><span class=\"key k-band\"></span> its 95% prediction interval (a bar when the target year is "
            "already inside the data)</li>"
            "<li><span class=\"key k-plan\"></span> plan published</li>")
    return (f"<section class=\"legend\" aria-label=\"Legend\"><h2>How to read this report</h2>"
            f"<div class=\"cols\"><div><h3>Status</h3><ul class=\"statuses\">{items}</ul>"
            f"<p class=\"muted\">Status is always written in words; the colours (Okabe–Ito) are chosen to be "
            f"told apart with common colour-vision deficiencies.</p></div>"
            f"<div><h3>Charts</h3><ul class=\"keys\">{keys}</ul></div></div></section>")


def _methods() -> str:
    paras = [
        ("Baseline and latest", "The plan's baseline is placed on each indicator's own periods by one rule: a period "
         "whose code is the baseline itself; else the period containing the baseline's date (a year stands for 1 July "
         "of that year, so it picks the financial year starting in it and the academic year ending in it; among "
         "overlapping rolling periods, the one centred nearest); else the latest period starting on or before it. "
         "The period used is named beside every baseline. A baseline before an indicator's first published period "
         "is refused, as is a target already met at the baseline. The latest value is the most recent period "
         "published."),
        ("Met", "A target is <em>met</em> when the latest published value is already at or beyond the target, in "
         "the direction the target asks for. When that value's 95% confidence interval includes the target it is "
         "met <em>within the margin of error</em>: the true value may still fall short."),
        ("Projection and chance", "Otherwise we fit a straight line through the last five non-overlapping values "
         "(rolling periods are thinned so that no two share a year; weighted by the published confidence intervals "
         "where every value has one) and project it to the target year. Straight lines carried years ahead "
         "overshoot: in the snapshot's own history, trends went on only in part. So beyond the last value the "
         f"line is carried on at {_calibration().damping:.0%} of its slope, and its spread, which allows for the "
         "scatter about the line and for the line itself bending (a random walk with drift), is widened by a factor "
         f"of {_calibration().scale:.2f}; both were measured on earlier years than the check below. The 95% "
         "prediction interval is cut to the values the indicator can take (0 to 100 for a percentage, never below "
         "zero for a count or rate). From that distribution we give the chance of reaching the target by its "
         "year."),
        ("On track, at risk, off track", "<em>On track</em>: at least a 50% chance, the central projection reaches "
         "the target and the line does not slope away from it. <em>At risk</em>: a 10% to 50% chance (or more, "
         "when the central projection falls short or the line slopes away). <em>Off track</em>: under 10%, or the "
         "target year is in the data and was missed. Checked on the snapshot by hiding the latest three years of "
         "1,242 district series and projecting them: the 95% interval covered about 95% of the values published "
         "since; of targets set one standard deviation either side of them, about 61% of those called on track "
         "were reached (about 67% was claimed) and 8% of those called off track."),
        ("Too early, too few points and no data", "A target is <em>too early</em> when nothing has been published "
         "since the baseline, <em>too few points</em> when fewer than five non-overlapping values are published "
         "(the trend rule of the OHID Fingertips profiles), and <em>no data</em> when the place has no usable "
         "series, when the indicator cannot be added up for a custom footprint (medians, ratios and some rates are "
         "never aggregated) or when the target value cannot be worked out."),
        ("Trend", "The trend follows the Fingertips rules: at least five non-overlapping values, weighted by their "
         "confidence intervals where published, money in real terms (GDP deflator); it is called improving or "
         "worsening only when the 95% confidence interval of the slope excludes zero."),
        ("Compared with similar places", "For each objective, the place since the plan was published is compared "
         "with a <em>synthetic control</em>: a weighted mix of its statistical neighbours, with weights chosen so the "
         "mix tracked the place as closely as possible before the plan (Abadie, Diamond &amp; Hainmueller 2010). The "
         "gap after the plan is the estimate. To judge it, every neighbour in turn is treated as if it had had the "
         "plan; the <em>placebo p-value</em> is the place's rank among all of them by how much its gap grew after the "
         "plan compared with before. Only periods that end before the plan count as before; a pooled period that spans "
         "the date counts as neither. We say <em>better</em> or <em>worse than similar places</em> only when the "
         "p-value is 0.10 or less and the mix tracked the place well before the plan (its error at most twice the "
         "typical neighbour's); otherwise <em>no clear difference</em>, with the estimate and the range of gaps the "
         "neighbours show when nothing happened (90% placebo range). With a fake plan date and nothing treated, this "
         "rule called about 7% of 160 place-indicator pairs better or worse. A difference-in-differences against the "
         "same places is shown beside it, judged by the same placebos."),
        ("Summaries", "The tables count targets by status. The share met or on track is among targets that could be "
         "judged (met, on track, at risk or off track), each weighted by its objective's weight shared equally among the "
         "objective's targets."),
    ]
    return "".join(f"<h3>{h}</h3><p>{p}</p>" for h, p in paras)


def _source_list(ev: Evaluation) -> str:
    seen: dict[tuple[str, str | None, str | None], list[str]] = {}
    for o in ev.objectives:
        for t in o.targets:
            for src in _sources(t):
                names = seen.setdefault(src, [])
                if t.indicator not in names:
                    names.append(t.indicator)
    items = []
    for (name, d, url), inds in seen.items():
        released = f", released {_esc(_long_date(d))}" if d else ", release date not stated"
        items.append(source_item(name, released, f": {web_link(url)}" if url else "", inds))
    return f"<ul class=\"sources\">{''.join(items)}</ul>"


def source_item(publisher: str, released: str, link: str, indicators: Sequence[str]) -> str:
    """One line of a report's list of sources (plan and profile alike): the publisher, then `released`
    and `link` (HTML already written by the caller), then the indicators it supplies."""
    return (f"<li><strong>{_esc(publisher)}</strong>{released}{link} "
            f"<span class=\"muted\">({_esc('; '.join(indicators))})</span></li>")


def _place_line(ev: Evaluation) -> str:
    p = ev.place
    codes = ", ".join(_esc(c) for c in p.codes)
    if p.custom:
        kind = f"custom footprint of {len(p.codes)} districts ({codes})"
    else:
        kind = f"{_esc(LEVEL_NAMES.get(p.level, p.level))}, code {codes}"
    return f"{_esc(p.name)} <span class=\"muted\">({kind})</span>"


def _benchmark_words(b: str) -> str:
    return {"england": "England", "region": "the place's region", "neighbours": "the mean of its statistical "
            "neighbours"}.get(b, b)


CSS = """
:root{--ink:#1b1b1b;--muted:#555;--rule:#d0d0d0;--bg:#fff;--soft:#f4f4f2}
*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:16px;
 color:var(--ink);background:var(--bg);line-height:1.45}
body{margin:0;padding:1.5rem 1rem 3rem}
main,header.top,footer{max-width:60rem;margin:0 auto}
h1{font-size:1.75rem;line-height:1.2;margin:.2rem 0 .6rem}
h2{font-size:1.3rem;margin:2rem 0 .5rem;border-bottom:2px solid var(--ink);padding-bottom:.2rem}
h3{font-size:1.05rem;margin:1rem 0 .4rem}
a{color:#0b5394;overflow-wrap:anywhere}
.url{overflow-wrap:anywhere;font-family:ui-monospace,monospace;font-size:.85em}
.muted{color:var(--muted);font-weight:normal}
.banner{border:3px solid #000;background:#F0E442;color:#000;font-weight:700;padding:.6rem .9rem;margin:0 0 1rem;
 font-size:1.05rem}
.banner small{display:block;font-weight:normal;font-size:.9rem}
dl.about{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0 1rem}
dl.about dt{font-weight:600}
dl.about dd{margin:0}
.summary{font-size:1.15rem;font-weight:600;background:var(--soft);border-left:6px solid var(--ink);
 padding:.7rem 1rem;margin:1rem 0}
table{border-collapse:collapse}
table.rollup{width:100%;margin:.6rem 0 1.2rem;font-size:.95rem}
table.rollup caption{text-align:left;font-weight:700;padding:.2rem 0 .4rem}
table.rollup th,table.rollup td{border-bottom:1px solid var(--rule);padding:.3rem .45rem;text-align:left;
 vertical-align:middle}
table.rollup thead th{border-bottom:2px solid var(--ink);font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.share{font-weight:700}
.badge,.chip{display:inline-block;border:1px solid #000;border-radius:.25rem;padding:.05rem .45rem;
 font-weight:700;font-size:.85rem;white-space:nowrap;line-height:1.35}
.chip{font-size:.8rem;padding:0 .35rem}
.s-met{background:#009E73;color:#000}.s-on-track{background:#56B4E9;color:#000}
.s-at-risk{background:#E69F00;color:#000}.s-off-track{background:#D55E00;color:#000}
.s-too-early{background:#999999;color:#000}.s-too-few-points{background:#CCCCCC;color:#000}
.s-no-data{background:#F0E442;color:#000}
.legend .cols{display:grid;grid-template-columns:3fr 2fr;gap:1.5rem}
.legend ul{list-style:none;padding:0;margin:0}
.legend li{margin:.25rem 0}
.key{display:inline-block;width:2.2rem;height:.9rem;vertical-align:middle;margin-right:.3rem}
.k-series{border-top:2.5px solid #222;height:0;position:relative;top:-.1rem}
.k-target{border-top:2px dashed #000;height:0}
.k-projection{border-top:3px dashed #0072B2;height:0}
.k-fit{border-top:1.5px dashed #0072B2;height:0;opacity:.7}
.k-band{background:#56B4E9;opacity:.35;border:1px solid #56B4E9}
.k-plan{border-left:2px dotted #777;width:0;height:1rem;margin-left:1rem;margin-right:1.3rem}
.objective .meta{display:flex;flex-wrap:wrap;gap:.3rem 1.5rem;margin:.3rem 0;color:var(--muted)}
.objective .meta strong{color:var(--ink)}
.objective-note{margin:.3rem 0;font-style:italic}
.not-measured-reason{margin:.4rem 0 1rem;padding:.5rem .8rem;border:2px dashed #777}
.counterfactual{margin:.4rem 0 1rem;padding:.5rem .8rem;background:var(--soft);font-size:.95rem}
table.counterfactual-facts{margin:-.6rem 0 1rem}table.counterfactual-facts th{width:11rem}table.counterfactual-facts caption{position:absolute;left:-10000px}
article.target{border:1px solid var(--rule);border-left:8px solid #999;border-radius:.3rem;padding:.6rem 1rem .8rem;
 margin:0 0 1.2rem;break-inside:avoid;page-break-inside:avoid}
article.t-met{border-left-color:#009E73}article.t-on-track{border-left-color:#56B4E9}
article.t-at-risk{border-left-color:#E69F00}article.t-off-track{border-left-color:#D55E00}
article.t-too-early{border-left-color:#999999}article.t-too-few-points{border-left-color:#CCCCCC}
article.t-no-data{border-left-color:#F0E442}
article.target h3{display:flex;justify-content:space-between;align-items:baseline;gap:1rem;margin:.1rem 0 .5rem}
table.facts{width:100%;font-size:.92rem}
table.facts th{text-align:left;vertical-align:top;width:8.5rem;padding:.15rem .8rem .15rem 0;font-weight:600;
 color:var(--muted)}
table.facts td{padding:.15rem 0;vertical-align:top}
figure{margin:.6rem 0 0}
svg.chart{width:100%;height:auto;max-width:46rem;display:block;font-family:inherit}
svg.chart .grid{stroke:#e3e3e3;stroke-width:1}
svg.chart .axis{stroke:#444;stroke-width:1}
svg.chart .tick{font-size:12px;fill:#333}
svg.chart .axis-title{font-size:12px;fill:#333;font-weight:600}
svg.chart .note{font-size:12px;fill:#333}
svg.chart .strong{font-weight:700;fill:#000}
svg.chart .halo{paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}
svg.chart .series{fill:none;stroke:#222;stroke-width:2.2;stroke-linejoin:round}
svg.chart .point{fill:#222;stroke:#fff;stroke-width:1}
svg.chart .point.base{fill:#fff;stroke:#222;stroke-width:2}
svg.chart .band{opacity:.3;stroke:none}
svg.chart .projection{fill:none;stroke-width:2.5;stroke-dasharray:3 3}
svg.chart .projection-end{fill:#fff;stroke-width:2}
svg.chart .fit{fill:none;stroke-width:1.5;stroke-dasharray:5 3;opacity:.7}
svg.chart .whisker{stroke-width:2}
svg.chart .target-line{stroke:#000;stroke-width:1.3;stroke-dasharray:8 5;opacity:.75}
svg.chart .target-mark{stroke:#000;stroke-width:1.5}
svg.chart .plan-start{stroke:#777;stroke-width:1.2;stroke-dasharray:2 3}
details{margin:.4rem 0 0;font-size:.9rem}
summary{cursor:pointer;color:#0b5394}
table.data{margin:.3rem 0;font-size:.88rem}
table.data th,table.data td{border-bottom:1px solid var(--rule);padding:.1rem .8rem .1rem 0;text-align:left}
table.data td.num{text-align:right}
table.data tr.aside td{font-style:italic}
.nochart{color:var(--muted);font-style:italic}
footer{margin-top:2.5rem;border-top:2px solid var(--ink);padding-top:.5rem;font-size:.92rem}
footer h2{border:none;margin-top:1rem}
footer h3{font-size:.98rem;margin:.8rem 0 .2rem}
footer p{margin:.2rem 0 .5rem}
ul.sources li{margin:.3rem 0}
.attribution p{margin:.2rem 0}
@media (max-width:40rem){.legend .cols{grid-template-columns:1fr}table.facts th{width:6rem}}
@page{size:A4;margin:14mm 12mm}
@media print{
 html{font-size:10.5pt}
 body{padding:0}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 a{color:#000;text-decoration:underline}
 h2{break-after:avoid;page-break-after:avoid}
 .objective>h2,.objective>.meta,.counterfactual{break-after:avoid;page-break-after:avoid}
 article.target,table.rollup,.legend,.summary{break-inside:avoid;page-break-inside:avoid}
 svg.chart{max-width:100%}
 details{display:none}
}
"""


def to_html(ev: Evaluation, prevention: dict[tuple[int, int], Any] | None = None) -> str:
    """The whole evaluation as one self-contained HTML page (inline CSS and SVG, no scripts).

    `prevention`: (objective, target) → the value of meeting the target from a linked prevention model; by
    default the evaluation's own (see `_linked`)."""
    plan = ev.plan
    if prevention is None:
        prevention = _linked(ev).prevention
    banner = ""
    if plan.illustrative:
        made = ("Its objectives are taken from the published source named below; its targets and weights are this "
                "example's own reading, not the source's and not those" if plan.source is not None else
                "This example plan was invented to show how Good Growth reads a plan. Its targets are not those")
        banner = ("<p class=\"banner\" role=\"note\">Illustration: not any council's real plan"
                  f"<small>{made} of any council or combined authority.</small></p>")
    snap = ev.snapshot or {}
    horizon_notes = {k: f"({lo}–{hi} years)" for k, (lo, hi) in HORIZON_YEARS.items()}
    source = f" <span class=\"muted\">({_esc(snap.get('source'))})</span>" if snap.get("source") else ""
    about = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in [
        ("Place", _place_line(ev)),
        *([("Objectives from", _source_html(plan.source))] if plan.source is not None else []),
        ("Plan published", _esc(_long_date(plan.published))),
        ("Baseline", _esc(plan.baseline)),
        ("Benchmark", _esc(_benchmark_words(plan.benchmark))),
        ("Similar places", _esc(ev.place.peer_label)),
        ("Evaluated", _esc(_long_date(ev.evaluated_at))),
        ("Data snapshot", _esc(_long_date(snap.get("created_at"))) + source),
    ])
    n_targets = sum(len(o.targets) for o in ev.objectives)
    unmeasured = sum(o.not_measured is not None for o in ev.objectives)
    unmeasured_words = f" ({unmeasured} not measured in the snapshot)" if unmeasured else ""
    objectives = "".join(_objective(o, ev, i, prevention) for i, o in enumerate(ev.objectives, 1))
    attribution = "".join(f"<p>{_esc(a)}</p>" for a in (snap.get("attribution") or []))
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Good Growth">
<title>{_esc(plan.title)}: evaluation of {_esc(ev.place.name)}</title>
<style>{CSS}</style>
</head>
<body>
<header class="top">
{banner}
<p class="muted">Good Growth: growth plan evaluation</p>
<h1>{_esc(plan.title)}</h1>
<dl class="about">{about}</dl>
<p class="summary">{_esc(ev.summary)}</p>
</header>
<main>
<section class="overview">
<h2>Summary</h2>
<p>{len(ev.objectives)} objectives{unmeasured_words}, {n_targets} targets.{_overall_text(ev)}</p>
<p class="weights">{_esc(ev.weights_text)}</p>
{_rollup_table(ev.by_horizon, "horizon", HORIZON_NAMES, "Targets by horizon", horizon_notes)}
{_rollup_table(ev.by_pillar, "pillar", PILLAR_NAMES, "Targets by pillar")}
<p class="muted">Met or on track: the weighted share of the targets that could be judged (met, on track, at risk or
off track); targets too early, with too few points or without data are counted but not judged.</p>
</section>
{_legend()}
{objectives}
</main>
<footer>
<h2>Methods in brief</h2>
{_methods()}
<h2>Sources</h2>
{_source_list(ev)}
<div class="attribution">
<h3>Attribution</h3>
{attribution}
<p>Produced with Good Growth on {_esc(_long_date(ev.evaluated_at))}. Figures are as published in the data snapshot
of {_esc(_long_date(snap.get("created_at")))}.</p>
</div>
</footer>
</body>
</html>
"""


__all__ = ["to_csv", "to_json", "to_html", "fmt_value"]
