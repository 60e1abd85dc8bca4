"""Map explorer: any indicator, any level, any period, with a legend, a ranked table with
rank intervals and the distribution beside it."""
from __future__ import annotations

from urllib.parse import urlencode

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from indicators import geo, views
from app_pages import common as ui
from app_pages import html_table, svg_histogram, svg_map

DEFAULT_INDICATOR = "children-in-relative-poverty-before-housing-costs"
SCALES = {"value": "Value", "verdict": "Compared with the benchmark"}
VERDICT_WORDS = {"better": "Better than {b}", "similar": "Similar to {b}", "worse": "Worse than {b}",
                 "higher": "Higher than {b}", "lower": "Lower than {b}",
                 "not compared": "Not compared (no confidence interval or no benchmark figure)"}
ZOOM = {"start": 4.6, "min": 3.5, "max": 11.0, "step": 1.0}
VIEWS = {"map": "Map", "interactive": "Pan and zoom (WebGL)"}
SVG_MAX_ZOOM = 16.0  # the drawing's rounding shows beyond this; the WebGL map zooms further


def main() -> None:
    sel = ui.sidebar()
    st.title("Map explorer")
    st.caption("Pick an indicator to map it for every area. Click an area to open its profile; a place chosen "
               "in the sidebar is outlined in red.")
    _explorer(sel)


# A fragment: choosing another indicator reruns only this part (not the sidebar or the page shell),
# so the switch costs the new map's figures and drawing, nothing else. Sidebar changes still rerun
# the whole page, which calls this again with the new selection.
@st.fragment
def _explorer(sel) -> None:
    # a fragment rerun happens outside main()'s error boundary and outside app.py's pinned context,
    # so both are set up again here (the context with this visitor's local data)
    with ui.friendly_errors(), ui.fragment_context():
        _explore(sel)


def _explore(sel) -> None:
    c = ui.ctx()
    options = ui.indicator_options(c)
    current = ui.remembered_indicator(options, DEFAULT_INDICATOR)
    indicator = st.selectbox("Indicator", options, index=options.index(current) if current in options else 0,
                             format_func=lambda i: ui.indicator_label(c, i), key="indicator_select")
    scale_now = ui.choice_param("colour", list(SCALES), "value")
    scale = st.radio("Colour areas by", list(SCALES), index=list(SCALES).index(scale_now), format_func=SCALES.get,
                     horizontal=True, key="map_scale",
                     help="The value itself, or whether each area is better, similar or worse than the benchmark "
                          "chosen in the sidebar (its 95% confidence interval excludes the benchmark's value).")
    ui.set_params(indicator=indicator, colour=None if scale == "value" else scale)
    ui.keep_indicator(indicator)
    ui.local_data_note(c, indicator)
    bench_code = ui.benchmark_code(c, sel, sel.place) or "E92000001"
    ui.note_benchmark_fallback(sel, sel.place)
    view = (ui.created_at(), indicator, sel.level, sel.period, bench_code)
    table, info = _map_view(*view)
    meta = c.snapshot.catalogue.set_index("indicator_id").loc[indicator]
    if info["period_code"] is None:
        st.info(f"{ui.md(info['label'])} is not published for {ui.LEVEL_LABELS[sel.level].lower()}"
                + ("" if sel.period == "latest" else f" for periods starting by {sel.period}") + ". "
                "Try another level or period.")
        return
    st.markdown(f"**{ui.md(info['label'])}**, {ui.md(info['period_label'])} · "
                f"{ui.md(ui.LEVEL_LABELS[sel.level])} · unit: {ui.md(info['unit'])} · "
                f"source: {ui.md(views.sources_text(meta['source_org'], meta['source_date_text']))}")
    _benchmark_note(info)
    left, right = st.columns([3, 2])
    with left:
        _map(c, sel, table, info, scale)
    with right:
        _distribution(table, info, sel.place, view)
    _ranked_table(indicator, info, sel, view)


@st.cache_data(show_spinner=False, max_entries=256)
def _map_view(created_at: str, indicator: str, level: str, period: str, benchmark: str):
    """Shared by every visitor: the figures behind one map (values, CIs, significance, rank ranges)."""
    return views.map_view(ui.ctx(), indicator, level, "latest" if period == "latest" else int(period), benchmark)


