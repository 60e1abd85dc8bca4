"""The prevention model's report: a self-contained HTML page (inline CSS and SVG, no scripts), CSV and JSON.

Every string from the model file (titles, names, sources) is escaped before it reaches HTML; every
CSV goes through csv_export so no text cell can become a spreadsheet formula; JSON is strict (no NaN).
The page lists every assumption with its source beside the results, because the result is only as
good as the assumptions.
"""
from __future__ import annotations

import html
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from .. import csv_export
from .evaluate import INTERVAL, Result

CAVEAT = ("This result is only as good as the assumptions below. The tool does the arithmetic the Green Book "
          "asks for; it does not know whether an effect size or a unit cost is right.")
HORIZON_NAMES = {"immediate": "Immediate (years 0–2)", "medium": "Medium term (years 3–5)",
                 "long": "Long term (years 6–15)", "total": "All years"}
WHO_NAMES = {"council": "Council", "nhs": "NHS", "other": "Others (residents, other bodies)"}
INTERVAL_LABEL = f"{INTERVAL[1] - INTERVAL[0]:.0f}% interval"


def _esc(v: object) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def _ok(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and not math.isfinite(v))


def money(v: float | None) -> str:
    """£ with a scale word a reader can take in: £16.8m, £420k, £35."""
    if not _ok(v):
        return "–"
    a, sign = abs(float(v)), "−" if float(v) < 0 else ""  # type: ignore[arg-type]
    if a >= 1e9:
        return f"{sign}£{a / 1e9:.2f}bn"
    if a >= 1e6:
        return f"{sign}£{a / 1e6:.1f}m"
    if a >= 1e4:
        return f"{sign}£{a / 1e3:.0f}k"
    return f"{sign}£{a:,.0f}"


def fmt_metric(metric: str, v: float | None) -> str:
    if not _ok(v):
        return "not within the period" if metric == "break_even" else "–"
    if metric == "bcr":
        return f"{v:.2f}"
    if metric == "break_even":
        return f"{int(v)}"  # type: ignore[arg-type]
    return money(v)


def number(v: float | None) -> str:
    if not _ok(v):
        return "–"
    a = abs(float(v))  # type: ignore[arg-type]
    return f"{v:,.0f}" if a >= 100 else f"{v:,.3g}"


def short_labels(labels: pd.Series) -> pd.Series:
    """Labels without the intervention's name when every one starts with the same name (one intervention):
    a chart's axis then shows what differs."""
    heads = labels.str.split(": ", n=1).str[0]
    if len(labels) and heads.nunique() == 1 and labels.str.contains(": ").all():
        return labels.str.split(": ", n=1).str[1]
    return labels


def interval_text(metric: str, lo: float | None, hi: float | None) -> str:
    if metric == "break_even" and not _ok(hi):
        return "not within the period" if not _ok(lo) else f"{fmt_metric(metric, lo)} to beyond the period"
    return f"{fmt_metric(metric, lo)} to {fmt_metric(metric, hi)}"


# ---------------------------------------------------------------- tables for CSV, JSON and the page

def summary_table(r: Result) -> pd.DataFrame:
    return r.summary[["metric", "label", "unit", "central", "median", "lo", "hi"]].rename(
        columns={"lo": f"lo_{INTERVAL[0]:g}", "hi": f"hi_{INTERVAL[1]:g}"})


def rows(r: Result) -> pd.DataFrame:
    """One long table for CSV: every figure with its section, so a spreadsheet user sees them all."""
    parts = []
    s = r.summary.assign(section="summary", item=r.summary["label"])
    parts.append(s[["section", "item", "unit", "central", "lo", "hi"]].assign(source=""))
    h = r.by_horizon
    parts.append(pd.DataFrame({"section": "demand avoided (units) " + h["horizon"], "item": h["demand"],
                               "unit": "units", "central": h["units"], "lo": h["units_lo"], "hi": h["units_hi"],
                               "source": ""}).dropna(subset=["central"]))
    parts.append(pd.DataFrame({"section": "value of avoided demand " + h["horizon"], "item": h["demand"],
                               "unit": "£ present value", "central": h["value"], "lo": h["value_lo"],
                               "hi": h["value_hi"], "source": ""}))
    w = r.who_gains
    parts.append(pd.DataFrame({"section": "who gains", "item": w["who"], "unit": "£ present value",
                               "central": w["central"], "lo": w["lo"], "hi": w["hi"], "source": ""}))
    t = r.tornado
    parts.append(pd.DataFrame({"section": "tornado: NPV with this at low / high", "item": t["parameter"],
                               "unit": "£", "central": t["npv_central"], "lo": t["npv_low"], "hi": t["npv_high"],
                               "source": t["source"]}))
    a = r.assumptions
    parts.append(pd.DataFrame({"section": "assumption " + a["field"], "item": a["assumption"], "unit": a["unit"],
                               "central": a["central"], "lo": a["low"], "hi": a["high"], "source": a["source"]}))
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "model", r.model.title)
    out.insert(1, "place", f"{r.place_name} ({r.model.place.code})")
    return out


