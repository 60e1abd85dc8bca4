"""Place profile: a Fingertips-style spine chart of every scored indicator against the chosen
benchmark, with significance, significant trends, the 'worse and worsening' flag, sparklines and
the place's statistical neighbours."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from indicators import geo, profile, significance, views
from indicators.catalogue import PILLAR_LABELS
from app_pages import common as ui
from app_pages import profile_deprivation

TREND_WORDS = {"improving": "↑ improving", "worsening": "↓ worsening", "increasing": "↑ increasing",
               "decreasing": "↓ decreasing"}
SIG_ORDER = ["better", "similar", "worse", "higher", "lower"]
SIG_SHAPES = {"better": "triangle-up", "similar": "circle", "worse": "triangle-down", "higher": "triangle-up",
              "lower": "triangle-down"}
# Rows that cannot be tested (no CI, or no benchmark figure) show their position among areas instead.
POSITION_MARKS = [f"position: {label}" for label in profile.QUINTILE_LABELS.values()]
MARK_ORDER = [*SIG_ORDER, *POSITION_MARKS, significance.NOT_COMPARED]
MARK_SHAPES = {**SIG_SHAPES, **{m: "diamond" for m in POSITION_MARKS}, significance.NOT_COMPARED: "square"}
MARK_COLOURS = {**{k: ui.SIGNIFICANCE_COLOURS[k] for k in SIG_ORDER},
                **dict(zip(POSITION_MARKS, ui.POSITION_COLOURS)),
                significance.NOT_COMPARED: ui.SIGNIFICANCE_COLOURS[significance.NOT_COMPARED]}


@st.cache_data(show_spinner="Building the profile…", max_entries=64)
def _profile(created_at: str, areacd: str, level: str, benchmark: str) -> pd.DataFrame:
    return profile.profile(ui.ctx(), areacd, level, benchmark)


def main() -> None:
    sel = ui.sidebar()
    c = ui.ctx()
    st.title("Place profile")
    if not sel.place:
        st.info("Choose a place in the sidebar (type a name or code), or click an area on the map explorer.")
        return
    facts = views.place_facts(c, sel.place)
    level = sel.level if sel.level in facts["levels"] else ui.level_of(sel.place)
    bench = ui.benchmark_code(c, sel, sel.place, per_place=True) or profile.default_benchmark(sel.place)
    st.markdown(f"## {ui.md(facts['areanm'])} ({ui.md(facts['areacd'])})")
    st.caption(ui.md(" · ".join(f"{k}: {v}" for k, v in facts["parents"].items())))
    for notice in facts["notices"]:
        st.info("Boundary or code change: " + ui.md(notice))
    prof = _profile(ui.created_at(), sel.place, level, bench)
    if prof.empty:
        st.warning(f"No data is published for {ui.md(facts['areanm'])} at this level. Try another level in the sidebar.")
        return
    place = profile.place_context(c, sel.place, level, bench)
    bench_name = place.benchmark_name
    _headline(prof, bench_name)
    ui.local_data_note(c, prof["indicator_id"].tolist())
    tab_spine, tab_table, tab_neighbours = st.tabs(["Spine chart", "All indicators (table)", "Statistical neighbours"])
    with tab_spine:
        _spine(prof, bench_name)
    with tab_table:
        _table(prof, bench_name, sel.place)
    with tab_neighbours:
        _neighbours(c, place, level)
    profile_deprivation.render(sel.place)


def _headline(prof: pd.DataFrame, bench_name: str) -> None:
    scored = prof.loc[prof["scored"]]
    counts = scored["significance_95"].value_counts()
    compared = int(len(scored) - counts.get(significance.NOT_COMPARED, 0))
    cols = st.columns(4)
    cols[0].metric(f"Significantly better than {ui.md(bench_name)}", int(counts.get("better", 0)),
                   help="At 95% confidence: the whole confidence interval is on the better side of the benchmark")
    cols[1].metric("Similar", int(counts.get("similar", 0)))
    cols[2].metric(f"Significantly worse than {ui.md(bench_name)}", int(counts.get("worse", 0)),
                   help="At 95% confidence: the whole confidence interval is on the worse side of the benchmark")
    cols[3].metric("Worse and worsening", int(scored["worse_and_worsening"].sum()),
                   help="Significantly worse than the benchmark and with a significantly worsening recent trend")
    no_ci = int((scored["significance_95"].eq(significance.NOT_COMPARED) & scored["lci"].isna()).sum())
    no_bench = int((scored["lci"].notna() & scored["benchmark_value"].isna()).sum())
    reasons = [f"{no_ci} without a published confidence interval"] if no_ci else []
    reasons += [f"{no_bench} without a benchmark figure"] if no_bench else []
    untested = (f"; {' and '.join(reasons)} are not compared, and show their position among areas (quintile) "
                "instead.") if reasons else "."
    st.caption(ui.md(significance.chance_note(compared)) + f" {len(scored)} scored indicators: {compared} compared "
               f"at 95% confidence" + untested)
    fallback = scored.loc[scored["benchmark_name"].notna() & (scored["benchmark_name"] != bench_name)]
    if len(fallback):
        names = ", ".join(sorted(set(fallback["benchmark_name"].astype(str))))
        st.caption(f"{ui.md(bench_name)} publishes no figure for {len(fallback)} of these indicators; they are "
                   f"compared with {ui.md(names)} instead, as each row says.")


def _spine(prof: pd.DataFrame, bench_name: str) -> None:
    """Each indicator's range across areas, worst on the left, with the benchmark in the middle."""
    d = prof.loc[prof["scored"] & prof["area_min"].notna()].copy()
    if d.empty:
        st.info("No scored indicator is published for enough areas to draw a spine.")
        return
    sign = np.where(d["polarity"] == "lower_is_better", -1.0, 1.0)
    # the spine's centre is the benchmark; a row with no benchmark figure is centred on the median area
    b = d["benchmark_value"].fillna(d["area_median"]).to_numpy(float)
    spread = np.maximum(np.abs(d["area_min"] - b), np.abs(d["area_max"] - b)).to_numpy(float)
    spread = np.where(spread > 0, spread, 1.0)

    def pos(x: pd.Series) -> np.ndarray:
        return 0.5 + sign * (x.to_numpy(float) - b) / (2 * spread)

    d["worst"] = np.minimum(pos(d["area_min"]), pos(d["area_max"]))
    d["best"] = np.maximum(pos(d["area_min"]), pos(d["area_max"]))
    d["q_lo"] = np.minimum(pos(d["area_p25"]), pos(d["area_p75"]))
    d["q_hi"] = np.maximum(pos(d["area_p25"]), pos(d["area_p75"]))
    d["here"] = pos(d["value"])
    d["pillar_label"] = d["pillar"].map(PILLAR_LABELS)
    other = " (vs " + d["benchmark_name"].fillna("") + ")"
    centre_note = np.where(d["benchmark_value"].isna(), " (no benchmark)",
                           np.where(d["benchmark_name"] != bench_name, other, ""))
    d["row"] = d["pillar_label"] + " · " + d["label"] + centre_note
    d["value_text"] = [ui.fmt(v, u) for v, u in zip(d["value"], d["unit"])]
    d["bench_text"] = [ui.fmt(v, u) if pd.notna(v) else "–" for v, u in zip(d["benchmark_value"], d["unit"])]
    d["bench_who"] = d["benchmark_name"].fillna("no benchmark figure")
    d["mark"] = _marks(d)
    d["position"] = [f"{profile.QUINTILE_LABELS[int(q)]} of {n} areas" if pd.notna(q) else "–"
                     for q, n in zip(d["quintile"], d["areas_compared"])]
    order = d.sort_values(["pillar", "theme", "label"])["row"].tolist()
    y = alt.Y("row:N", sort=order, title=None, axis=alt.Axis(labelLimit=360))
    base = alt.Chart(d).encode(y=y)
    rng = base.mark_bar(color="#d9d9d9", height=10).encode(x=alt.X("worst:Q", scale=alt.Scale(domain=[0, 1]),
                                                                 axis=alt.Axis(values=[0, 0.5, 1], labelFlush=True, labelExpr=
                                                                               "datum.value == 0 ? 'Worst area' : datum.value == 1 ? 'Best area' : 'Benchmark'"),
                                                                 title=None), x2="best:Q")
    iqr = base.mark_bar(color="#8c8c8c", height=10).encode(x="q_lo:Q", x2="q_hi:Q")
    mid = alt.Chart(pd.DataFrame({"x": [0.5]})).mark_rule(color="black").encode(x="x:Q")
    shown = [s for s in MARK_ORDER if s in set(d["mark"])]  # the legend lists what is drawn
    colours = alt.Scale(domain=shown, range=[MARK_COLOURS[s] for s in shown])
    shapes = alt.Scale(domain=shown, range=[MARK_SHAPES[s] for s in shown])
    legend = alt.Legend(orient="top", title=f"Compared with {bench_name} (95% confidence); diamonds: position "
                        "among areas, not significance", titleLimit=700, columns=4, labelLimit=220,
                        symbolStrokeColor="black", symbolStrokeWidth=0.5, symbolSize=160, labelFontSize=12,
                        titleFontSize=12)
    dots = base.mark_point(filled=True, size=110, stroke="black", strokeWidth=0.6).encode(
        x="here:Q",
        # colour and shape on the same field with the same legend: Vega draws one combined legend
        color=alt.Color("mark:N", scale=colours, legend=legend),
        shape=alt.Shape("mark:N", scale=shapes, legend=legend),
        tooltip=[alt.Tooltip("label:N", title="Indicator"), alt.Tooltip("period_label:N", title="Period"),
                 alt.Tooltip("value_text:N", title="Value"), alt.Tooltip("bench_who:N", title="Benchmark"),
                 alt.Tooltip("bench_text:N", title="Benchmark value"),
                 alt.Tooltip("significance_95:N", title="95%"), alt.Tooltip("significance_998:N", title="99.8%"),
                 alt.Tooltip("position:N", title="Position"), alt.Tooltip("trend:N", title="Recent trend")])
    chart = alt.layer(rng, iqr, mid, dots).properties(height=22 * len(d) + 40)
    st.altair_chart(chart, width="stretch")
    st.caption(f"Light grey: the range across areas, worst on the left and best on the right; dark grey: the middle "
               f"half of areas; black line: {ui.md(bench_name)} (or the comparator named on the row; the median area on a row "
               "marked 'no benchmark'). Marker colour "
               "and shape show the comparison at 95% confidence (triangle up better, circle similar, triangle down "
               "worse). Where no comparison is possible (no confidence interval, or no benchmark figure), a grey "
               "diamond shows the place's position instead: its fifth among comparable areas, light for the best "
               "fifth and dark for the worst. A position is not a significance test. The table tab holds every number.")


