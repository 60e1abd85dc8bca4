"""Compare places: up to ten places (and a custom footprint) side by side, as a table and as
small multiples of their series."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from indicators import views
from app_pages import common as ui

MAX_PLACES = 10
MAX_INDICATORS = 8
DEFAULT_INDICATORS = ["gross-median-weekly-pay", "employment-rate", "children-in-relative-poverty-before-housing-costs",
                      "female-healthy-life-expectancy"]


@st.cache_data(show_spinner="Gathering the series…", max_entries=32)
def _table(created_at: str, codes: tuple[str, ...], indicators: tuple[str, ...],
           custom: tuple[tuple[str, tuple[str, ...]], ...]) -> pd.DataFrame:
    return views.compare_table(ui.ctx(), list(codes), list(indicators),
                               custom={name: list(members) for name, members in custom})


def main() -> None:
    sel = ui.sidebar()
    c = ui.ctx()
    st.title("Compare places")
    opts = ui.place_options(ui.created_at())
    labels = dict(zip(opts["areacd"], opts["label"]))
    from_url = ui.list_param("places", list(labels), MAX_PLACES)
    default = from_url or ([sel.place] if sel.place else [])
    places = st.multiselect("Places (up to ten)", list(labels), default=default[:MAX_PLACES],
                            format_func=lambda code: labels.get(code, code), max_selections=MAX_PLACES,
                            key="compare_places")
    with st.expander("Add a custom footprint (a group of districts)"):
        districts = opts.loc[opts["level"] == "ltla"]
        d_labels = dict(zip(districts["areacd"], districts["label"]))
        members = st.multiselect("Districts", list(d_labels), format_func=lambda code: d_labels.get(code, code),
                                 key="footprint_members")
        name = st.text_input("Footprint name", "My footprint", max_chars=80, key="footprint_name")
    options = ui.indicator_options(c)
    chosen_url = ui.list_param("indicators", options, MAX_INDICATORS)
    indicators = st.multiselect("Indicators", options, default=chosen_url or DEFAULT_INDICATORS,
                                format_func=lambda i: ui.indicator_label(c, i), max_selections=MAX_INDICATORS,
                                key="compare_indicators")
    ui.set_params(places=",".join(places) or None, indicators=",".join(indicators) or None)
    ui.local_data_note(c, indicators)
    custom = ((name.strip() or "My footprint", tuple(members)),) if len(members) >= 2 else ()
    if members and len(members) < 2:
        st.warning("A footprint needs at least two districts.")
    if not places and not custom:
        st.info("Choose places to compare (and optionally a footprint of districts).")
        return
    if not indicators:
        st.info("Choose at least one indicator.")
        return
    table = _table(ui.created_at(), tuple(places), tuple(indicators), custom)
    refused = table.loc[table["value"].isna() & table["note"].astype(bool), ["place", "indicator", "note"]]
    for row in refused.itertuples():
        st.warning(ui.md(f"{row.place}: {row.note}"))
    data = table.loc[table["value"].notna()].copy()
    if data.empty:
        st.info("None of these places has data for these indicators.")
        return
    st.header("Latest values")
    st.dataframe(_latest(c, data), hide_index=True, width="stretch")
    st.caption("Each place's most recent value, with its period in brackets where it is older than the "
               "indicator's latest period; a dash where the place has no value.")
    ui.download_csv(data.drop(columns=["period_start"]), "compare.csv", "Download all series (CSV)")
    st.header("Over time")
    chart = alt.Chart(_with_gaps(data)).mark_line(point=True, invalid="break-paths-show-path-domains").encode(
        x=alt.X("period_start:T", title="Period start"),
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        color=alt.Color("place:N", title="Place", scale=alt.Scale(scheme="tableau10")),
        tooltip=["place:N", "indicator:N", "period:N", alt.Tooltip("value:Q", format=",.2f")],
    ).properties(width=330, height=200).facet(facet=alt.Facet("indicator:N", title=None), columns=2).resolve_scale(
        y="independent")
    st.altair_chart(chart)
    st.caption("Each panel has its own scale. Footprint values are aggregated from districts with the "
               "engine's rules (population-weighted for rates, summed for counts) and only where every district "
               "has a value.")


def _latest(c, data: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator, one column per place: values as text with their unit, so a value from
    an older period says so instead of sitting under the latest period's heading."""
    ordered = data.sort_values("period_start")
    newest = ordered.groupby("indicator")["period"].last()
    last = ordered.groupby(["indicator", "place"], sort=False).tail(1)
    pairs = data[["indicator", "indicator_id"]].drop_duplicates()
    units = {ind: c.catalogue.get(i).unit for ind, i in zip(pairs["indicator"], pairs["indicator_id"])}
    last = last.assign(text=[ui.fmt(v, units[ind]) + ("" if per == newest[ind] else f" ({per})")
                             for v, ind, per in zip(last["value"], last["indicator"], last["period"])])
    table = last.pivot(index="indicator", columns="place", values="text").fillna("–")
    table.insert(0, "latest period", newest)
    places = list(dict.fromkeys(data["place"]))  # in the order chosen
    return table.reset_index()[["indicator", "latest period", *places]]


def _with_gaps(data: pd.DataFrame) -> pd.DataFrame:
    """Every period of each indicator for every place, missing ones as null, so a line breaks where
    a place has no value instead of joining across the gap as if the data were there."""
    data = data.assign(period_start=pd.to_datetime(data["period_start"].astype(str)))
    grid = (data[["indicator", "period", "period_start"]].drop_duplicates()
            .merge(data[["indicator", "place"]].drop_duplicates(), on="indicator"))
    return grid.merge(data[["indicator", "place", "period", "value"]], on=["indicator", "place", "period"], how="left")


with ui.friendly_errors():
    main()
ui.footer()