def csv_text(r: Result) -> str:
    """The figures as CSV text, written through csv_export so that no text cell can become a formula."""
    return csv_export.to_csv(rows(r))


def to_dict(r: Result) -> dict[str, Any]:
    def recs(f: pd.DataFrame) -> list[dict[str, Any]]:
        return [{k: _finite(v) for k, v in row.items()} for row in f.to_dict("records")]
    m = r.model
    return {"title": m.title, "illustrative": m.illustrative, "place": {"code": m.place.code, "name": r.place_name},
            "start_year": m.start_year, "price_year": m.price_year, "years": m.years,
            "draws": r.draws, "seed": r.seed, "interval": INTERVAL_LABEL, "distribution": "beta-PERT",
            "break_even_never_share": r.break_even_never, "caveat": CAVEAT,
            "summary": recs(r.summary), "by_horizon": recs(r.by_horizon), "who_gains": recs(r.who_gains),
            "tornado": recs(r.tornado), "assumptions": recs(r.assumptions), "yearly": recs(r.yearly)}


def to_json(r: Result) -> str:
    return json.dumps(to_dict(r), indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def _finite(v: Any) -> Any:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    return v


# ---------------------------------------------------------------- HTML

def _tornado_svg(r: Result, top: int = 10) -> str:
    """Horizontal bars: NPV with each assumption at its low and high, around the central NPV."""
    t = r.tornado.head(top)
    t = t.assign(parameter=short_labels(t["parameter"]))
    if t.empty:
        return ""
    centre = float(t["npv_central"].iloc[0])
    lo = float(min(t["npv_low"].min(), t["npv_high"].min(), centre))
    hi = float(max(t["npv_low"].max(), t["npv_high"].max(), centre))
    span = hi - lo or 1.0
    label_w, bar_w, row_h = 300, 420, 26
    width, height = label_w + bar_w + 20, row_h * len(t) + 40

    def x(v: float) -> float:
        return label_w + (v - lo) / span * bar_w

    out = [f'<svg role="img" aria-labelledby="tornado-title" viewBox="0 0 {width} {height}" width="100%" '
           f'style="max-width:{width}px" xmlns="http://www.w3.org/2000/svg">',
           '<title id="tornado-title">Net present value with each assumption at its low and high value</title>']
    for k, row in enumerate(t.itertuples()):
        y = 10 + k * row_h
        label = row.parameter if len(row.parameter) <= 48 else row.parameter[:47] + "…"
        out.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="11">{_esc(label)}</text>')
        for v, colour in ((row.npv_low, "#0072B2"), (row.npv_high, "#E69F00")):
            a, b = sorted((x(centre), x(v)))
            out.append(f'<rect x="{a:.1f}" y="{y + 3}" width="{max(b - a, 1):.1f}" height="{row_h - 8}" '
                       f'fill="{colour}"><title>{_esc(row.parameter)}: NPV {_esc(money(v))}</title></rect>')
    cx = x(centre)
    out.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="5" y2="{height - 25}" stroke="#000"/>')
    out.append(f'<text x="{cx:.1f}" y="{height - 8}" text-anchor="middle" font-size="11">central NPV '
               f'{_esc(money(centre))}</text>')
    if lo < 0 < hi:
        zx = x(0.0)
        out.append(f'<line x1="{zx:.1f}" x2="{zx:.1f}" y1="5" y2="{height - 25}" stroke="#555" '
                   'stroke-dasharray="3 3"/>')
    out.append("</svg>")
    return "".join(out)


def _table(headers: list[str], body: list[list[str]], caption: str = "") -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    rows_ = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in body)
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{rows_}</tbody></table>"


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:960px;padding:1rem;
color:#111;line-height:1.45}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
.caveat{background:#FFF4D6;border-left:4px solid #8F6300;padding:.6rem .8rem}
.illustrative{background:#F0E442;padding:.1rem .4rem;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0;display:block;overflow-x:auto}
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right;white-space:nowrap}.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem}
"""


def to_html(r: Result) -> str:
    m = r.model
    s = r.summary.set_index("metric")
    cards = []
    for key in ("npv", "bcr", "break_even", "pv_benefits", "pv_costs"):
        row = s.loc[key]
        cards.append([_esc(row["label"]), f'<span class="n">{_esc(fmt_metric(key, row["central"]))}</span>',
                      _esc(interval_text(key, row["lo"], row["hi"]))])
    never = (f"<p>In {r.break_even_never:.0%} of the draws the programme does not break even within the "
             f"{m.years + 1} years valued ({m.start_year}–{m.start_year + m.years}).</p>")
    horizon_rows = []
    for rec in r.by_horizon.itertuples():
        units = "" if not _ok(rec.units) else f"{number(rec.units)} ({number(rec.units_lo)} to {number(rec.units_hi)})"
        horizon_rows.append([_esc(HORIZON_NAMES[rec.horizon]), _esc(rec.demand), _esc(units),
                             _esc(f"{money(rec.value)} ({money(rec.value_lo)} to {money(rec.value_hi)})")])
    who_rows = [[_esc(WHO_NAMES.get(w.who, w.who)), _esc(money(w.central)), _esc(f"{money(w.lo)} to {money(w.hi)}")]
                for w in r.who_gains.itertuples()]
    tornado_rows = [[_esc(t.parameter), _esc(f"{number(t.low)} / {number(t.central)} / {number(t.high)}"),
                     _esc(money(t.npv_low)), _esc(money(t.npv_high)), _esc(money(t.swing))]
                    for t in r.tornado.itertuples()]
    assumption_rows = [[_esc(a.field), _esc(a.assumption),
                        _esc(a.unit if not _ok(a.central) else
                             (number(a.central) if a.low == a.high else
                              f"{number(a.low)} / {number(a.central)} / {number(a.high)}")
                             + ("" if not _ok(a.central) else f" {a.unit}")),
                        _esc(a.source) + (' <span class="illustrative">illustrative</span>' if a.illustrative else "")]
                       for a in r.assumptions.itertuples()]
    d = m.discount
    flag = '<p><span class="illustrative">Illustrative</span> The numbers in this model are made up to show how ' \
           'a model is written; they are no council\'s figures.</p>' if m.illustrative else ""
    note = f"<p>{_esc(m.note)}</p>" if m.note else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(m.title)}</title><style>{CSS}</style></head><body>
<h1>{_esc(m.title)}</h1>
<p>{_esc(r.place_name)} ({_esc(m.place.code)}) · years {m.start_year}–{m.start_year + m.years} ·
{m.price_year} prices · discounted to {m.start_year}</p>
{flag}{note}
<p class="caveat">{_esc(CAVEAT)}</p>
<h2>Result</h2>
{_table(["Measure", "Central case", INTERVAL_LABEL], cards,
        f"Central case: every assumption at its central value. Interval: {r.draws:,} Monte Carlo draws "
        f"(seed {r.seed}).")}
{never}
<h2>Which assumption matters most</h2>
<p class="legend">Net present value with one assumption at a time at its <span style="background:#0072B2"></span>low
or <span style="background:#E69F00"></span>high value, every other at its central value.</p>
{_tornado_svg(r)}
{_table(["Assumption", "Low / central / high", "NPV at low", "NPV at high", "Swing"], tornado_rows)}
<h2>Demand avoided and its value, by horizon</h2>
{_table(["Horizon", "Demand", "Units avoided (" + INTERVAL_LABEL + ")", "Present value (" + INTERVAL_LABEL + ")"],
        horizon_rows, "Units are not discounted; values are.")}
<h2>Who gains</h2>
{_table(["Who", "Present value of avoided demand", INTERVAL_LABEL], who_rows)}
<h2>Every assumption and its source</h2>
{_table(["Field in the file", "Assumption", "Value", "Source"], assumption_rows)}
<h2>Method</h2>
<p>HM Treasury, <i>The Green Book</i> (2022): constant {m.price_year} prices; discounted at {d.standard:.1%} a year
(health effects {d.health:.1%}, Annex A6), {"year 0 undiscounted" if d.convention == "start_of_year" else
"flows at the middle of each year"}; costs uplifted by {m.optimism_bias.costs:.0%} and benefits reduced by
{m.optimism_bias.benefits:.0%} for optimism bias. People whose outcome changes = effect × population ÷ the
people the indicator is per; demand avoided = those people × demand per person; its value = demand × unit cost,
from the year the effect starts. Intervals: {r.draws:,} draws, each assumption independently from a beta-PERT
distribution on its low / central / high; the {INTERVAL_LABEL} is the {INTERVAL[0]:g}th to {INTERVAL[1]:g}th
percentile. Break-even year: the first year whose cumulative discounted net benefit is at least zero.</p>
</body></html>
"""
