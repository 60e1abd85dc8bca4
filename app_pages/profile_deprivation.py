"""The profile's deprivation section: how the place's neighbourhoods spread across England's
deprivation deciles, its official district summaries, its position among its neighbours and its
rural–urban class. It asks indicators.deprivation and draws; deprivation is context, not a score."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import common as ui
from indicators import deprivation

PEER_KIND_LABELS = {"global": "ONS statistical neighbours", "rural_urban": "Districts of the same rural–urban class"}
DECILE_COLOURS = ["#8c510a", "#bf812d", "#dfc27d", "#f6e8c3", "#f5f5f5", "#c7eae5", "#80cdc1", "#35978f",
                  "#01665e", "#003c30"]  # ColorBrewer BrBG: colour-blind safe, diverging from most deprived


@st.cache_data(show_spinner=False, max_entries=64)
def _for_place(created_at: str, areacd: str) -> deprivation.PlaceDeprivation | None:
    c = ui.ctx()
    tables = deprivation.tables(c.snapshot.path)
    if tables is None:
        return None
    return deprivation.for_place(tables, c.areas, c.neighbours, areacd)


def render(place: str) -> None:
    """Draw the deprivation section for `place` (an area code)."""
    st.markdown("### Deprivation inside the place")
    data = _for_place(ui.created_at(), place)
    if data is None:
        st.info("This snapshot holds no indices of deprivation for this area.")
        return
    _rural_urban(data)
    st.caption(deprivation.WHY_CONTEXT)
    if data.nation_note:
        st.info(ui.md(data.nation_note))
        for edition, rows in data.other_editions.items():
            st.markdown(f"**{ui.md(edition)}**: district summary")
            _official_table(rows)
        return
    _headline(data)
    tab_deciles, tab_spread, tab_neighbours, tab_official = st.tabs(
        ["Deciles by domain", "Spread of neighbourhoods", "Beside its neighbours", "Official summaries"])
    with tab_deciles:
        _deciles(data, place)
    with tab_spread:
        _spread(data, place)
    with tab_neighbours:
        _neighbours(data)
    with tab_official:
        _official(data)


def _rural_urban(data: deprivation.PlaceDeprivation) -> None:
    if data.rural_urban:
        r = data.rural_urban
        st.markdown(f"**Rural–urban class (2021):** {ui.md(r['label'])} ({ui.md(r['code'])}, {ui.md(r['broad'])})")
    elif len(data.districts) > 1:
        st.caption("The rural–urban class is published for districts; this place spans "
                   f"{len(data.districts)} districts.")


def _headline(data: deprivation.PlaceDeprivation) -> None:
    imd = data.most_deprived.set_index("domain").loc["imd"]
    a, b, c = st.columns(3)
    a.metric("Neighbourhoods (LSOAs)", f"{data.lsoas:,}")
    b.metric("In England's most deprived 10%", ui.fmt(100 * imd["share_most_deprived_10"], "%", 1))
    c.metric("In England's most deprived 20%", ui.fmt(100 * imd["share_most_deprived_20"], "%", 1))
    st.caption("Shares of the place's LSOAs (neighbourhoods of about 1,000–3,000 residents), by the English "
               "Indices of Deprivation 2025; an even spread would put 10% in each tenth.")


def _deciles(data: deprivation.PlaceDeprivation, place: str) -> None:
    figures = _decile_figures(ui.created_at(), place)
    st.vega_lite_chart(spec=figures["chart"], width="stretch")
    st.dataframe(figures["table"], hide_index=True, width="stretch", column_config={
        "label": "Domain", "lsoas": "LSOAs",
        "share_most_deprived_10": st.column_config.NumberColumn("Most deprived 10% (%)", format="%.1f"),
        "share_most_deprived_20": st.column_config.NumberColumn("Most deprived 20% (%)", format="%.1f")})
    ui.download_csv(figures["csv"], f"deprivation-deciles-{data.areacd}.csv")


# The charts, tables and file of one place are the same for every visitor: built once per place
# (an Altair chart costs tens of milliseconds to validate and convert on each page view).
@st.cache_data(show_spinner=False, max_entries=64)
def _decile_figures(created_at: str, areacd: str) -> dict:
    data = _for_place(created_at, areacd)
    d = data.deciles.assign(percent=100 * data.deciles["share"],
                            decile_label=data.deciles["decile"].map(lambda k: f"{k}" + (" (most deprived)" if k == 1
                                                                                        else " (least)" if k == 10
                                                                                        else "")))
    chart = alt.Chart(d).mark_bar().encode(
        y=alt.Y("label:N", title=None, sort=list(deprivation.DOMAINS.values())),
        x=alt.X("percent:Q", title="Share of the place's LSOAs (%)", stack="zero", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("decile:O", title="National decile (1 = most deprived)",
                        scale=alt.Scale(domain=list(range(1, 11)), range=DECILE_COLOURS),
                        legend=alt.Legend(orient="bottom", columns=10)),
        order=alt.Order("decile:O"),
        tooltip=[alt.Tooltip("label:N", title="Domain"), alt.Tooltip("decile_label:N", title="Decile"),
                 alt.Tooltip("lsoas:Q", title="LSOAs"), alt.Tooltip("percent:Q", title="%", format=".1f")],
    ).properties(height=300)
    table = data.most_deprived.assign(
        share_most_deprived_10=100 * data.most_deprived["share_most_deprived_10"],
        share_most_deprived_20=100 * data.most_deprived["share_most_deprived_20"])
    return {"chart": ui.vega_spec(chart),
            "table": table[["label", "lsoas", "share_most_deprived_10", "share_most_deprived_20"]],
            "csv": ui.csv_bytes(data.deciles)}


def _spread(data: deprivation.PlaceDeprivation, place: str) -> None:
    st.vega_lite_chart(spec=_spread_chart(ui.created_at(), place), width="stretch")
    st.caption(f"Each tick is one of the place's {data.lsoas:,} LSOAs; the bars count them by score. "
               "A wide spread means very different neighbourhoods inside one place.")
    with st.expander("The LSOAs as a table"):
        st.dataframe(data.spread, hide_index=True, width="stretch")


@st.cache_data(show_spinner=False, max_entries=64)
def _spread_chart(created_at: str, areacd: str) -> dict:
    data = _for_place(created_at, areacd)
    s = data.spread.assign(decile=data.spread["imd_decile"].astype(int))
    chart = alt.Chart(s).mark_tick(thickness=2, size=28, opacity=0.7).encode(
        x=alt.X("imd_score:Q", title="IMD 2025 score (higher = more deprived)"),
        color=alt.Color("decile:O", title="National decile", scale=alt.Scale(domain=list(range(1, 11)),
                                                                              range=DECILE_COLOURS), legend=None),
        tooltip=[alt.Tooltip("lsoacd:N", title="LSOA"), alt.Tooltip("imd_score:Q", title="Score", format=".1f"),
                 alt.Tooltip("imd_rank:Q", title="Rank in England (1 = most deprived)", format=","),
                 alt.Tooltip("decile:O", title="Decile")],
    ).properties(height=90)
    hist = alt.Chart(s).mark_bar().encode(
        x=alt.X("imd_score:Q", bin=alt.Bin(maxbins=40), title="IMD 2025 score"),
        y=alt.Y("count():Q", title="LSOAs"),
    ).properties(height=180)
    return ui.vega_spec(alt.vconcat(chart, hist))


def _neighbours(data: deprivation.PlaceDeprivation) -> None:
    if not data.neighbours:
        st.info("Neighbour comparisons are made for single districts with published neighbours.")
        return
    for kind, table in data.neighbours.items():
        st.markdown(f"**{PEER_KIND_LABELS.get(kind, kind)}** (England only; position 1 = most deprived)")
        shown = table.assign(position=table["position"].map(lambda p: "–" if pd.isna(p) else int(p)).astype(str)
                             + " of " + table["of"].astype(str))
        st.dataframe(shown[["label", "value", "peer_median", "peer_min", "peer_max", "position"]], hide_index=True,
                     width="stretch", column_config={
                         "label": "Measure", "value": st.column_config.NumberColumn("This place", format="%.3f"),
                         "peer_median": st.column_config.NumberColumn("Peers' median", format="%.3f"),
                         "peer_min": st.column_config.NumberColumn("Lowest", format="%.3f"),
                         "peer_max": st.column_config.NumberColumn("Highest", format="%.3f"),
                         "position": "Position"})
    st.caption("Shares are 0–1. Peers outside England have no English index and are left out, so positions count "
               "only English peers.")


def _official(data: deprivation.PlaceDeprivation) -> None:
    if data.official.empty:
        st.info("MHCLG publishes its district summaries for districts; this place spans several.")
        return
    st.markdown("**English Indices of Deprivation 2025**, district summary (rank 1 = most deprived of 296)")
    _official_table(data.official)
    for edition, rows in data.other_editions.items():
        st.markdown(f"**{ui.md(edition)}**, for reference")
        st.caption(deprivation.NOT_A_TIME_SERIES)
        _official_table(rows)


def _official_table(rows: pd.DataFrame) -> None:
    shown = rows.assign(domain=rows["domain"].map(lambda d: deprivation.DOMAINS.get(d, d.replace("_", " ").title())),
                        measure=rows["measure"].str.replace("_", " "))
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        "domain": "Domain", "measure": "Measure", "value": st.column_config.NumberColumn("Value", format="%.3f"),
        "rank": "Rank"})