@st.cache_data(show_spinner=False, max_entries=256)
def _features(created_at: str, indicator: str, level: str, period: str, benchmark: str, scale: str = "value"
              ) -> tuple[dict, list[str]]:
    """The map's GeoJSON with colours and tooltip text, built once per view for all visitors."""
    c = ui.ctx()
    table, info = _map_view(created_at, indicator, level, period, benchmark)
    gdf = geo.boundaries(c, level)
    edges, colours = _colours(table, info, scale)
    props = _hover_texts(table, info).assign(fill=[ui.hex_to_rgb(h) for h in colours])
    return geo.feature_collection(gdf, props), edges


def _colours(table, info, scale: str) -> tuple[list[str], np.ndarray]:
    """Class edges and one colour per row of `table`: by value, or by the comparison's verdict."""
    values = table["value"].to_numpy(dtype=float)
    edges, colours = ui.colour_bins(values, info["sign"])
    if scale == "verdict":
        colours = np.where(np.isfinite(values), table["significance"].map(ui.SIGNIFICANCE_COLOURS)
                           .fillna(ui.SIGNIFICANCE_COLOURS["not compared"]).to_numpy(object), ui.NO_DATA)
    return edges, colours


def _hover_texts(table, info):
    """What hovering an area says, as plain text (both maps escape it where they draw it)."""
    return table.assign(
        name=table["areanm"].astype(str),
        value_text=[ui.fmt(v, info["unit"]) for v in table["value"]],
        ci_text=[("95% CI " + ui.fmt(lo, info["unit"]) + " to " + ui.fmt(hi, info["unit"]))
                 if np.isfinite(lo) else "no confidence interval published" for lo, hi in zip(table["lci"], table["uci"])],
        sig_text=table["significance"].astype(str).tolist(),
    )[["areacd", "name", "value_text", "ci_text", "sig_text"]]


@st.cache_data(show_spinner=False, max_entries=256)
def _svg(created_at: str, indicator: str, level: str, period: str, benchmark: str, scale: str, links: str,
         chosen: str | None, zoom: float, alt: str) -> tuple[str, list[str]]:
    """The SVG map of one view, shared by every visitor who asks for the same view.
    `links` is the query string each area's profile link carries besides the place."""
    c = ui.ctx()
    table, info = _map_view(created_at, indicator, level, period, benchmark)
    edges, colours = _colours(table, info, scale)
    texts = _hover_texts(table, info).assign(fill=colours).set_index("areacd")
    shape = svg_map.outlines(c, level)
    texts = texts.reindex(list(shape.codes))
    bench = info["benchmark_name"] or "England"
    labels = [f"{n}: {v}, {ci}; compared with {bench}: {s}" if isinstance(n, str) else "No data"
              for n, v, ci, s in zip(texts["name"], texts["value_text"], texts["ci_text"], texts["sig_text"])]
    fills = texts["fill"].fillna(ui.NO_DATA).tolist()
    hrefs = [f"/profile?place={code}{links}" for code in shape.codes]
    return svg_map.svg(shape, fills, labels, hrefs, alt, chosen=chosen, zoom=zoom), edges


def _benchmark_note(info) -> None:
    """Say which comparator the map really uses when the chosen one publishes no figure."""
    asked = ui.md(info["benchmark_asked_name"] or "England")
    if info["benchmark_value"] is None:
        st.info(f"{asked} publishes no figure for {ui.md(info['label'])} in {ui.md(info['period_label'])}, "
                "and nor does any fallback comparator: areas are shown but not compared.")
    elif info["benchmark"] != info["benchmark_asked"]:
        st.info(f"{asked} publishes no figure for {ui.md(info['label'])} in {ui.md(info['period_label'])}: "
                f"every area is compared with {ui.md(info['benchmark_name'])} instead.")


