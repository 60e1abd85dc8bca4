"""Compare places: up to ten places (and a custom footprint) side by side, each value with its
confidence interval, its verdict against the chosen benchmark and its rank range, as a table and
as small multiples of their series."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from indicators import query, views
from app_pages import charts, common as ui

MAX_PLACES = 10
MAX_INDICATORS = 8
DEFAULT_INDICATORS = ["gross-median-weekly-pay", "employment-rate", "children-in-relative-poverty-before-housing-costs",
                      "female-healthy-life-expectancy"]
BENCHMARK_PLACE = "Benchmark"
# Panels keep this size on every screen: on a phone the row scrolls sideways instead of shrinking.
PANEL_WIDTH, PANEL_HEIGHT = 330, 220
SCROLL_CSS = """
<style>
[data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"] {overflow-x:auto; max-width:100%;}
</style>
"""


@st.cache_data(show_spinner="Gathering the series…", max_entries=32)
def _table(created_at: str, codes: tuple[str, ...], indicators: tuple[str, ...],
           custom: tuple[tuple[str, tuple[str, ...]], ...]) -> pd.DataFrame:
    return views.compare_table(ui.ctx(), list(codes), list(indicators),
                               custom={name: list(members) for name, members in custom})


@st.cache_data(show_spinner="Testing each value against its benchmark…", max_entries=32)
def _latest(created_at: str, codes: tuple[str, ...], indicators: tuple[str, ...],
            custom: tuple[tuple[str, tuple[str, ...]], ...], benchmarks: tuple[tuple[str, str | None], ...],
            levels: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    table = _table(created_at, codes, indicators, custom)
    return views.compare_latest(ui.ctx(), table, dict(benchmarks), dict(levels))


@st.cache_data(show_spinner=False, max_entries=32)
def _benchmark_series(created_at: str, benchmark: str, indicators: tuple[str, ...]) -> pd.DataFrame:
    return views.benchmark_series(ui.ctx(), benchmark, list(indicators))


def main() -> None:
    sel = ui.sidebar(show=("place", "benchmark"))  # level and period do not change a comparison of series
    c = ui.ctx()
    st.title("Compare places")
    st.caption("Up to ten places side by side: each latest value with its 95% confidence interval, whether it is "
               "better, similar or worse than the benchmark chosen in the sidebar, and its rank with a 90% range.")
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
    kept = st.session_state.get("_keep_indicator")
    fallback = list(dict.fromkeys(([kept] if kept in options else []) + DEFAULT_INDICATORS))[:MAX_INDICATORS]
    indicators = st.multiselect("Indicators", options, default=chosen_url or fallback,
                                format_func=lambda i: ui.indicator_label(c, i), max_selections=MAX_INDICATORS,
                                key="compare_indicators")
    ui.set_params(places=",".join(places) or None, indicators=",".join(indicators) or None)
    ui.local_data_note(c, indicators)
    ui.keep_indicator(indicators[0] if indicators else None)
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
    benchmarks = tuple((p, ui.benchmark_code(c, sel, p)) for p in places)
    levels = tuple((p, ui.level_of(p)) for p in places)
    latest = _latest(ui.created_at(), tuple(places), tuple(indicators), custom, benchmarks, levels)
    st.markdown(ui.LEGEND_CSS + SCROLL_CSS, unsafe_allow_html=True)
    st.header("Latest values against the benchmark")
    _benchmark_caption(sel, latest)
    shown = _latest_table(latest, list(dict.fromkeys(data["place"])))
    st.dataframe(shown, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 560),
                 column_config=LATEST_CONFIG)
    st.caption("95% CI: the range the true value probably lies in, as published. A verdict says whether that "
               "range lies wholly above or below the benchmark's value (OHID Fingertips' test); 'not compared' "
               "where the publisher gives no interval or the benchmark has no figure. The rank is among every "
               "area of the place's level (1 = best), with the range holding it in 90% of 1,000 redraws within "
               "the intervals (no range where no interval is published); a dash where the place's latest period is older than the level's. '(older)' marks a value from "
               "an earlier period than the other places'.")
    ui.download_csv(shown, "compare-latest.csv", "Download this table (CSV)", on_click=True)
    st.header("Over time")
    chart_bench, sharing = _chart_benchmark(c, sel, places)
    bench_name = query.area_name(c, chart_bench) if chart_bench else None
    st.vega_lite_chart(spec=_small_multiples_spec(ui.created_at(), tuple(places), tuple(indicators), custom,
                                                  chart_bench))
    whose = "" if not places or sharing == len(places) else f", the benchmark of {sharing} of the {len(places)} places"
    st.caption("Each panel has its own scale. Vertical bars are 95% confidence intervals where the publisher gives "
               "them; the dashed black line is " + (ui.md(bench_name + whose) if bench_name
                                                   else "absent: the chosen benchmark has no single area here")
               + ". Footprint values are aggregated from districts with the engine's rules (population-weighted "
               "for rates, summed for counts) and only where every district has a value.")
    ui.download_csv(data.drop(columns=["period_start", "period_code"]), "compare.csv", "Download all series (CSV)",
                    on_click=True)


def _benchmark_caption(sel: ui.Selection, latest: pd.DataFrame) -> None:
    names = sorted(set(latest["benchmark_name"].dropna()))
    chosen = ui.BENCHMARKS.get(sel.benchmark, sel.benchmark)
    if sel.benchmark == "neighbours":
        st.caption("Statistical neighbours compare one place (see its profile); here each place is compared with "
                   "its own nation.")
    st.markdown(f"**Benchmark:** {ui.md(chosen)}" + (f" ({ui.md(', '.join(names))})" if names else "")
                + ". Change it under *Compare with* in the sidebar.")


# Widths sum to the content width at 1440 px, so every column shows without scrolling there; on a
# narrower screen the place stays pinned while the rest scrolls.
LATEST_CONFIG = {
    "Place": st.column_config.TextColumn("Place", pinned=True, width=120),
    "Indicator": st.column_config.TextColumn("Indicator", width=215),
    "Period": st.column_config.TextColumn("Period", width=95),
    "Value (95% CI)": st.column_config.TextColumn("Value (95% CI)", width=150,
                                                  help="The latest value and its 95% confidence interval"),
    "Benchmark": st.column_config.TextColumn("Benchmark", width=160, help="The benchmark's value and name"),
    "Compared with benchmark": st.column_config.TextColumn(
        "vs benchmark", width=105, help="Better, similar or worse: whether the 95% CI excludes the benchmark"),
    "Rank (90% range)": st.column_config.TextColumn(
        "Rank (90% range)", width=135, help="Rank among the level's areas, 1 = best; 90% range in brackets"),
}


def _latest_table(latest: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """One row per place and indicator, as readable text: a long table fits ten places on any screen
    (the place column stays pinned while the rest scrolls)."""
    d = latest.assign(_o=latest["place"].map({p: i for i, p in enumerate(order)}))
    d = d.sort_values(["indicator", "_o"])
    value = [f"{ui.fmt(v, u)} ({ui.fmt(lo, u)} to {ui.fmt(hi, u)})" if pd.notna(lo) and pd.notna(hi)
             else f"{ui.fmt(v, u)} (no CI)" for v, lo, hi, u in zip(d["value"], d["lci"], d["uci"], d["unit"])]
    bench = [f"{ui.fmt(v, u)} ({n})" if pd.notna(v) else "no figure"
             for v, u, n in zip(d["benchmark_value"], d["unit"], d["benchmark_name"])]
    return pd.DataFrame({
        "Place": d["place"].to_numpy(),
        "Indicator": d["indicator"].to_numpy(),
        "Period": [f"{per}" if newest else f"{per} (older)" for per, newest in zip(d["period"], d["newest_period"])],
        "Value (95% CI)": value,
        "Benchmark": bench,
        "Compared with benchmark": [_verdict_text(s) for s in d["significance"]],
        "Rank (90% range)": [_rank_text(r, lo, hi, n) for r, lo, hi, n in
                             zip(d["rank"], d["rank_lo"], d["rank_hi"], d["areas_ranked"])],
    })


VERDICT_TEXT = {"better": "▲ Better", "worse": "▼ Worse", "similar": "● Similar", "higher": "▲ Higher",
                "lower": "▼ Lower", "not compared": "Not compared"}


def _verdict_text(sig: str) -> str:
    return VERDICT_TEXT.get(str(sig), str(sig).capitalize())


def _rank_text(rank: float, lo: float, hi: float, n: float) -> str:
    if not np.isfinite(rank):
        return "–"
    of = f" of {int(n)}" if np.isfinite(n) else ""
    if lo == hi:
        return f"{int(rank)}{of}"
    return f"{int(rank)}{of} ({int(lo)}–{int(hi)})"


def _chart_benchmark(c, sel: ui.Selection, places: list[str]) -> tuple[str | None, int]:
    """The one benchmark drawn in every panel and how many places it is the benchmark of: the
    comparator most of the places share (places in different nations may have different ones)."""
    codes = [ui.benchmark_code(c, sel, p) for p in places] or [ui.benchmark_code(c, sel, None)]
    counts = pd.Series([code for code in codes if code]).value_counts()
    return (str(counts.index[0]), int(counts.iloc[0])) if len(counts) else (None, 0)


@st.cache_data(show_spinner=False, max_entries=64)
def _small_multiples_spec(created_at: str, places: tuple[str, ...], indicators: tuple[str, ...],
                          custom: tuple[tuple[str, tuple[str, ...]], ...], chart_bench: str | None) -> dict:
    """One panel per indicator: a line per place with its 95% CIs as bars, the benchmark dashed (the
    same comparison gives every visitor the same chart)."""
    table = _table(created_at, places, indicators, custom)
    data = table.loc[table["value"].notna()]
    series = _with_gaps(data).assign(kind="place")
    bench = _benchmark_series(created_at, chart_bench, indicators) if chart_bench else None
    if bench is not None and len(bench):
        b = bench.loc[bench["value"].notna() & bench["indicator"].isin(set(data["indicator"]))]
        b = b.assign(place=f"{query.area_name(ui.ctx(), chart_bench)} ({BENCHMARK_PLACE.lower()})", kind="benchmark",
                     period_start=pd.to_datetime(b["period_start"].astype(str)))
        series = pd.concat([series, b[["indicator", "place", "period", "period_start", "value", "lci", "uci",
                                       "kind"]]], ignore_index=True)
    return charts.small_multiples(series, list(dict.fromkeys(data["place"])), PANEL_WIDTH, PANEL_HEIGHT)


def _with_gaps(data: pd.DataFrame) -> pd.DataFrame:
    """Every period of each indicator for every place, missing ones as null, so a line breaks where
    a place has no value instead of joining across the gap as if the data were there."""
    data = data.assign(period_start=pd.to_datetime(data["period_start"].astype(str)))
    grid = (data[["indicator", "period", "period_start"]].drop_duplicates()
            .merge(data[["indicator", "place"]].drop_duplicates(), on="indicator"))
    return grid.merge(data[["indicator", "place", "period", "value", "lci", "uci"]],
                      on=["indicator", "place", "period"], how="left")


with ui.friendly_errors():
    main()
ui.footer()
