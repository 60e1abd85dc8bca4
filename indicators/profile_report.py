"""A place's profile as HTML: Fingertips-style rows (value with its CI, benchmark, verdict, trend and a
spine) grouped by pillar and theme, for the page and as one self-contained file to download.

Why HTML rather than a chart library: every row must carry its label and its numbers as text beside the
spine, on a 1440 px screen, on a 390 px phone (the table scrolls sideways, its first column stays put)
and on an A4 page. A chart's axis drops labels it thinks overlap; a table never does. The same
fragment is embedded in the app (``profile_tables``) and wrapped into the download (``to_html``),
so the two never disagree.

Every string from the data or the catalogue (names, labels, units, periods, sources, caveats, URLs)
passes through ``_esc`` before it is written; a URL becomes a link only when it is http(s). No
scripts; the indicator's definition and source are in a ``<details>`` element, one click away. Verdicts
are written in words as well as shown by colour and marker shape; the palette is Okabe–Ito.
"""
from __future__ import annotations

import html
import math
import re
from datetime import date, datetime
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .catalogue import PILLAR_LABELS
from .plan_report import LEVEL_NAMES, source_item, unit_parts
from .plan_report import _missing  # one rule for "no number to write or draw"
from .plan_report import web_link
from .plan_report import unit_named_apart as plan_unit_named_apart

# Long units are named beside the label; these short ones travel with each value.
PROFILE_UNITS = {"minutes": " min", "money_per": True}

PILLAR_ORDER = ["economy", "public_services", "environment", "context"]
THEME_LABELS = {"pay_income": "Pay and income", "crime_safety": "Crime and safety", "labour_market": "Labour market",
                "natural_capital": "Natural capital", "pay": "Pay"}
QUINTILE_WORDS = {1: "best fifth", 2: "second fifth", 3: "middle fifth", 4: "fourth fifth", 5: "worst fifth"}
# Okabe–Ito (fill, text on it, marker shape). Dark text on the light fills, white on the dark blue.
VERDICT_STYLE: dict[str, tuple[str, str, str]] = {
    "better": ("#009E73", "#000000", "up"),
    "similar": ("#F0E442", "#000000", "circle"),
    "worse": ("#D55E00", "#000000", "down"),
    "higher": ("#56B4E9", "#000000", "up"),
    "lower": ("#0072B2", "#FFFFFF", "down"),
    "not compared": ("#FFFFFF", "#000000", "square"),
}
TREND_ARROWS = {"improving": "↑", "worsening": "↓", "increasing": "↑", "decreasing": "↓",
                "no significant change": "→", "too few points": "·"}
_MD_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")


# ---------------------------------------------------------------- words and numbers

def _esc(v: object) -> str:
    """HTML-escape anything from the data or the catalogue (also safe inside attribute values)."""
    return html.escape("" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v), quote=True)


def decimals_for(v: Any, published: Any = None, unit: str = "") -> int:
    """The decimals a row is written with: the publisher's where its metadata gives them (at least one
    below 10), else by size (0 from 1,000, 1 from 10, 2 below; whole pounds from £100). One choice per row, so value, interval and benchmark line up."""
    a = abs(float(v)) if not _missing(v) else 0.0
    if not _missing(published) and 0 <= float(published) <= 4:
        return max(int(published), 1) if 0 < a < 10 else int(published)  # '3%' would hide 2.7 against 3.4
    if _unit_parts(unit)[0] == "£" and a >= 100:  # whole pounds
        return 0
    return 0 if a >= 1000 else 1 if a >= 10 else 2


def _unit_parts(unit: str) -> tuple[str, str]:
    """The profile's way of writing units with values: '£' + '608' + ' per head', '79.1' + ' years'."""
    return unit_parts(unit, **PROFILE_UNITS)


