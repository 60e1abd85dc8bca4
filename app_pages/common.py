"""Shared pieces of every page: cached engine access, the URL-backed selection, formatting,
colour scales and the friendly error boundary.

Pages ask indicators/ and draw; this module holds only what several pages draw alike.
"""
from __future__ import annotations

import gc
import html
import json
import logging
import math
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st
from pydeck.bindings.json_tools import default_serialize

from data_sources.errors import DataSourceError
from data_sources.settings import get_settings
from indicators import csv_export, geo, memory, place_search, query, scoring, views
from indicators.errors import IndicatorError
from app_pages import local_state

log = logging.getLogger("good_growth.pages")
memory.limit_arenas()  # once per server process: this module is imported once

LEVEL_LABELS = geo.MAP_LEVELS
# "nation" (the default) is the place's own nation: England for English places, Scotland, Wales or
# Northern Ireland for theirs, whose figures are often not comparable with England's.
DEFAULT_BENCHMARK = "nation"
BENCHMARKS = {"nation": "Its own nation", "E92000001": "England", "K02000001": "United Kingdom",
              "region": "The area's region or nation", "neighbours": "Its statistical neighbours"}
# Colour-blind-safe sequential scale (viridis, 7 steps), dark = worse, bright = better.
VIRIDIS = ["#440154", "#443983", "#31688e", "#21918c", "#35b779", "#90d743", "#fde725"]
NEUTRAL_SCALE = ["#f7fbff", "#d0e1f2", "#94c4df", "#4a98c9", "#1764ab", "#08306b", "#041b3d"]
NO_DATA = "#9e9e9e"
SIGNIFICANCE_COLOURS = {"better": "#1b9e77", "similar": "#e6ab02", "worse": "#7570b3", "not compared": "#bdbdbd",
                        "higher": "#4a98c9", "lower": "#08306b"}
# Position among areas (quintile) where no test is possible: greys, light = best fifth, dark = worst.
POSITION_COLOURS = ["#f0f0f0", "#d0d0d0", "#a8a8a8", "#7a7a7a", "#4d4d4d"]


# ---------------------------------------------------------------- the snapshot a run reads

# One script run = one page view. The context it reads is pinned here for the whole run, so a
# refresh that swaps the snapshot mid-run cannot give the top of a page one snapshot and the
# footer (or a cached table keyed by created_at) another. Thread-local: each run has its own thread.
_run = threading.local()


def ctx() -> query.Context:
    """The engine's query context: the one pinned for this run, else the snapshot on disk now
    (query.context caches it per snapshot identity, so a refresh is picked up on the next run)."""
    pinned = getattr(_run, "context", None)
    return pinned if pinned is not None else query.context()


@contextmanager
def fragment_context() -> Iterator[None]:
    """Inside an st.fragment: a fragment rerun runs only the fragment, outside app.py's
    pinned_context, so pin this run's context (with the visitor's local data) for the fragment too.
    Within a full run the context is already pinned and is left as it is."""
    if getattr(_run, "context", None) is not None:
        yield
        return
    _run.context = query.context(local=local_state.current_layer())
    try:
        yield
    finally:
        _run.context = None


@contextmanager
def pinned_context() -> Iterator[None]:
    """Load the snapshot once for this run and serve it to every ctx() call inside the block.

    If the snapshot cannot be used (missing, truncated, edited, refused by the catalogue), the run
    shows one banner instead of the page, never a traceback, and stops."""
    try:
        with st.spinner("Loading the data…"):
            _run.context = query.context(local=local_state.current_layer())
    except (DataSourceError, IndicatorError, OSError, ValueError) as exc:
        log.error("snapshot unusable: %s", exc)
        snapshot_banner(exc)
        footer()
        st.stop()
    freeze_loaded_objects()
    try:
        yield
    finally:
        _run.context = None


_frozen = threading.Lock()