def _marks(d: pd.DataFrame) -> list[str]:
    """The spine marker per row: the 95% verdict, else the position by quintile, else 'not compared'."""
    return [sig if sig != significance.NOT_COMPARED else
            f"position: {profile.QUINTILE_LABELS[int(q)]}" if pd.notna(q) else significance.NOT_COMPARED
            for sig, q in zip(d["significance_95"], d["quintile"])]


def _table(prof: pd.DataFrame, bench_name: str, areacd: str) -> None:
    t = prof.copy()
    t["trend_shown"] = [TREND_WORDS.get(v, "no significant change" if v == "no significant change" else v)
                        for v in t["trend"]]
    t["flag"] = np.where(t["worse_and_worsening"], "⚠ worse and worsening", "")
    t["pillar"] = t["pillar"].map(PILLAR_LABELS)
    t["benchmark_name"] = t["benchmark_name"].fillna("–")
    t["position"] = [f"{int(q)} ({profile.QUINTILE_LABELS[int(q)]})" if pd.notna(q) else "–" for q in t["quintile"]]
    shown = t[["pillar", "theme", "label", "period_label", "value", "lci", "uci", "lci_998", "uci_998",
               "limits_method", "benchmark_name", "benchmark_value", "significance_95", "significance_998", "position",
               "trend_shown", "flag", "spark_values", "neighbour_mean", "percentile", "unit"]]
    st.dataframe(shown, hide_index=True, width="stretch", height=560, column_config={
        "pillar": "Pillar", "theme": "Theme", "label": "Indicator", "period_label": "Period",
        "value": st.column_config.NumberColumn("Value", format="%.2f"),
        "lci": st.column_config.NumberColumn("Lower 95%", format="%.2f"),
        "uci": st.column_config.NumberColumn("Upper 95%", format="%.2f"),
        "lci_998": st.column_config.NumberColumn("Lower 99.8%", format="%.2f"),
        "uci_998": st.column_config.NumberColumn("Upper 99.8%", format="%.2f"),
        "limits_method": "99.8% limits by", "benchmark_name": "Benchmark",
        "benchmark_value": st.column_config.NumberColumn("Benchmark value", format="%.2f"),
        "significance_95": "vs benchmark (95%)", "significance_998": "vs benchmark (99.8%)",
        "position": "Position (quintile, 1 = best fifth)",
        "trend_shown": "Recent trend", "flag": "Flag",
        "spark_values": st.column_config.LineChartColumn("Last 10 periods"),
        "neighbour_mean": st.column_config.NumberColumn("Neighbours' mean", format="%.2f"),
        "percentile": st.column_config.NumberColumn("Percentile", format="%.0f"), "unit": "Unit",
    })
    st.caption("Trends are shown as improving or worsening only when the 95% confidence interval of the recent "
               "slope excludes zero. The 99.8% limits are rebuilt from the published 95% interval by the "
               "interval's own method, named in '99.8% limits by': exact Wilson (proportions, from the counts the "
               "limits imply), Byar or Dobson (rates, from the implied count), log- or logit-scale, or normal "
               "approx where the publisher's interval is symmetric. A benchmark other than the one chosen is named "
               "on its row; '–' means no comparator publishes a figure, and the row is not compared. Position is "
               "the place's fifth among comparable areas, not a significance test.")
    ui.download_csv(shown.drop(columns=["spark_values"]), f"profile-{areacd}.csv")