def value_text(v: Any, unit: str, decimals: int | None = None, bare: bool = False) -> str:
    """A value with thousands separators and its short unit ('£236,213', '26.6%', '£608 per head');
    '–' when missing. `bare` leaves the unit off (interval limits beside a value that carries it)."""
    if _missing(v):
        return "–"
    x = float(v)
    d = decimals_for(x, unit=unit) if decimals is None else decimals
    text = f"{abs(x):,.{d}f}"
    prefix, suffix = ("", "") if bare else _unit_parts(unit)
    sign = "−" if x < 0 and float(text.replace(",", "")) != 0 else ""
    return sign + prefix + text + suffix


def unit_named_apart(unit: str) -> bool:
    """True when values are written bare, so the unit must be named beside the indicator."""
    return plan_unit_named_apart(unit, **PROFILE_UNITS)


def ci_text(lo: Any, hi: Any, unit: str, decimals: int | None = None) -> str:
    """'24.0 to 29.2' (limits written bare, as Fingertips does) or '' when no interval is published."""
    if _missing(lo) or _missing(hi):
        return ""
    return f"{value_text(lo, unit, decimals, bare=True)} to {value_text(hi, unit, decimals, bare=True)}"


def theme_label(theme: Any) -> str:
    t = str(theme) if not _missing_text(theme) else "other"
    return THEME_LABELS.get(t, t.replace("_", " ").capitalize())


def _missing_text(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() in ("", "nan", "None")


def verdict_of(row: pd.Series) -> str:
    sig = str(row.get("significance_95") or "not compared")
    return sig if sig in VERDICT_STYLE else "not compared"


def position_text(row: pd.Series) -> str:
    """The place's fifth among comparable areas: a position, not a test."""
    q, n = row.get("quintile"), row.get("areas_compared")
    if _missing(q):
        return ""
    return f"{QUINTILE_WORDS[int(q)]} of {int(n)} areas" if not _missing(n) else QUINTILE_WORDS[int(q)]


def trend_text(row: pd.Series) -> tuple[str, str]:
    """(arrow, words): the arrow follows the direction of the values, the words Fingertips' verdict."""
    verdict = str(row.get("trend") or "too few points")
    slope = row.get("slope")
    arrow = TREND_ARROWS.get(verdict, "·")
    if verdict not in ("improving", "worsening", "increasing", "decreasing") or _missing(slope):
        return arrow, verdict
    return ("↑" if float(slope) > 0 else "↓"), verdict


def _plain_caveats(text: Any) -> str:
    """Caveats arrive as Markdown: links become 'text (address)' so they read as plain text."""
    if _missing_text(text):
        return ""
    return _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})" if m.group(2) else m.group(1), str(text)).strip()


def _link(url: Any, text: str) -> str:
    """The plan report's link (http(s) only, anything else as text), with a missing URL as nothing."""
    return "" if _missing_text(url) else web_link(str(url).strip(), text)


def long_date(value: Any) -> str:
    if _missing_text(value):
        return "not stated"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, (datetime, pd.Timestamp)):
        value = value.date()
    if isinstance(value, date):
        return f"{value.day} {value.strftime('%B %Y')}"
    return str(value)


# ---------------------------------------------------------------- metadata

META_COLUMNS = ["title", "subtitle", "description", "caveats", "source_org", "source_url", "source_date_text",
                "next_release", "decimal_places", "note", "kind"]


def metadata(snapshot_catalogue: pd.DataFrame, catalogue: pd.DataFrame) -> pd.DataFrame:
    """Per indicator id: the publisher's metadata from the snapshot (title, definition, caveats, source,
    release dates) beside our own catalogue's note and kind. Missing cells are empty strings."""
    meta = snapshot_catalogue.astype({"indicator_id": str}).drop_duplicates("indicator_id").set_index("indicator_id")
    meta = meta.rename(columns={"indicator": "title"})
    ours = catalogue.set_index("id")[["note", "kind"]] if "id" in catalogue else catalogue[["note", "kind"]]
    out = meta.reindex(columns=[c for c in META_COLUMNS if c not in ("note", "kind")]).join(ours, how="outer")
    return out.astype(object).where(out.notna(), "")