def freeze_loaded_objects() -> None:
    """Once per server process, after the first snapshot is loaded: move every object alive now
    (Streamlit, pandas, Altair, the query context) out of the garbage collector's sight.

    Why: Python's full collections walk every tracked object, about 320,000 here, and one ran
    every second or third page view, 0.14 s of CPU each time. Those objects live as long as the
    process, so checking them for cycles again and again finds nothing; gc.freeze() leaves them
    out, and collections look only at what page views create. The cost: cyclic garbage among the
    frozen objects is never collected, which for objects that live for the whole process is none."""
    if _frozen.acquire(blocking=False):
        gc.freeze()


def snapshot_banner(exc: Exception) -> None:
    """Say plainly that the data cannot be shown; detail and the way out only in local mode."""
    if public_mode():
        st.error("Sorry, the data behind this site could not be loaded, so no page can be shown right now. "
                 "The problem has been logged; please try again later.")
    else:
        st.error("The data snapshot could not be loaded, so no page can be shown.\n\n"
                 f"{md(exc)}\n\n"
                 "`python -m data_sources verify` lists what is wrong; restore the folder (for the shipped "
                 "snapshot, `git checkout -- data/`) or rebuild it with `python -m data_sources refresh`.")


def public_mode() -> bool:
    return bool(get_settings().public_mode)


# ---------------------------------------------------------------- URL state
#
# A link can carry anything: every query parameter is read here, bounded and checked against what
# the page can show. A value that cannot be used gives one plain warning and the page's default;
# it is never echoed back (it could be 5,000 characters of anything).

# The longest legitimate value is a list of eight indicator ids (about 540 characters at most).
MAX_PARAM_CHARS = 1000
# ASCII digits only: str.isdigit() accepts '²' and other digits that int() then refuses.
_YEAR = re.compile(r"[0-9]{4}", re.ASCII)
_SMALL_INT = re.compile(r"-?[0-9]{1,6}", re.ASCII)
PERIOD_YEARS = (1990, 2100)
MAX_PERIOD_CHARS = 20
PERIOD_HELP = "Period must be 'latest' or a year such as 2019; showing the latest."


def _refuse_param(name: str, what: str) -> None:
    """A plain warning naming the parameter but never repeating its value."""
    st.warning(f"The link's '{md(name)}' value could not be used; showing {md(what)}.")


def param(name: str, default: str | None = None) -> str | None:
    """The URL's value for `name` (None or `default` when absent or over MAX_PARAM_CHARS)."""
    value = st.query_params.get(name)
    if value in (None, ""):
        return default
    if len(value) > MAX_PARAM_CHARS:
        _refuse_param(name, "the default")
        return default
    return value


def choice_param(name: str, options: list[str], default: str | None = None) -> str | None:
    """The URL's value if it is one of `options`, else `default` (with a warning if one was given)."""
    value = param(name)
    if value is None:
        return default
    if value not in options:
        _refuse_param(name, "the default")
        return default
    return value


def list_param(name: str, options: list[str], limit: int) -> list[str]:
    """A comma-separated list, keeping only known values (at most `limit`); warns when any was dropped."""
    raw = param(name)
    if raw is None:
        return []
    items = [p for p in raw.split(",") if p]
    kept = [p for p in dict.fromkeys(items) if p in options][:limit]
    if len(kept) < len(items):
        _refuse_param(name, "only the entries that could be used")
    return kept


def int_param(name: str, default: int, lo: int, hi: int) -> int:
    """A whole number from the URL within [lo, hi], else `default` with a warning."""
    raw = param(name)
    if raw is None:
        return default
    if not _SMALL_INT.fullmatch(raw) or not lo <= int(raw) <= hi:
        _refuse_param(name, f"the default ({default})")
        return default
    return int(raw)


def parse_period(text: str | None) -> str | None:
    """'latest' or a four-digit year in PERIOD_YEARS, as text; None for anything else."""
    text = (text or "").strip()
    if text in ("", "latest"):
        return "latest"
    if _YEAR.fullmatch(text) and PERIOD_YEARS[0] <= int(text) <= PERIOD_YEARS[1]:
        return text
    return None