def _neighbours(c, place, level: str) -> None:
    if not place.peers:
        st.info("The ONS publishes no statistical neighbours for this area.")
        return
    names = [f"{ui.md(c.names.get(p, p))} ({ui.md(p)})" for p in place.peers]
    left, right = st.columns([2, 3])
    with left:
        st.markdown(f"**ONS {place.peer_kind} statistical neighbours**, most similar first:")
        st.markdown("\n".join(f"{i + 1}. {n}" for i, n in enumerate(names)))
    with right:
        gdf = geo.boundaries(c, "ltla")
        props = pd.DataFrame({"areacd": gdf["areacd"]})
        props["fill"] = [[213, 0, 0, 240] if a == place.areacd else [49, 104, 142, 220] if a in place.peers
                         else [220, 220, 220, 160] for a in props["areacd"]]
        props["name"] = gdf["areanm"].astype(str)  # a plain-text tooltip: shown as written
        layers = ui.area_layers(geo.feature_collection(gdf, props), geo.borders(c, "ltla"),
                                border_rgba=(255, 255, 255, 140))
        view = pdk.ViewState(latitude=54.4, longitude=-3.0, zoom=4.3)
        st.pydeck_chart(ui.deck(layers, view, {"text": "{name}"}), height=420, key="neighbour_map",
                        alt=f"Map of {place.areanm} and its statistical neighbours, listed beside the map.")
        st.caption("Red: the place. Blue: its statistical neighbours. Grey: other districts.")


with ui.friendly_errors():
    main()
ui.footer()