# ---------------------------------------------------------------- the spine

def spine_positions(prof: pd.DataFrame) -> pd.DataFrame:
    """Where each row's marks sit on a 0–1 spine: worst area at 0, best at 1, the benchmark at 0.5
    (the median area where there is no benchmark figure), scaled so the farther extreme touches an end.
    NaN where the row has no distribution across areas."""
    sign = np.where(prof["polarity"].astype(str) == "lower_is_better", -1.0, 1.0)
    b = prof["benchmark_value"].astype(float).fillna(prof["area_median"].astype(float)).to_numpy(float)
    lo, hi = prof["area_min"].to_numpy(float), prof["area_max"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        spread = np.fmax(np.abs(lo - b), np.abs(hi - b))
        spread = np.where(spread > 0, spread, 1.0)

    def pos(col: str) -> np.ndarray:
        return np.clip(0.5 + sign * (prof[col].to_numpy(float) - b) / (2 * spread), 0.0, 1.0)

    a, z = pos("area_min"), pos("area_max")
    p25, p75 = pos("area_p25"), pos("area_p75")
    return pd.DataFrame({"worst": np.fmin(a, z), "best": np.fmax(a, z), "q_lo": np.fmin(p25, p75),
                         "q_hi": np.fmax(p25, p75), "here": pos("value")}, index=prof.index)


GLYPHS = {"up": "▲", "down": "▼", "circle": "●", "square": "■"}


def _marker(verdict: str, left: float | None = None) -> str:
    """The place's marker: shape and colour by verdict, outlined in black. Drawn as a text glyph, not SVG,
    because the app's HTML element admits no SVG; the glyph prints and scales with the text."""
    fill, _, shape = VERDICT_STYLE[verdict]
    where = f"left:{left * 100:.1f}%;" if left is not None else ""
    return f'<span class="mk mk-{shape}" style="{where}color:{fill}" aria-hidden="true">{GLYPHS[shape]}</span>'


def spine_html(pos: Mapping[str, float], verdict: str, words: str) -> str:
    """One row's spine: range across areas (light), middle half (dark), benchmark (black line), the place.
    Positions are percentages of the spine's width, so it draws the same on a phone, a desktop and paper."""
    if _missing(pos["worst"]) or _missing(pos["here"]):
        return '<span class="muted">no spread across areas</span>'

    def bar(cls: str, lo: float, hi: float) -> str:
        return f'<span class="{cls}" style="left:{lo * 100:.1f}%;width:{max(hi - lo, 0.005) * 100:.1f}%"></span>'

    return (f'<div class="spine" role="img" aria-label="{_esc(words)}">'
            f'{bar("rng", pos["worst"], pos["best"])}{bar("iqr", pos["q_lo"], pos["q_hi"])}'
            f'<span class="bm"></span>{_marker(verdict, float(pos["here"]))}</div>')


# ---------------------------------------------------------------- rows and tables

def _badge(verdict: str) -> str:
    fill, ink, _ = VERDICT_STYLE[verdict]
    return f'<span class="verdict" style="background:{fill};color:{ink}">{_esc(verdict)}</span>'


def _about(row: Mapping[str, Any], m: dict[str, Any]) -> str:
    """The indicator's definition and source, from the snapshot's metadata."""
    parts = []
    if m["title"] and str(m["title"]) != str(row["label"]):
        parts.append(f"<p><strong>{_esc(m['title'])}</strong></p>")
    for key in ("subtitle", "description"):
        if m[key]:
            parts.append(f"<p>{_esc(m[key])}</p>")
    caveats = _plain_caveats(m["caveats"])
    if caveats:
        parts.append("<p><strong>Caveats:</strong> " + "<br>".join(_esc(p) for p in caveats.split("\n") if p.strip())
                     + "</p>")
    source = _esc(m["source_org"]) if m["source_org"] else "Source not stated"
    released = f", released {_esc(m['source_date_text'])}" if m["source_date_text"] else ""
    nxt = f"; next release {_esc(m['next_release'])}" if m["next_release"] else ""
    link = f" ({_link(m['source_url'], 'source page')})" if m["source_url"] else ""
    parts.append(f"<p><strong>Source:</strong> {source}{released}{nxt}{link}.</p>")
    if m["note"]:
        parts.append(f"<p><strong>Our judgement:</strong> {_esc(m['note'])}</p>")
    if m["kind"] and m["kind"] != "outcome" or not bool(row.get("scored", True)):
        parts.append(f"<p>Shown for context ({_esc(m['kind'] or 'not an outcome')}): not scored.</p>")
    return "".join(parts)


def _row(row: Mapping[str, Any], pos: Mapping[str, float], meta: dict[str, dict[str, Any]], bench_name: str,
         place_name: str) -> str:
    unit = str(row.get("unit") or "")
    m = {**dict.fromkeys(META_COLUMNS, ""), **meta.get(str(row["indicator_id"]), {})}
    verdict = verdict_of(row)
    d = decimals_for(row["value"], m["decimal_places"], unit)
    value = value_text(row["value"], unit, d)
    ci = ci_text(row.get("lci"), row.get("uci"), unit, d)
    bench = value_text(row.get("benchmark_value"), unit, d)
    who = row.get("benchmark_name")
    bench_note = ""
    if _missing_text(who):
        bench_note = '<span class="sub">no comparator figure</span>'
    elif str(who) != bench_name:
        bench_note = f'<span class="sub">{_esc(who)}</span>'
    arrow, trend_words = trend_text(row)
    unit_line = f" · {_esc(unit)}" if unit_named_apart(unit) else ""
    period = _esc(row.get("period_label") or "")
    position = position_text(row)
    verdict_sub = f'<span class="sub">{_esc(position)}</span>' if position and verdict == "not compared" else ""
    flag = '<span class="flag">worse and worsening</span>' if bool(row.get("worse_and_worsening")) else ""
    centre = "median area" if _missing(row.get("benchmark_value")) else "benchmark"
    words = (f"{row['label']}: {place_name} {value}; {verdict} compared with the benchmark; range across areas "
             f"from worst (left) to best (right), {centre} at the centre line")
    return (f'<tr><th scope="row" class="ind"><details><summary>{_esc(row["label"])}</summary>'
            f'<div class="about">{_about(row, m)}</div></details>'
            f'<span class="sub">{period}{unit_line}</span></th>'
            f'<td class="num">{_esc(value)}<span class="sub">{_esc(ci) if ci else "no interval"}</span></td>'
            f'<td class="num">{_esc(bench)}{bench_note}</td>'
            f'<td>{_badge(verdict)}{verdict_sub}{flag}</td>'
            f'<td class="trend"><span aria-hidden="true">{arrow}</span> {_esc(trend_words)}</td>'
            f'<td class="spinecell">{spine_html(pos, verdict, words)}</td></tr>')


def ordered(prof: pd.DataFrame) -> pd.DataFrame:
    """Rows in reading order: pillar (economy, public services, environment, context), theme, label."""
    rank = {p: i for i, p in enumerate(PILLAR_ORDER)}
    key = prof["pillar"].map(lambda p: rank.get(p, len(rank)))
    return (prof.assign(_p=key, _t=prof["theme"].map(theme_label), _l=prof["label"].astype(str).str.lower())
            .sort_values(["_p", "_t", "_l"], kind="stable").drop(columns=["_p", "_t", "_l"]))


def profile_tables(prof: pd.DataFrame, meta: pd.DataFrame, bench_name: str, place_name: str) -> str:
    """Every row of the profile as HTML: one table per pillar with a heading, a sub-heading row per theme.
    Wrapped in a horizontally scrolling box whose first column stays in view."""
    prof = ordered(prof.reset_index(drop=True))
    pos = spine_positions(prof)
    lookup = meta.to_dict("index") if len(meta) else {}
    # Each row and its spine as plain dicts, converted once: reading ~20 fields from a pandas Series
    # per row cost more than writing the HTML.
    plain = dict(zip(prof.index, zip(prof.to_dict("records"), pos.to_dict("records"))))
    head = (f'<thead><tr><th scope="col" class="ind">Indicator <span class="sub">period · unit; '
            f'click for definition and source</span></th>'
            f'<th scope="col" class="num">{_esc(place_name)} <span class="sub">95% confidence interval</span></th>'
            f'<th scope="col" class="num">{_esc(bench_name)} <span class="sub">benchmark</span></th>'
            f'<th scope="col">Compared with benchmark <span class="sub">95% confidence</span></th>'
            f'<th scope="col">Recent trend</th>'
            f'<th scope="col">Worst area · benchmark · best area</th></tr></thead>')
    out = []
    for pillar, part in prof.groupby("pillar", sort=False):
        name = PILLAR_LABELS.get(str(pillar), str(pillar).replace("_", " ").capitalize())
        bodies = []
        for theme, rows in part.groupby(part["theme"].map(theme_label), sort=False):
            body = "".join(_row(*plain[i], lookup, bench_name, place_name) for i in rows.index)
            bodies.append(f'<tbody><tr class="theme"><th scope="colgroup" colspan="6"><span>{_esc(theme)}</span></th></tr>'
                          f'{body}</tbody>')
        out.append(f'<section class="pillar"><h3>{_esc(name)} <span class="count">({len(part)} indicators)</span>'
                   f'</h3><div class="scroll" role="region" tabindex="0" aria-label="{_esc(name)} indicators">'
                   f'<table class="profile"><caption class="vh">{_esc(name)}: {_esc(place_name)} compared with '
                   f'{_esc(bench_name)}</caption>{head}{"".join(bodies)}</table></div></section>')
    return f'<div class="gg-profile">{legend(bench_name)}{"".join(out)}</div>'


def legend(bench_name: str) -> str:
    keys = []
    for verdict, meaning in [("better", "the 95% interval is wholly on the better side of the benchmark"),
                             ("similar", "the interval includes the benchmark"),
                             ("worse", "the interval is wholly on the worse side"),
                             ("not compared", "no published interval or no comparator figure: the place's fifth "
                                              "among areas is shown instead (a position, not a test)")]:
        icon = f'<span class="key">{_marker(verdict)}</span>'
        keys.append(f"<li>{icon} <strong>{_esc(verdict)}</strong>: {_esc(meaning)}</li>")
    return (f'<div class="legend"><p>Each row: the value with its 95% confidence interval, {_esc(bench_name)}\'s '
            f'value, the comparison, the recent trend (improving or worsening only when significant, by '
            f'Fingertips\' rules) and a spine: light grey the range across areas, worst on the left and best on the '
            f'right; dark grey the middle half of areas; black line the benchmark.</p><ul>{"".join(keys)}</ul></div>')


# ---------------------------------------------------------------- styles and the document

CSS = """
.gg-profile{--ink:#1a1a1a;--muted:#555;--rule:#d0d0d0;color:var(--ink);font-size:15px;line-height:1.4}
.gg-profile h3{font-size:1.2rem;margin:1.4rem 0 .4rem;border-bottom:2px solid var(--ink);padding-bottom:.15rem}
.gg-profile h3 .count{font-weight:normal;color:var(--muted);font-size:.9rem}
.gg-profile .legend ul{list-style:none;padding:0;margin:.3rem 0 0}
.gg-profile .legend li{margin:.15rem 0}
.gg-profile .legend p{margin:.2rem 0}
.gg-profile .scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
.gg-profile table.profile{border-collapse:separate;border-spacing:0;width:100%;min-width:56rem}
.gg-profile table.profile th,.gg-profile table.profile td{border-bottom:1px solid var(--rule);padding:.3rem .5rem;
 text-align:left;vertical-align:top;background:#fff}
.gg-profile table.profile thead th{border-bottom:2px solid var(--ink);font-weight:600;vertical-align:bottom;
 font-size:.88rem}
.gg-profile th.ind{position:sticky;left:0;z-index:1;width:17rem;min-width:12rem;max-width:20rem;font-weight:600;
 border-right:1px solid var(--rule)}
.gg-profile tr.theme th{background:#f2f2f2;font-weight:700;font-size:.9rem;padding:.25rem .5rem;text-align:left}
.gg-profile td.num,.gg-profile th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.gg-profile .sub{display:block;font-weight:normal;color:var(--muted);font-size:.8rem;white-space:normal}
.gg-profile .verdict{display:inline-block;border:1px solid #000;border-radius:.25rem;padding:0 .4rem;
 font-weight:700;font-size:.85rem;white-space:nowrap}
.gg-profile .flag{display:block;font-weight:700;font-size:.8rem;color:#000}
.gg-profile .flag::before{content:"⚠ "}
.gg-profile td.trend{white-space:nowrap;font-size:.9rem}
.gg-profile td.spinecell{width:11rem;min-width:11rem;vertical-align:middle}
.gg-profile .spine{position:relative;height:22px;margin:0 8px}
.gg-profile .spine span{position:absolute;display:block}
.gg-profile .spine .rng{top:6px;height:10px;background:#d9d9d9}
.gg-profile .spine .iqr{top:6px;height:10px;background:#8c8c8c}
.gg-profile .spine .bm{left:50%;top:0;width:2px;height:22px;margin-left:-1px;background:#000}
.gg-profile .mk{font-size:17px;line-height:1;-webkit-text-stroke:1.2px #000;paint-order:stroke fill}
.gg-profile .spine .mk{top:50%;transform:translate(-50%,-52%)}
.gg-profile .key{display:inline-block;width:1.1rem;text-align:center}
.gg-profile .mk-square{font-size:14px}
.gg-profile details summary{cursor:pointer;color:#0b5394;text-decoration:underline dotted}
.gg-profile details .about{font-weight:normal;font-size:.85rem;max-width:32rem;white-space:normal}
.gg-profile details .about p{margin:.25rem 0;font-size:.85rem;line-height:1.35}
.gg-profile tr.theme th span{position:sticky;left:.5rem}
.gg-profile .muted{color:var(--muted)}
.gg-profile .url{overflow-wrap:anywhere;font-family:monospace}
.gg-profile a{color:#0b5394;overflow-wrap:anywhere}
.gg-profile .vh{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
@media (max-width:40rem){.gg-profile th.ind{width:9.5rem;min-width:9.5rem}.gg-profile{font-size:14px}}
@media print{
 .gg-profile{font-size:9pt}
 .gg-profile .scroll{overflow:visible}
 .gg-profile table.profile{min-width:0}
 .gg-profile th.ind{position:static;width:auto}
 .gg-profile tr{break-inside:avoid;page-break-inside:avoid}
 .gg-profile h3{break-after:avoid;page-break-after:avoid}
 .gg-profile *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""

DOC_CSS = """
:root{--ink:#1a1a1a;--muted:#555}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--ink);margin:0;
 padding:1rem 1.2rem 2rem;line-height:1.45}
header,main,footer{max-width:72rem;margin:0 auto}
h1{font-size:1.7rem;margin:.2rem 0 .5rem}
h2{font-size:1.3rem;margin:1.6rem 0 .5rem}
.muted{color:var(--muted)}
dl.about{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0 1rem}
dl.about dt{font-weight:600}dl.about dd{margin:0}
.summary{font-size:1.05rem;font-weight:600;background:#f2f2f2;border-left:6px solid var(--ink);padding:.6rem 1rem}
footer{margin-top:2rem;border-top:2px solid var(--ink);padding-top:.5rem;font-size:.9rem}
footer p{margin:.2rem 0 .5rem}
ul.sources li{margin:.2rem 0}
@page{size:A4 landscape;margin:12mm 10mm}
@media print{body{padding:0}details:not([open]) .about{display:none}a{color:#000}}
"""


def summary(prof: pd.DataFrame, bench_name: str) -> str:
    """The verdict count in words, over scored indicators."""
    scored = prof.loc[prof["scored"].astype(bool)] if "scored" in prof else prof
    counts = scored["significance_95"].value_counts()
    n_ww = int(scored["worse_and_worsening"].astype(bool).sum()) if "worse_and_worsening" in scored else 0
    compared = len(scored) - int(counts.get("not compared", 0))
    return (f"Of {len(scored)} scored indicators, {compared} could be compared with {bench_name} at 95% confidence: "
            f"{int(counts.get('better', 0))} better, {int(counts.get('similar', 0))} similar and "
            f"{int(counts.get('worse', 0))} worse; {n_ww} worse and worsening.")


def _sources(prof: pd.DataFrame, meta: pd.DataFrame) -> str:
    ids = [i for i in prof["indicator_id"].astype(str) if i in meta.index]
    m = meta.loc[ids]
    items = []
    for (org, released, url), part in m.groupby(["source_org", "source_date_text", "source_url"], sort=True):
        labels = prof.set_index("indicator_id").loc[part.index, "label"].astype(str)
        when = f", released {_esc(released)}" if released else ""
        link = f": {_link(url, str(url))}" if url else ""
        items.append(source_item(org or "Source not stated", when, link, list(labels)))
    return f'<ul class="sources">{"".join(items)}</ul>'


def level_name(level: str) -> str:
    """A level in words, singular: 'district', 'combined authority'."""
    return LEVEL_NAMES.get(level, str(level).replace("_", " "))


def to_html(prof: pd.DataFrame, meta: pd.DataFrame, *, place_name: str, areacd: str, level_name: str,
            bench_name: str, manifest: dict | None = None, generated: date | None = None,
            tables: str | None = None) -> str:
    """The whole profile as one self-contained HTML page: inline CSS, no scripts, no fetched files.
    `tables` is the page's ``profile_tables`` output when the caller has it already (it is the slow part)."""
    manifest = manifest or {}
    attribution = "".join(f"<p>{_esc(a)}</p>" for a in (manifest.get("attribution") or []))
    generated = generated or date.today()
    about = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in [
        ("Place", f"{_esc(place_name)} <span class=\"muted\">({_esc(level_name)}, code {_esc(areacd)})</span>"),
        ("Benchmark", _esc(bench_name)),
        ("Data snapshot", _esc(long_date(manifest.get("created_at")))),
        ("Produced", _esc(long_date(generated))),
    ])
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Good Growth">
<title>Place profile: {_esc(place_name)}</title>
<style>{DOC_CSS}{CSS}</style>
</head>
<body>
<header>
<p class="muted">Good Growth: place profile</p>
<h1>{_esc(place_name)}</h1>
<dl class="about">{about}</dl>
<p class="summary">{_esc(summary(prof, bench_name))}</p>
</header>
<main>
{tables if tables is not None else profile_tables(prof, meta, bench_name, place_name)}
</main>
<footer>
<h2>Methods in brief</h2>
<p>Significance follows OHID's Public Health Technical Guidance: a value is better or worse than the benchmark
when its 95% confidence interval excludes the benchmark's value, judged in the indicator's direction; otherwise
similar. Rows without a published interval, or without a comparator figure, are not compared and show the place's
fifth among comparable areas instead. Trends follow Fingertips' rules: at least five non-overlapping points,
weighted by the published intervals, money in real terms; improving or worsening only when significant at 95%.
Totals that grow with a place's size are never compared with a benchmark.</p>
<h2>Sources</h2>
{_sources(prof, meta)}
<h3>Attribution</h3>
{attribution or "<p>Contains public sector information licensed under the Open Government Licence v3.0.</p>"}
<p>Produced with Good Growth on {_esc(long_date(generated))}.</p>
</footer>
</body>
</html>
"""


__all__ = ["profile_tables", "to_html", "metadata", "summary", "spine_positions", "value_text", "CSS"]