def set_params(**values: Any) -> None:
    """Write the view into the URL so a link reproduces it."""
    for key, value in values.items():
        if value is None or value == "":
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != str(value):
            st.query_params[key] = str(value)


def remembered(name: str, default: str | None = None, options: list[str] | None = None) -> str | None:
    """The URL's value, else this session's last choice: following a sidebar link drops the query
    string, and the chosen place, level and benchmark should carry over to the next page."""
    value = param(name) if options is None else choice_param(name, options)
    if value is not None:
        return value
    kept = st.session_state.get(f"_keep_{name}")
    return kept if kept is not None and (options is None or kept in options) else default


@dataclass(frozen=True)
class Selection:
    place: str | None
    level: str
    period: str
    benchmark: str


@st.cache_data(show_spinner=False, max_entries=2)  # one per snapshot identity in memory
def place_options(created_at: str) -> pd.DataFrame:
    c = ctx()
    frames = [query.current_areas(c, lv).assign(level=lv) for lv in ("ltla", "utla", "combined_authority", "region",
                                                                     "country")]
    areas = pd.concat(frames, ignore_index=True).drop_duplicates("areacd")
    areas["label"] = areas["areanm"].astype(str) + " (" + areas["areacd"].astype(str) + ")"
    return areas[["areacd", "areanm", "level", "label"]].sort_values("areanm").reset_index(drop=True)


@st.cache_data(show_spinner="Building the profile…", max_entries=64)
def place_profile(created_at: str, areacd: str, level: str, benchmark: str) -> pd.DataFrame:
    """One place's profile (indicators.profile), shared by every visitor and by the home page's
    card and the profile page: a place looked up on the home page opens its profile without
    computing it again."""
    from indicators import profile
    return profile.profile(ctx(), areacd, level, benchmark)


@st.cache_data(show_spinner=False, max_entries=512)
def search_places(created_at: str, text: str) -> place_search.SearchResult:
    """A postcode, outcode, name or code → current places (see indicators.place_search), shared by
    every visitor: the postcode directory is read once per first letter, then each answer is cached."""
    return place_search.search(ctx(), text)


def choose_place(text: str, key: str) -> place_search.Match | None:
    """The place a search box points at (with nothing typed, the place in the link or last chosen),
    shared by every page with a place search so each reads a search the same way. A name that
    matches several places, or an outcode whose postcodes lie in several council areas, offers
    each as a button (keys `{key}_{code}`); an outcode starts on the area with most of its postcodes."""
    if not text.strip():
        code = remembered("place")
        if not code:
            return None
        found = search_places(created_at(), code)
        for notice in found.notices:
            st.info(md(notice))
        return found.single
    found = search_places(created_at(), text)
    if found.message:
        st.warning(md(found.message))
        return None
    for notice in found.notices:
        st.info(md(notice))
    if found.single:
        return found.single
    picked = param("place")
    codes = [m.areacd for m in found.matches]
    if picked not in codes:  # an outcode opens its main district; an ambiguous name waits for a choice
        picked = codes[0] if found.kind == "outcode" else None
    if found.kind == "outcode":
        st.markdown(f"Postcodes starting **{md(' '.join(text.upper().split()))}** lie in more than one council "
                    "area; showing the one with most of them. Choose another:")
    else:
        st.markdown(f"**{len(found.matches)} places match '{md(text.strip())}'.** Choose one:")
    for m in found.matches:
        label = f"{m.areanm} ({place_search.LEVEL_WORDS.get(m.level, m.level)}" + (f", {m.note}" if m.note else "") + ")"
        st.button(label, key=f"{key}_{m.areacd}", on_click=set_params, kwargs={"place": m.areacd},
                  type="primary" if m.areacd == picked else "secondary")
    return found.matches[codes.index(picked)] if picked else None