def _map(c, sel, table, info, scale: str = "value") -> None:
    shows = "each area's value" if scale == "value" else \
        f"whether each area is better, similar or worse than {info['benchmark_name'] or 'England'}"
    alt_text = (f"Map of {info['label']} ({info['unit']}) for {ui.LEVEL_LABELS[sel.level].lower()}, "
                f"{info['period_label']}, coloured by {shows}; the ranked table below lists every area's value.")
    view = ui.choice_param("view", list(VIEWS), "map")
    view = st.radio("Map", list(VIEWS), index=list(VIEWS).index(view), format_func=VIEWS.get, horizontal=True,
                    key="map_view", label_visibility="collapsed",
                    help="The map opens as a drawing in the page: quick, and every area is a link to its profile "
                         "that the keyboard reaches. The WebGL map pans and zooms smoothly but needs more to load.")
    ui.set_params(view=None if view == "map" else view)
    zoom = _zoom_buttons()
    keep = {k: v for k, v in st.query_params.to_dict().items() if k in ("level", "period", "benchmark")}
    if view == "map":
        links = "&" + urlencode(sorted(keep.items())) if keep else ""
        svg_zoom = float(np.clip(2 ** (zoom - ZOOM["start"]), 1, SVG_MAX_ZOOM))
        drawing, edges = _svg(ui.created_at(), info["indicator"], sel.level, sel.period, info["benchmark_asked"],
                              scale, links, sel.place, svg_zoom, alt_text)
        st.markdown(f'<div class="gg-mapbox">{drawing}</div>', unsafe_allow_html=True)
        st.caption("Hover over an area for its value; click it (or tab to it and press Enter) to open its profile.")
    else:
        edges = _deck_map(c, sel, info, scale, zoom, alt_text, keep)
    if scale == "verdict":
        legend = _verdict_legend(table, info)
        if not table["significance"].isin(["better", "similar", "worse", "higher", "lower"]).any():
            st.info("No area can be compared with the benchmark here (no confidence intervals or no benchmark "
                    "figure), so every area is grey: colour by value to see the pattern.")
    else:
        legend = ui.legend_html(edges, info["sign"], info["unit"],
                                f"Colour shows the value: {info['label']} ({info['unit']})")
    st.markdown(ui.LEGEND_CSS + legend, unsafe_allow_html=True)


def _deck_map(c, sel, info, scale: str, zoom: float, alt_text: str, keep: dict) -> list[str]:
    """The WebGL map: smooth pan and zoom; a click opens the area's profile in this session."""
    fc, edges = _features(ui.created_at(), info["indicator"], sel.level, sel.period, info["benchmark_asked"], scale)
    gdf = geo.boundaries(c, sel.level)
    chosen = gdf.loc[gdf["areacd"] == sel.place].geometry.values
    layers = ui.area_layers(fc, geo.borders(c, sel.level), geo.outline_paths(chosen) if len(chosen) else None)
    lat, lon = 54.6, -3.2
    if len(chosen) and zoom > ZOOM["start"]:  # zooming in goes towards the chosen place
        centre = chosen[0].centroid
        lat, lon = float(centre.y), float(centre.x)
    view = pdk.ViewState(latitude=lat, longitude=lon, zoom=zoom, min_zoom=ZOOM["min"], max_zoom=ZOOM["max"])
    tooltip = {"html": "<b>{name}</b><br/>{value_text}<br/>{ci_text}<br/>Compared with "
                       + ui.esc(info["benchmark_name"] or "England") + ": {sig_text}",
               "style": {"backgroundColor": "#222", "color": "white", "fontSize": "13px"}}
    event = st.pydeck_chart(ui.deck(layers, view, tooltip, controller=ui.CONTROLLER), on_select="rerun",
                            selection_mode="single-object", key="map", height=560, alt=alt_text)
    clicked = _clicked_area(event)
    if clicked and clicked != ui.param("place"):
        st.switch_page("app_pages/place_profile.py", query_params={**keep, "place": clicked})
    return edges


def _zoom_buttons() -> float:
    """Zoom in / out / reset as buttons: the mouse wheel scrolls the page, so the map needs them."""
    zoom = float(st.session_state.get("_map_zoom", ZOOM["start"]))
    row = st.container(horizontal=True, gap="small")
    if row.button("Zoom in", icon=":material/zoom_in:", key="zoom_in", disabled=zoom >= ZOOM["max"]):
        zoom = min(zoom + ZOOM["step"], ZOOM["max"])
    if row.button("Zoom out", icon=":material/zoom_out:", key="zoom_out", disabled=zoom <= ZOOM["min"]):
        zoom = max(zoom - ZOOM["step"], ZOOM["min"])
    if row.button("Reset view", icon=":material/fit_screen:", key="zoom_reset"):
        zoom = ZOOM["start"]
    st.session_state["_map_zoom"] = zoom
    return zoom


