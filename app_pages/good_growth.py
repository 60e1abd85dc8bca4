"""Good growth: where every place sits on change in the economy against change in public
services, with pillar weights, rank intervals and a plain-English reading of the chosen place."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from indicators import scoring
from app_pages import common as ui


@st.cache_data(show_spinner="Scoring every place (1,000 draws for rank intervals)…", max_entries=16)
def _scores(created_at: str, level: str, period: str, economy: float) -> pd.DataFrame:
    weights = (("economy", economy), ("public_services", 1 - economy))
    options = scoring.Options(level=level, period="latest" if period == "latest" else int(period), weights=weights)
    return scoring.score_places(ui.ctx(), options)


def main() -> None:
    sel = ui.sidebar()
    st.title("Good growth")
    st.caption("Is growth showing up in people's lives? Each point is a place: across, how much its economy "
               "improved compared with the average place; up, how much its public-service outcomes improved.")
    level = sel.level if sel.level in ("ltla", "utla", "combined_authority", "region") else "ltla"
    economy_pct = ui.int_param("economy", 50, 0, 100)  # a malformed link falls back to the default
    economy_pct = st.slider("Weight on the economy (the rest is on public services)", 0, 100,
                            economy_pct, step=5, format="%d%%", key="economy_weight")
    ui.set_params(economy=None if economy_pct == 50 else economy_pct)
    if economy_pct in (0, 100):
        st.info("With all the weight on one pillar the overall rank ignores the other; the quadrant still shows both.")
    scores = _scores(ui.created_at(), level, sel.period, economy_pct / 100)
    if scores.empty:
        st.info("No place at this level has enough data to score.")
        return
    _quadrant_chart(scores, sel.place)
    if sel.place:
        _reading(scores, sel.place)
    _rank_intervals(scores, sel.place)
    shown = scores[["rank", "rank_lo", "rank_hi", "areanm", "areacd", "overall", "economy", "public_services",
                    "environment", "economy_change", "public_services_change", "quadrant", "economy_coverage",
                    "public_services_coverage", "periods_latest", "periods_baseline"]]
    with st.expander("Every place (table)"):
        st.dataframe(shown, hide_index=True, width="stretch")
        ui.download_csv(shown, f"good-growth-{level}.csv")


def _quadrant_chart(scores: pd.DataFrame, place: str | None) -> None:
    d = scores.dropna(subset=["economy_change", "public_services_change"]).copy()
    d["chosen"] = np.where(d["areacd"] == place, "Chosen place", "Other places")
    span = float(np.nanmax(np.abs(d[["economy_change", "public_services_change"]].to_numpy()))) * 1.05 or 1
    scale = alt.Scale(domain=[-span, span])
    points = alt.Chart(d).mark_circle(opacity=0.75).encode(
        x=alt.X("economy_change:Q", scale=scale, title="Change in the economy (standardised; 0 = average place)"),
        y=alt.Y("public_services_change:Q", scale=scale,
                title="Change in public-service outcomes (standardised)"),
        color=alt.Color("quadrant:N", scale=alt.Scale(
            domain=["good growth", "growth without outcomes", "outcomes without growth", "neither"],
            range=["#009E73", "#E69F00", "#56B4E9", "#999999"]), title="Quadrant"),
        size=alt.condition(alt.datum.chosen == "Chosen place", alt.value(260), alt.value(45)),
        tooltip=["areanm:N", "quadrant:N", alt.Tooltip("economy_change:Q", format=".2f"),
                 alt.Tooltip("public_services_change:Q", format=".2f"), alt.Tooltip("rank:Q", title="Overall rank")])
    rules = alt.Chart(pd.DataFrame({"v": [0]})).mark_rule(color="black").encode(x="v:Q") + \
        alt.Chart(pd.DataFrame({"v": [0]})).mark_rule(color="black").encode(y="v:Q")
    labels = alt.Chart(pd.DataFrame({
        "x": [span * 0.62, span * 0.62, -span * 0.62, -span * 0.62], "y": [span * 0.93, -span * 0.93, span * 0.93, -span * 0.93],
        "t": ["Good growth", "Growth without outcomes", "Outcomes without growth", "Neither"]})).mark_text(
        fontWeight="bold", color="#333").encode(x="x:Q", y="y:Q", text="t:N")
    layers = [rules, points, labels]
    chosen = d.loc[d["areacd"] == place]
    if len(chosen):  # a red ring and the name, so the chosen place stands out whatever its quadrant
        at = {"x": "economy_change:Q", "y": "public_services_change:Q"}
        layers.append(alt.Chart(chosen).mark_point(shape="circle", filled=False, size=420, strokeWidth=2.5,
                                                   color="#d50000").encode(**at))
        layers.append(alt.Chart(chosen).mark_text(dy=-18, fontWeight="bold", fontSize=13, color="#d50000").encode(
            text="areanm:N", **at))
    st.altair_chart(alt.layer(*layers).properties(height=520), width="stretch")
    counts = d["quadrant"].value_counts()
    st.caption("Places per quadrant: " + ", ".join(f"{k} {v}" for k, v in counts.items()) +
               ". Changes compare each indicator's latest period with about five years earlier.")


def _reading(scores: pd.DataFrame, place: str) -> None:
    row = scores.loc[scores["areacd"] == place]
    if row.empty:
        st.info("The chosen place is not at this level; change the level in the sidebar.")
        return
    r = row.iloc[0]
    if pd.isna(r["quadrant"]):
        st.warning(f"{ui.md(r['areanm'])} has too few indicators with a baseline to place it in a quadrant.")
        return
    e, s = r["economy_change"], r["public_services_change"]
    def words(v: float) -> str:
        return "well above" if v > 1 else "above" if v > 0 else "well below" if v < -1 else "below"
    rank = (f"Overall it ranks {int(r['rank'])} of {int(r['areas_ranked'])} (between {int(r['rank_lo'])} and "
            f"{int(r['rank_hi'])} allowing for uncertainty)" if pd.notna(r["rank"]) else "It has no overall rank")
    st.markdown(f"**Reading for {ui.md(r['areanm'])}:** its economy improved {words(e)} the average place "
                f"({e:+.2f}) and its public-service outcomes {words(s)} average ({s:+.2f}), so it sits in "
                f"**{r['quadrant']}**. {rank}; its pillar scores draw on {r['economy_coverage']:.0%} of the economy "
                f"weight and {r['public_services_coverage']:.0%} of the public-services weight.")


def _rank_intervals(scores: pd.DataFrame, place: str | None) -> None:
    st.header("Overall rank with uncertainty")
    ranked = scores.dropna(subset=["rank"])
    picks = pd.concat([ranked.head(15), ranked.tail(5), ranked.loc[ranked["areacd"] == place]]).drop_duplicates("areacd")
    picks = picks.assign(who=np.where(picks["areacd"] == place, "Chosen place", "Other places"))
    who = alt.Color("who:N", scale=alt.Scale(domain=["Chosen place", "Other places"], range=["#d50000", "#31688e"]),
                    legend=alt.Legend(title=None, orient="top"))
    y = alt.Y("areanm:N", sort=alt.SortField("rank"), title=None,
              axis=alt.Axis(labelOverlap=False, labelLimit=280, labelFontSize=12))  # every name, never thinned
    base = alt.Chart(picks).encode(y=y)
    bars = base.mark_rule(strokeWidth=4).encode(
        x=alt.X("rank_lo:Q", title="Rank (1 = best); line = 5th–95th percentile over 1,000 draws"), x2="rank_hi:Q",
        color=who)
    dots = base.mark_point(filled=True, color="black", size=40).encode(
        x="rank:Q", tooltip=[alt.Tooltip("areanm:N", title="Place"), alt.Tooltip("rank:Q", title="Rank"),
                             alt.Tooltip("rank_lo:Q", title="Rank range from"), alt.Tooltip("rank_hi:Q", title="to")])
    st.altair_chart((bars + dots).properties(height=24 * len(picks) + 40), width="stretch")
    st.caption("The top 15, the bottom 5 and the chosen place (red). Places whose lines overlap cannot be told apart.")


with ui.friendly_errors():
    main()
ui.footer()