def keep_place(areacd: str, level: str | None = None) -> None:
    """Carry a place chosen outside the sidebar (the home page's search) to the next page."""
    st.session_state["_keep_place"] = areacd
    if level in LEVEL_LABELS:
        st.session_state["_keep_level"] = level


def level_of(areacd: str) -> str:
    opts = place_options(created_at())
    hit = opts.loc[opts["areacd"] == areacd, "level"]
    return str(hit.iloc[0]) if len(hit) else "ltla"


def created_at() -> str:
    """The key of this run's data for shared caches: the snapshot's identity, plus the content of
    any local data merged in, so a view of one visitor's upload is never served to another."""
    c = ctx()
    return c.snapshot.manifest["created_at"] + (f"+local:{c.local_fingerprint}" if c.local_fingerprint else "")


SIDEBAR_CONTROLS = ("place", "level", "period", "benchmark")


def sidebar(show: tuple[str, ...] = SIDEBAR_CONTROLS) -> Selection:
    """The shared controls: place search (type to filter by name or code), level, period, benchmark.

    `show` names the controls that change this page; the others are not drawn (a control that does
    nothing confuses), but their last value is still carried in the URL and the session, so the next
    page that uses them finds the reader's choice."""
    c = ctx()
    opts = place_options(created_at())
    codes = opts["areacd"].tolist()
    labels = dict(zip(opts["areacd"], opts["label"]))
    level_keys, bench_keys = list(LEVEL_LABELS), list(BENCHMARKS)
    current = remembered("place", options=codes)
    level = remembered("level", "ltla", options=level_keys) or "ltla"
    period = remembered_period()
    benchmark = remembered("benchmark", DEFAULT_BENCHMARK, options=bench_keys) or DEFAULT_BENCHMARK
    place = current if current in codes else None
    with st.sidebar:
        st.header("Your selection")
        if "place" in show:
            # A link's place (a map click, a card's link) wins over the widget's state from the last page:
            # Streamlit keeps a keyed widget's value across pages and would otherwise ignore `index`.
            # Only a URL that changed since the last run counts as a link: after the reader picks
            # another place here, the URL still names the old one until this run writes it.
            url_place = param("place")
            if url_place in codes and url_place != st.session_state.get("_place_in_url"):
                st.session_state.pop("place_select", None)  # the widget starts again from `index`
            st.session_state["_place_in_url"] = url_place
            place = st.selectbox("Place", codes, index=codes.index(current) if current in codes else None,
                                 format_func=lambda c_: labels.get(c_, c_), placeholder="Search by name or code",
                                 key="place_select",
                                 help="Type part of a name or an ONS code, e.g. 'Leeds' or 'E08000035'")
        if "level" in show:
            level = st.selectbox("Level", level_keys, index=level_keys.index(level), format_func=LEVEL_LABELS.get,
                                 key="level_select")
        if "period" in show:
            period_typed = st.text_input("Period", period, max_chars=MAX_PERIOD_CHARS, key="period_input",
                                         help="'latest', or a year to see the latest period starting by then")
            typed = parse_period(period_typed)
            if typed is None:
                st.warning(PERIOD_HELP)
            period = typed or "latest"
        if "benchmark" in show:
            benchmark = st.selectbox("Compare with", bench_keys, index=bench_keys.index(benchmark),
                                     format_func=BENCHMARKS.get, key="benchmark_select")
    set_params(place=place, level=level, period=None if period == "latest" else period,
               benchmark=None if benchmark == DEFAULT_BENCHMARK else benchmark)
    for name, value in (("place", place), ("level", level), ("period", period), ("benchmark", benchmark)):
        st.session_state[f"_keep_{name}"] = value
    del c
    return Selection(place, level, period, benchmark)