def _verdict_legend(table, info) -> str:
    """Swatches in words, in Fingertips' order, with the count of areas in each."""
    bench = info["benchmark_name"] or "England"
    has_value = table["value"].notna()
    counts = table.loc[has_value, "significance"].value_counts()
    keys = ["higher", "similar", "lower"] if info["sign"] == 0 else ["better", "similar", "worse"]
    items = []
    for key in [*keys, "not compared"]:
        items.append(f'<li><span class="gg-sw" style="background:{ui.SIGNIFICANCE_COLOURS[key]}"></span>'
                     f"{ui.esc(VERDICT_WORDS[key].format(b=bench))}: {int(counts.get(key, 0))} areas</li>")
    items.append(f'<li><span class="gg-sw" style="background:{ui.NO_DATA}"></span>No data: '
                 f"{int((~has_value).sum())} areas</li>")
    return (f'<div class="gg-legend" role="group" aria-label="Map legend"><strong>Colour shows the comparison with '
            f"{ui.esc(bench)}</strong> ({ui.esc(info['label'])})<ul>{''.join(items)}</ul><small>Better or worse "
            f"only where the area's 95% confidence interval excludes {ui.esc(bench)}'s value; colours chosen to be "
            f"told apart with colour-blindness, and always named here.</small></div>")


def _clicked_area(event) -> str | None:
    try:
        objects = event.selection.get("objects", {}) if event else {}
    except AttributeError:
        return None
    for items in objects.values():
        for obj in items or []:
            props = obj.get("properties", obj) if isinstance(obj, dict) else {}
            if props.get("areacd"):
                return str(props["areacd"])
    return None


def _distribution(table, info, place, view: tuple[str, str, str, str, str]) -> None:
    """The spread of values; `view` is _map_view's key (created_at, indicator, level, period, benchmark)."""
    if table["value"].notna().sum() == 0:
        return
    st.markdown("**How areas are spread**")
    chart, has_place = _histogram(*view, place)
    st.markdown(f'<div class="gg-histbox">{chart}</div>', unsafe_allow_html=True)
    note = f"Dashed line: {info['benchmark_name']} ({ui.fmt(info['benchmark_value'], info['unit'])})." \
        if info["benchmark_value"] is not None else "No benchmark value for this period."
    st.caption(ui.md(note) + (" Red line: the selected place." if has_place else "")
               + " Hover over a bar for its range and count.")
    _verdict_counts(table, info)


@st.cache_data(show_spinner=False, max_entries=256)
def _histogram(created_at: str, indicator: str, level: str, period: str, benchmark: str,
               place: str | None) -> tuple[str, bool]:
    """The histogram's SVG, the same for every visitor of this view and place."""
    table, info = _map_view(created_at, indicator, level, period, benchmark)
    data = table.loc[table["value"].notna(), ["areacd", "value"]]
    chosen = data.loc[data["areacd"] == place, "value"]
    unit = info["unit"]
    chart = svg_histogram.histogram(
        data["value"].to_numpy(dtype=float), f"How areas are spread: {info['label']} ({unit})",
        f"{info['label']} ({unit})", ui.fmt,  # numbers only: the axis title carries the unit
        benchmark=info["benchmark_value"], chosen=float(chosen.iloc[0]) if len(chosen) else None)
    return chart, bool(len(chosen))


