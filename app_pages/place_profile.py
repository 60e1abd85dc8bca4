"""Place profile: every indicator for one place, Fingertips style: value with its confidence interval,
the benchmark's value, the verdict, the recent trend and a spine on every labelled row, grouped by pillar
and theme; the definition and source one click away. Prints to A4 and downloads as one HTML file.
Also the table of every number and the place's statistical neighbours."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from indicators import geo, profile, profile_report, significance, views
from indicators.catalogue import PILLAR_LABELS
from app_pages import common as ui
from app_pages import profile_deprivation

TREND_WORDS = {"improving": "↑ improving", "worsening": "↓ worsening", "increasing": "↑ increasing",
               "decreasing": "↓ decreasing"}

# A4 print: only the profile itself (no sidebar, toolbar, tab strip, buttons or map), tables unscrolled.
PRINT_CSS = """<style>
@page{size:A4 landscape;margin:10mm}
@media print{
 [data-testid="stSidebar"],[data-testid="stHeader"],[data-testid="stToolbar"],[data-testid="stDecoration"],
 [data-testid="stStatusWidget"],[data-testid="stSidebarCollapsedControl"],[data-baseweb="tab-list"],[role="tablist"],
 [data-testid="stPageLink"],
 [data-testid="stDownloadButton"],[data-testid="stDeckGlJsonChart"],[data-testid="stElementToolbar"]{display:none !important}
 [data-testid="stMain"],[data-testid="stAppViewContainer"],[data-testid="stMainBlockContainer"]{overflow:visible !important;
  padding:0 !important;margin:0 !important;max-width:100% !important}
 .stApp{position:static !important}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
</style>"""


@st.cache_data(max_entries=4)
def _metadata(created_at: str) -> pd.DataFrame:
    c = ui.ctx()
    return profile_report.metadata(c.snapshot.catalogue, c.cat)


def main() -> None:
    sel = ui.sidebar(show=("place", "level", "benchmark"))  # no period: each row shows its latest figure
    c = ui.ctx()
    st.title("Place profile")
    if not sel.place:
        st.info("Choose a place in the sidebar (type a name or code), search on the Home page by postcode, or "
                "click an area on the map explorer.")
        st.page_link("app_pages/home.py", label="Find a place by postcode or name", icon=":material/search:")
        return
    facts = _facts(ui.created_at(), sel.place)
    level = sel.level if sel.level in facts["levels"] else ui.level_of(sel.place)
    bench = ui.benchmark_code(c, sel, sel.place, per_place=True) or profile.default_benchmark(sel.place)
    st.markdown(f"## {ui.md(facts['areanm'])} ({ui.md(facts['areacd'])})")
    st.caption(ui.md(" · ".join(f"{k}: {v}" for k, v in facts["parents"].items())))
    st.page_link("app_pages/home.py", label="Another place: search by postcode or name", icon=":material/search:")
    for notice in facts["notices"]:
        st.info("Boundary or code change: " + ui.md(notice))
    screen = _first_screen(ui.created_at(), sel.place, level, bench)
    if screen is None:
        st.warning(f"No data is published for {ui.md(facts['areanm'])} at this level. Try another level in the sidebar.")
        return
    place, tally, captions, shown = screen
    st.html(PRINT_CSS + tally)
    for caption in captions:
        st.caption(caption)
    ui.local_data_note(c, shown)
    _download(place, facts["areanm"])
    _sections(place, facts["areanm"])


# A fragment: choosing another tab reruns only the tabs, not the sidebar, heading and verdict row.
@st.fragment
def _sections(place: profile.PlaceContext, place_name: str) -> None:
    with ui.friendly_errors(), ui.fragment_context():  # a fragment rerun happens outside main()
        _tabs(place, place_name)


def _tabs(place: profile.PlaceContext, place_name: str) -> None:
    """The four views of the place. The tabs know which one is open (a tab switch reruns this
    fragment), so only the open view is built and sent: the profile rows are HTML, but the table
    needs the data grid (1.2 MB of JavaScript), the deprivation view Vega (0.8 MB) and the
    neighbour map deck.gl (3 MB), none of which a first visit should wait for."""
    areacd, level, bench, bench_name = place.areacd, place.level, place.benchmark, place.benchmark_name
    tab_profile, tab_table, tab_neighbours, tab_deprivation = st.tabs(
        ["Profile", "All indicators (table)", "Statistical neighbours", "Deprivation and rural–urban"],
        key="profile_tab", on_change="rerun")
    with tab_profile:
        _rows(areacd, level, bench, place_name, bench_name)
    with tab_table:
        if tab_table.open:
            _table(areacd, level, bench)
    with tab_neighbours:
        _neighbours(ui.ctx(), place, show_map=bool(tab_neighbours.open))
    with tab_deprivation:
        if tab_deprivation.open:
            profile_deprivation.render(areacd)


TALLY_CSS = """<style>
.gg-tally{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.5rem 1.5rem;margin:.5rem 0 .75rem}
.gg-tally div{margin:0}
.gg-tally dt{font-size:.875rem;line-height:1.3}
.gg-tally dd{margin:0;font-size:2.25rem;line-height:1.2}
.gg-tally dd.why{font-size:.8rem;line-height:1.3;color:#333}
</style>"""


def _tally_html(items: list[tuple[str, int, str]]) -> str:
    """The verdict counts as one HTML block (a description list: each count under its label, with what it
    counts written beside it). One element instead of four metric widgets, which the browser would fetch
    a script bundle for before the page could finish drawing."""
    rows = "".join(f"<div><dt>{ui.esc(label)}</dt><dd>{n:,}</dd>"
                   + (f'<dd class="why">{ui.esc(why)}</dd>' if why else "") + "</div>"
                   for label, n, why in items)
    return f'{TALLY_CSS}<dl class="gg-tally">{rows}</dl>'


@st.cache_data(show_spinner=False, max_entries=256)
def _facts(created_at: str, areacd: str) -> dict:
    """The place's name, parent areas, levels and boundary notices, looked up once per place."""
    return views.place_facts(ui.ctx(), areacd)


@st.cache_data(show_spinner="Building the profile…", max_entries=256)
def _first_screen(created_at: str, areacd: str, level: str, benchmark: str
                  ) -> tuple[profile.PlaceContext, str, list[str], list[str]] | None:
    """What the page shows above its tabs, the same for every visitor of this view, so built once:
    the place's context (names, benchmark, neighbours), the verdict counts as HTML, the captions that
    qualify them, and the indicators shown (for the local-data note). None when nothing is published
    for the place at this level."""
    prof = ui.place_profile(created_at, areacd, level, benchmark)
    if prof.empty:
        return None
    place = profile.place_context(ui.ctx(), areacd, level, benchmark)
    tally, captions = _headline(prof, place.benchmark_name)
    return place, tally, captions, prof["indicator_id"].tolist()


def _headline(prof: pd.DataFrame, bench_name: str) -> tuple[str, list[str]]:
    """The verdict counts (HTML) and the captions saying what was compared and against whom."""
    scored = prof.loc[prof["scored"]]
    counts = scored["significance_95"].value_counts()
    compared = int(len(scored) - counts.get(significance.NOT_COMPARED, 0))
    tally = _tally_html([
        (f"Significantly better than {bench_name}", int(counts.get("better", 0)),
         "At 95% confidence: the whole confidence interval is on the better side of the benchmark."),
        ("Similar", int(counts.get("similar", 0)), ""),
        (f"Significantly worse than {bench_name}", int(counts.get("worse", 0)),
         "At 95% confidence: the whole confidence interval is on the worse side of the benchmark."),
        ("Worse and worsening", int(scored["worse_and_worsening"].sum()),
         "Significantly worse than the benchmark and with a significantly worsening recent trend."),
    ])
    no_ci = int((scored["significance_95"].eq(significance.NOT_COMPARED) & scored["lci"].isna()).sum())
    no_bench = int((scored["lci"].notna() & scored["benchmark_value"].isna()).sum())
    reasons = [f"{no_ci} without a published confidence interval"] if no_ci else []
    reasons += [f"{no_bench} without a benchmark figure"] if no_bench else []
    untested = (f"; {' and '.join(reasons)} are not compared, and show their position among areas (quintile) "
                "instead.") if reasons else "."
    captions = [ui.md(significance.chance_note(compared)) + f" {len(scored)} scored indicators: {compared} "
                f"compared at 95% confidence" + untested]
    fallback = scored.loc[scored["benchmark_name"].notna() & (scored["benchmark_name"] != bench_name)]
    if len(fallback):
        names = ", ".join(sorted(set(fallback["benchmark_name"].astype(str))))
        captions.append(f"{ui.md(bench_name)} publishes no figure for {len(fallback)} of these indicators; they are "
                        f"compared with {ui.md(names)} instead, as each row says.")
    return tally, captions


@st.cache_data(max_entries=64)
def _profile_tables(created_at: str, areacd: str, level: str, benchmark: str, place_name: str,
                    bench_name: str) -> str:
    """The rows as HTML for the page, shared by every visitor of this view."""
    return profile_report.profile_tables(ui.place_profile(created_at, areacd, level, benchmark),
                                         _metadata(created_at), bench_name, place_name)


def _rows(areacd: str, level: str, benchmark: str, place_name: str, bench_name: str) -> None:
    """Every indicator as a labelled row beside its spine (indicators/profile_report.py builds the HTML,
    escaping every name)."""
    tables = _profile_tables(ui.created_at(), areacd, level, benchmark, place_name, bench_name)
    st.html(f"<style>{profile_report.CSS}</style>{tables}")
    st.caption("Click an indicator's name for its definition, caveats and source. To print this page, use your "
               "browser's Print command: the sidebar and buttons are left out. The downloaded file stands alone "
               "(no scripts, nothing fetched) and prints the same way.")


def _download(place: profile.PlaceContext, place_name: str) -> None:
    """The profile as one HTML file to download, offered above the tabs (it holds the whole profile,
    whichever view is open; and drawn there, the browser loads the button's code with the rest of the
    page's first screen instead of after the tabs). The file is written only when the button is
    pressed: few readers download it, and writing it for every new place cost as much as the rows."""
    areacd, level, benchmark, bench_name = place.areacd, place.level, place.benchmark, place.benchmark_name
    created_at, c = ui.created_at(), ui.ctx()
    tables = _profile_tables(created_at, areacd, level, benchmark, place_name, bench_name)

    def report() -> bytes:  # runs on the click, outside the page's run: everything it needs is captured here
        prof = profile.profile(c, areacd, level, benchmark)
        meta = profile_report.metadata(c.snapshot.catalogue, c.cat)
        return profile_report.to_html(prof, meta, place_name=place_name, areacd=areacd,
                                      level_name=profile_report.level_name(level), bench_name=bench_name,
                                      manifest=c.snapshot.manifest, generated=dt.date.today(),
                                      tables=tables).encode("utf-8")

    st.download_button("Download this profile (HTML, prints to A4)", report,
                       file_name=f"profile-{areacd}.html", mime="text/html", key="dl-profile-html")


def _table(areacd: str, level: str, benchmark: str) -> None:
    shown, csv = _table_frames(ui.created_at(), areacd, level, benchmark)
    st.dataframe(shown, hide_index=True, width="stretch", height=560, column_config={
        "pillar": "Pillar", "theme": "Theme", "label": "Indicator", "period_label": "Period",
        "value_text": "Value", "ci95": "95% confidence interval", "ci998": "99.8% limits",
        "limits_method": "99.8% limits by", "benchmark_name": "Benchmark", "bench_text": "Benchmark value",
        "significance_95": "vs benchmark (95%)", "significance_998": "vs benchmark (99.8%)",
        "position": "Position (quintile, 1 = best fifth)",
        "trend_shown": "Recent trend", "flag": "Flag",
        "spark_values": st.column_config.LineChartColumn("Last 10 periods"),
        "neighbour_text": "Neighbours' mean", "percentile_text": "Percentile", "unit": "Unit",
    })
    st.caption("Trends are shown as improving or worsening only when the 95% confidence interval of the recent "
               "slope excludes zero. The 99.8% limits are rebuilt from the published 95% interval by the "
               "interval's own method, named in '99.8% limits by': exact Wilson (proportions, from the counts the "
               "limits imply), Byar or Dobson (rates, from the implied count), log- or logit-scale, or normal "
               "approx where the publisher's interval is symmetric. A benchmark other than the one chosen is named "
               "on its row; '–' means no comparator publishes a figure, and the row is not compared. Position is "
               "the place's fifth among comparable areas, not a significance test.")
    ui.download_csv(csv, f"profile-{areacd}.csv")


@st.cache_data(max_entries=64)
def _table_frames(created_at: str, areacd: str, level: str, benchmark: str) -> tuple[pd.DataFrame, bytes]:
    """Every number of the profile as formatted text for the table, and as figures for the CSV file:
    the same for every visitor, so formatted once per (place, level, benchmark)."""
    prof = ui.place_profile(created_at, areacd, level, benchmark)
    t = prof.copy()
    unit = t["unit"].fillna("").astype(str)

    def text(col: str) -> list[str]:
        return [ui.fmt(v, u) for v, u in zip(t[col], unit)]

    def interval(lo: str, hi: str) -> list[str]:
        return ["–" if pd.isna(a) or pd.isna(b) else f"{ui.fmt(a, u)} to {ui.fmt(b, u)}"
                for a, b, u in zip(t[lo], t[hi], unit)]

    t["value_text"], t["bench_text"], t["neighbour_text"] = text("value"), text("benchmark_value"), text("neighbour_mean")
    t["ci95"], t["ci998"] = interval("lci", "uci"), interval("lci_998", "uci_998")
    t["trend_shown"] = [TREND_WORDS.get(v, v) for v in t["trend"].fillna("too few points")]
    t["flag"] = np.where(t["worse_and_worsening"], "⚠ worse and worsening", "")
    t["pillar"] = t["pillar"].map(PILLAR_LABELS).fillna(t["pillar"])
    t["theme"] = t["theme"].map(profile_report.theme_label)
    t["position"] = [f"{int(q)} ({profile.QUINTILE_LABELS[int(q)]})" if pd.notna(q) else "–" for q in t["quintile"]]
    t["percentile_text"] = ["–" if pd.isna(p) else f"{p:.0f}" for p in t["percentile"]]
    for col in ("benchmark_name", "limits_method", "period_label", "significance_95", "significance_998"):
        t[col] = t[col].where(t[col].notna(), "–").astype(str)
    shown = t[["pillar", "theme", "label", "period_label", "value_text", "ci95", "ci998", "limits_method",
               "benchmark_name", "bench_text", "significance_95", "significance_998", "position", "trend_shown", "flag",
               "spark_values", "neighbour_text", "percentile_text", "unit"]]
    numbers = t[["pillar", "theme", "label", "period_label", "value", "lci", "uci", "lci_998", "uci_998",
                 "limits_method", "benchmark_name", "benchmark_value", "significance_95", "significance_998",
                 "position", "trend_shown", "flag", "neighbour_mean", "percentile", "unit"]]
    return shown, ui.csv_bytes(numbers)


def _neighbours(c, place: profile.PlaceContext, show_map: bool = True) -> None:
    if not place.peers:
        st.info("The ONS publishes no statistical neighbours for this area.")
        return
    names = [f"{ui.md(c.names.get(p, p))} ({ui.md(p)})" for p in place.peers]
    left, right = st.columns([2, 3])
    with left:
        st.markdown(f"**ONS {place.peer_kind} statistical neighbours**, most similar first:")
        st.markdown("\n".join(f"{i + 1}. {n}" for i, n in enumerate(names)))
    if not show_map:
        return
    with right:
        spec = _neighbour_map(ui.created_at(), place.areacd, tuple(place.peers))
        st.pydeck_chart(ui.SerialisedDeck(spec, NEIGHBOUR_TOOLTIP), height=420, key="neighbour_map",
                        alt=f"Map of {place.areanm} and its statistical neighbours, listed beside the map.")
        st.caption("Red: the place. Blue: its statistical neighbours. Grey: other districts.")


NEIGHBOUR_TOOLTIP = {"text": "{name}"}  # a plain-text tooltip: names are shown as written


@st.cache_data(show_spinner=False, max_entries=32)
def _neighbour_map(created_at: str, areacd: str, peers: tuple[str, ...]) -> str:
    """The neighbour map's deck as JSON, built once per place for every visitor."""
    c = ui.ctx()
    gdf = geo.boundaries(c, "ltla")
    props = pd.DataFrame({"areacd": gdf["areacd"]})
    props["fill"] = [[213, 0, 0, 240] if a == areacd else [49, 104, 142, 220] if a in peers
                     else [220, 220, 220, 160] for a in props["areacd"]]
    props["name"] = gdf["areanm"].astype(str)
    layers = ui.area_layers(geo.feature_collection(gdf, props), geo.borders(c, "ltla"),
                            border_rgba=(255, 255, 255, 140))
    view = pdk.ViewState(latitude=54.4, longitude=-3.0, zoom=4.3)
    return ui.deck(layers, view, NEIGHBOUR_TOOLTIP).to_json()


with ui.friendly_errors():
    main()
ui.footer()