def remembered_period() -> str:
    """The URL's period (a bad one warns and gives 'latest'), else this session's last, else 'latest'."""
    raw = param("period")
    if raw is not None:
        parsed = parse_period(raw)
        if parsed is None:
            st.warning(PERIOD_HELP)
        return parsed or "latest"
    kept = st.session_state.get("_keep_period")
    return kept if isinstance(kept, str) and parse_period(kept) == kept else "latest"


def remembered_indicator(options: list[str], default: str) -> str:
    """The indicator this session last looked at (map or comparison), so it follows the reader."""
    value = remembered("indicator", default, options=options)
    return value if value in options else default


def keep_indicator(indicator: str | None) -> None:
    if indicator:
        st.session_state["_keep_indicator"] = indicator


def period_arg(sel: Selection) -> query.Period:
    return "latest" if sel.period == "latest" else int(sel.period)


# ---------------------------------------------------------------- formatting

def fmt(value: Any, unit: str = "", decimals: int | None = None) -> str:
    """A number for people: thousands separators, sensible decimals, short units written with it
    ('£236,213', '26.6%', '£608 per head', '79.1 years'); '–' when missing, never 'None' or 'nan'."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return "–"
    v = float(value)
    unit = unit if isinstance(unit, str) else ""
    if decimals is None:
        decimals = 0 if abs(v) >= 1000 else (1 if abs(v) >= 10 else 2)
    text = f"{v:,.{decimals}f}"
    if unit == "%":
        return text + "%"
    if unit == "£":
        return "£" + text
    if unit == "£ million":
        return f"£{text}m"
    if unit.startswith("£ per "):
        return "£" + text + unit[1:]
    if unit in ("yrs", "years"):
        return text + " years"
    if unit in ("mins", "minutes"):
        return text + " min"
    return text


def esc(text: Any) -> str:
    return html.escape("" if text is None else str(text), quote=True)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


# What GitHub-flavoured Markdown turns into a link by itself: www. and scheme:// addresses and e-mail
# addresses. Streamlit does this after escaping (a backslash before each dot does not stop it).
_AUTOLINKABLE = re.compile(r"www\.|://|@|mailto:|xmpp:", re.IGNORECASE)
_SPACE = re.compile(r"(\s+)")
_TRAILING = re.compile(r"(.*?)([.,;:!?)\]'\"]*)", re.DOTALL)  # punctuation after an address stays prose


def _md_escape(text: str) -> str:
    # quote=False: an escaped apostrophe (&#x27;) would have its '#' escaped below and show literally
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def _code_span(token: str) -> str:
    """A Markdown code span showing `token` exactly: never a link, and copied as typed."""
    fence = "`" * (max((len(r) for r in re.findall(r"`+", token)), default=0) + 1)
    pad = " " if token.startswith("`") or token.endswith("`") else ""
    return f"{fence}{pad}{token}{pad}{fence}"


def md(text: Any) -> str:
    """Text safe inside Markdown (st.markdown, captions, alerts): HTML-escaped and with Markdown
    punctuation backslash-escaped, so a plan title like "[x](javascript:...)" stays text; and any
    word Markdown would autolink (www.evil.example, https://..., name@host) is shown as a code span,
    the one Markdown construct that is never linked, so it reads and copies exactly as written."""
    out = []
    for part in _SPACE.split("" if text is None else str(text)):
        word, tail = _TRAILING.fullmatch(part).groups()  # type: ignore[union-attr]
        if _AUTOLINKABLE.search(word):
            out.append(_code_span(word) + _md_escape(tail))
        else:
            out.append(part if part.isspace() else _md_escape(part))
    return "".join(out)


def colour_bins(values: np.ndarray, sign: int, k: int = 7) -> tuple[list[str], np.ndarray]:
    """Quantile class breaks and one colour per value; better is brighter whatever the polarity."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return [], np.full(values.shape, NO_DATA, dtype=object)
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, k + 1)))
    scale = VIRIDIS if sign != 0 else NEUTRAL_SCALE
    if sign < 0:
        scale = scale[::-1]
    n = max(len(edges) - 1, 1)
    palette = [scale[round(i * (len(scale) - 1) / max(n - 1, 1))] for i in range(n)]
    idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, n - 1)
    colours = np.where(np.isfinite(values), np.array(palette, dtype=object)[idx], NO_DATA)
    return [*(f"{a:g}" for a in edges)], colours