def _verdict_counts(table, info) -> None:
    bench_name = ui.md(info["benchmark_name"] or "England")
    counts = table.loc[table["value"].notna(), "significance"].value_counts()
    order = ["better", "similar", "worse", "higher", "lower", "not compared"]
    counts = counts.reindex([s for s in order if s in counts.index] + [s for s in counts.index if s not in order])
    if counts.drop("not compared", errors="ignore").empty:
        reason = ("no confidence intervals are published for this indicator and period"
                  if info["benchmark_value"] is not None else f"{bench_name} has no figure for this period")
        st.markdown(f"**Compared with {bench_name}:** no area can be compared, as {reason}.")
        return
    rows = "".join(f"\n| {ui.md(str(k))} | {int(n)} |" for k, n in counts.items())
    st.markdown(f"**Compared with {bench_name}** (95% confidence intervals)\n\n"
                f"| Compared with {bench_name} | Areas |\n|---|---:|{rows}")


def _decimals(values) -> int:
    """Decimals by size, as ui.fmt does: thousands with separators and no decimals ('236,213', not
    '236213.00'), tens with one decimal, small numbers with two — one choice for the whole column."""
    finite = np.abs(values[np.isfinite(values)])
    typical = float(np.median(finite)) if finite.size else 0.0
    return 0 if typical >= 1000 else (1 if typical >= 10 else 2)


def _ranked_table(indicator: str, info, sel, view: tuple[str, str, str, str, str]) -> None:
    """Every area ranked; `view` is _map_view's key (created_at, indicator, level, period, benchmark)."""
    st.header("Ranked, with uncertainty")
    keep = tuple(sorted((k, v) for k, v in st.query_params.to_dict().items() if k in ("level", "period", "benchmark")))
    has_ci, body, shown = _ranked(*view, keep)
    if has_ci:
        st.caption("Rank 1 is best. The rank range is the 5th–95th percentile of each area's rank when values are "
                   "redrawn within their confidence intervals: areas whose ranges overlap are not clearly different.")
    else:
        st.caption("Rank 1 is best. The publisher gives no confidence intervals for this indicator, so the ranks "
                   "cannot show their uncertainty and no area is compared with the benchmark: treat small "
                   "differences in rank with caution.")
    st.markdown(body, unsafe_allow_html=True)
    ui.download_csv(shown, f"{indicator}-{sel.level}-{info['period_code'] or 'latest'}.csv".replace("/", "_"),
                    on_click=True)


@st.cache_data(show_spinner=False, max_entries=256)
def _ranked(created_at: str, indicator: str, level: str, period: str, benchmark: str,
            keep: tuple[tuple[str, str], ...]) -> tuple[bool, str, pd.DataFrame]:
    """The ranked table of one view as HTML, with the frame its CSV is written from, shared by every
    visitor of the view (`keep`: the link parameters each area's profile link carries)."""
    table, info = _map_view(created_at, indicator, level, period, benchmark)
    decimals = _decimals(table["value"].to_numpy(dtype=float))
    has_ci = bool(table["lci"].notna().any())
    shown = table.assign(
        rank_range=[f"{int(a)}–{int(b)}" if np.isfinite(a) else "–" for a, b in zip(table["rank_lo"], table["rank_hi"])],
    )[["rank", "rank_range", "areanm", "areacd", "value", "lci", "uci", "significance", "percentile", "status"]]
    if not has_ci:
        # Without intervals every redraw gives the same ranks: a range would only repeat the rank.
        shown = shown.drop(columns=["rank_range", "lci", "uci", "significance"])
    number = lambda v: ui.fmt(v, decimals=decimals)  # noqa: E731
    columns = {"rank": ("Rank", lambda v: ui.fmt(v, decimals=0)), "rank_range": ("Rank range (90%)", None),
               "areanm": ("Area", None), "areacd": ("Code", None), "value": (f"Value ({info['unit']})", number),
               "lci": ("Lower 95% CI", number), "uci": ("Upper 95% CI", number),
               "significance": (f"vs {info['benchmark_name'] or 'England'}", None),
               "percentile": ("Percentile", lambda v: ui.fmt(v, decimals=0)), "status": ("Status", None)}
    columns = {k: v for k, v in columns.items() if k in shown.columns}
    links = "/profile?" + shown["areacd"].map(lambda code: urlencode({"place": code, **dict(keep)}))
    caption = f"{info['label']}, {info['period_label']}: every area ranked"
    return has_ci, html_table.CSS + html_table.table(shown, columns, caption, links=links, link_column="areanm"), shown


with ui.friendly_errors():
    main()
ui.footer()