def hex_to_rgb(h: str, alpha: int = 230) -> list[int]:
    h = h.lstrip("#")
    return [int(h[i:i + 2], 16) for i in (0, 2, 4)] + [alpha]


# Streamlit's deck.gl component draws Carto's basemap whenever a deck has no map style; this
# sentinel is the one value it treats as "no basemap", so the public site calls no third party.
NO_BASEMAP = "__MAP_STYLE__"


class CompactDeck(pdk.Deck):
    """A deck whose JSON has no indentation: pydeck pretty-prints, which makes the district map's
    spec 2.8 MB instead of about 0.5 MB, and every byte is sent and parsed on each redraw."""

    def to_json(self) -> str:
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


class SerialisedDeck(pdk.Deck):
    """A deck whose JSON was built earlier (and cached): st.pydeck_chart asks only for to_json()
    and the tooltip, so a map shared by every visitor is serialised once, not on every page view
    (half a megabyte of JSON costs tens of milliseconds of server CPU each time)."""

    def __init__(self, spec: str, tooltip: dict | bool | None = None) -> None:
        super().__init__(layers=[], map_provider=None, map_style=NO_BASEMAP, tooltip=tooltip or False)
        self._spec = spec

    def to_json(self) -> str:
        return self._spec


def vega_spec(chart: Any) -> dict[str, Any]:
    """The Vega-Lite spec st.altair_chart sends for an Altair chart, its data as Arrow datasets.

    Why: Altair validates the whole chart against the Vega-Lite schema each time it is converted,
    tens of milliseconds per chart per page view. A page caches this spec per view in
    st.cache_data and draws it with st.vega_lite_chart, which sends exactly what st.altair_chart
    would have sent. Streamlit's own converter is used so the two cannot drift apart."""
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec
    return _convert_altair_to_vega_lite_spec(chart)


# The mouse wheel scrolls the page, not the map (a reader scrolling past a map should not get stuck
# zooming it); drag, double-click, pinch and the page's zoom buttons still move it. deck.gl's
# MapController options, passed through Streamlit's deck.gl component unchanged.
CONTROLLER = {"scrollZoom": False, "dragPan": True, "dragRotate": False, "doubleClickZoom": True, "touchZoom": True,
              "touchRotate": False, "keyboard": True}


def deck(layers: list[pdk.Layer], view: pdk.ViewState, tooltip: dict | None = None,
         controller: dict | bool = True) -> pdk.Deck:
    """A map with no basemap layer (the areas are the map) and a compact spec; `controller` takes
    deck.gl's controller options (CONTROLLER turns scroll-to-zoom off)."""
    return CompactDeck(layers=layers, initial_view_state=view, map_provider=None, map_style=NO_BASEMAP,
                       tooltip=tooltip or False, views=[pdk.View(type="MapView", controller=controller)])


# Quoted, so pydeck sends literal strings rather than accessor expressions.
FLAT_PATHS = {"_path_type": '"open"', "position_format": '"XY"'}


def area_layers(fc: dict, borders: list, outline: list | None = None, *, pickable: bool = True,
                border_rgba: tuple[int, ...] = (255, 255, 255, 170)) -> list[pdk.Layer]:
    """Filled areas, their borders as one path layer (see geo.borders for why) and, optionally,
    one place outlined in red on top. Paths are flat XY arrays declared open, so deck.gl uses
    them as they are (rings repeat their first point, so they still close)."""
    layers = [pdk.Layer("GeoJsonLayer", fc, id="areas", pickable=pickable, auto_highlight=pickable,
                        filled=True, stroked=False, get_fill_color="properties.fill"),
              pdk.Layer("PathLayer", [{"p": p} for p in borders], id="borders", get_path="p",
                        get_color=list(border_rgba), width_min_pixels=0.5, pickable=False, **FLAT_PATHS)]
    if outline:
        layers.append(pdk.Layer("PathLayer", [{"p": p} for p in outline], id="selected", get_path="p",
                                get_color=[213, 0, 0, 255], width_min_pixels=3, pickable=False, **FLAT_PATHS))
    return layers


def legend_html(edges: list[str], sign: int, unit: str, title: str) -> str:
    """A plain legend: one swatch per class with its range and units, plus 'no data'."""
    scale = VIRIDIS if sign != 0 else NEUTRAL_SCALE
    if sign < 0:
        scale = scale[::-1]
    n = max(len(edges) - 1, 1)
    items = []
    for i in range(n):
        colour = scale[round(i * (len(scale) - 1) / max(n - 1, 1))]
        lo, hi = edges[i], edges[i + 1] if i + 1 < len(edges) else edges[i]
        items.append(f'<li><span class="gg-sw" style="background:{colour}"></span>'
                     f"{esc(fmt(float(lo), unit))} to {esc(fmt(float(hi), unit))}</li>")
    items.append(f'<li><span class="gg-sw" style="background:{NO_DATA}"></span>No data</li>')
    note = {1: "Brighter colours are better (higher is better).", -1: "Brighter colours are better (lower is better).",
            0: "Neither higher nor lower is better: darker is higher."}[int(np.sign(sign))]
    return (f'<div class="gg-legend" role="group" aria-label="Map legend"><strong>{esc(title)}</strong>'
            f"<ul>{''.join(items)}</ul><small>{esc(note)} Classes hold roughly equal numbers of areas.</small></div>")


LEGEND_CSS = """
<style>
.gg-legend ul {list-style:none;padding:0;margin:.3rem 0;}
.gg-legend li {display:flex;align-items:center;gap:.5rem;font-size:.9rem;line-height:1.5;}
.gg-sw {display:inline-block;width:1.6rem;height:1rem;border:1px solid #555;}
</style>
"""


# ---------------------------------------------------------------- errors and footer

@contextmanager
def friendly_errors() -> Iterator[None]:
    """Show a plain message instead of a traceback; keep the detail in the log."""
    try:
        yield
    except (IndicatorError, DataSourceError) as exc:
        log.warning("refused: %s", exc)
        st.error(f"Sorry, that could not be shown: {md(exc)}")
    except Exception:  # noqa: BLE001 - the edge of the app: never show a traceback
        log.exception("page failed")
        st.error("Sorry, something went wrong drawing this page. The problem has been logged; "
                 "try another selection or reload the page.")


def footer() -> None:
    """Attribution on every page, even when the snapshot itself could not be loaded."""
    from data_sources.refresh import ATTRIBUTION
    st.divider()
    try:
        m = ctx().snapshot.manifest
        built = f"Data snapshot built {m['created_at'][:10]}. "
        lines = m.get("attribution") or ATTRIBUTION
    except (IndicatorError, DataSourceError, OSError):
        built, lines = "", ATTRIBUTION
    st.caption(md(built + " ".join(lines)))


def indicator_options(c: query.Context, scored_only: bool = False) -> list[str]:
    cat = c.cat.sort_values(["pillar", "theme", "label"])
    if scored_only:  # local data is offered too: a plan may track it whether or not it is scored
        cat = cat.loc[cat["scored"] | cat["local"].astype(bool)]
    return cat["id"].tolist()


def indicator_label(c: query.Context, ind: str) -> str:
    return views.indicator_labels(c)[ind]


def local_data_note(c: query.Context, indicators: str | list[str]) -> None:
    """A caption naming the source of each chosen indicator that is local data (nothing otherwise)."""
    ids = [indicators] if isinstance(indicators, str) else list(indicators)
    local_ids = set(c.cat.index[c.cat["local"].astype(bool).to_numpy()])  # one lookup: a profile asks about ~100
    for ind in (i for i in ids if i in local_ids):
        row = c.cat.loc[ind]
        st.caption(":material/upload_file: **Local data**: " + md(f"{row['label']} comes from {row['local_source']}, "
                   "uploaded here, not from the ONS snapshot; it is scored only if its uploader chose so."))


def scoring_pillar_label(pillar: str) -> str:
    from indicators.catalogue import PILLAR_LABELS
    return PILLAR_LABELS.get(pillar, pillar)


def benchmark_code(c: query.Context, sel: Selection, place: str | None, per_place: bool = False) -> str | None:
    """The comparator's code. Its own nation is the place's nation (England without a place).
    Statistical neighbours compare one place (per_place pages only); elsewhere they give None and
    the page says it compares with England."""
    if sel.benchmark in ("E92000001", "K02000001"):
        return sel.benchmark
    if sel.benchmark == DEFAULT_BENCHMARK:
        from indicators.profile import default_benchmark
        return default_benchmark(place) if place else query.ENGLAND
    if sel.benchmark == "region" and place:
        return query.parent_region(c, place)
    if sel.benchmark == "neighbours" and place and per_place:
        from indicators.profile import NEIGHBOURS
        return NEIGHBOURS
    return None


def note_benchmark_fallback(sel: Selection, place: str | None) -> None:
    """Say so when the chosen comparator cannot apply here, rather than silently using England."""
    if sel.benchmark == "neighbours":
        st.caption("Statistical neighbours are a comparison for one place: here every area is compared with "
                   "England. A place's profile compares it with its neighbours.")
    elif sel.benchmark == "region" and not place:
        st.caption("Choose a place to compare with its region; until then every area is compared with England.")
    elif sel.benchmark == DEFAULT_BENCHMARK and not place:
        st.caption("Every area is compared with England; choose a place to compare with its own nation.")


def example_choice(names: list[str], param: str, label: str, key: str) -> str:
    """One of the shipped example files, chosen in a box and kept in the link (`param`)."""
    pick = choice_param(param, names)
    choice = st.selectbox(label, names, index=names.index(pick) if pick in names else 0, key=key)
    set_params(**{param: choice})
    return choice


def yaml_upload(label: str, key: str, schema: str, limit: int, kind: str) -> tuple[bytes, str] | None | bool:
    """An uploaded YAML file's bytes and name; None when nothing is uploaded; False when the file is
    over `limit` bytes (the page has said so, naming the size and the limit, and should stop)."""
    up = st.file_uploader(label, type=["yaml", "yml"], key=key)
    st.caption(f"The format is documented in {schema}; start from an example's download.")
    if up is None:
        return None
    if up.size > limit:
        st.error(f"That file is {up.size:,} bytes; {kind} are limited to {limit:,} bytes.")
        return False
    return up.getvalue(), up.name


def download_csv(frame: pd.DataFrame | bytes, name: str, label: str = "Download this table (CSV)", *,
                 on_click: bool = False) -> None:
    """Every CSV download: text cells that a spreadsheet would run as a formula are neutralised.
    `frame` may be the bytes csv_bytes made earlier (a page that caches its table caches these too).
    `on_click`: write the file only when the button is pressed (few readers download a page's table,
    and the browser would otherwise fetch the file with the page)."""
    if on_click and isinstance(frame, pd.DataFrame):
        data = lambda: csv_bytes(frame)  # noqa: E731 - Streamlit calls it on the click
    else:
        data = frame if isinstance(frame, bytes) else csv_bytes(frame)
    st.download_button(label, data, file_name=name, mime="text/csv", key=f"dl-{name}")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as a download_csv file (UTF-8, formula-like cells neutralised)."""
    return csv_export.to_csv(frame).encode("utf-8")


__all__ = ["scoring"]
