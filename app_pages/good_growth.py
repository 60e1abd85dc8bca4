"""Good growth: where every place sits on change in the economy against change in public
services, with pillar weights, rank intervals and a plain-English reading of the chosen place."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from indicators import priorities, query, scoring
from app_pages import common as ui
from app_pages import residents


@st.cache_data(show_spinner="Scoring every place (1,000 draws for rank intervals)…", max_entries=16)
def _scores(created_at: str, level: str, period: str, economy: float) -> pd.DataFrame:
    weights = (("economy", economy), ("public_services", 1 - economy))
    options = scoring.Options(level=level, period="latest" if period == "latest" else int(period), weights=weights)
    return scoring.score_places(ui.ctx(), options)


QUADRANT_COLOURS = {"good growth": "#009E73", "growth without outcomes": "#E69F00",
                    "outcomes without growth": "#56B4E9", "neither": "#CC79A7", "no clear difference": "#BBBBBB"}


def main() -> None:
    sel = ui.sidebar()
    st.title("Good growth")
    level = sel.level if sel.level in ("ltla", "utla", "combined_authority", "region") else "ltla"
    economy_pct = ui.int_param("economy", 50, 0, 100)  # a malformed link falls back to the default
    economy_pct = st.slider("Weight on the economy (the rest is on public services)", 0, 100,
                            economy_pct, step=5, format="%d%%", key="economy_weight")
    ui.set_params(economy=None if economy_pct == 50 else economy_pct)
    if economy_pct in (0, 100):
        st.info("With all the weight on one pillar the overall rank ignores the other; the quadrant still shows both.")
    # --- Residents' priorities (the "What matters here?" page): when the chosen place has enough responses,
    # its residents' split between the economy and public services may replace the slider's weights.
    cw = residents.community(sel.place)
    if cw is not None and cw.enough and st.toggle(
            "Use residents' priorities", value=ui.param("residents") == "1", key="use_residents",
            help="Weights from what this place's residents said matters to them (What matters here? page)"):
        economy_pct = round(dict(priorities.pillar_weights(cw))["economy"] * 100)
        ui.set_params(residents="1")
        st.info(f"Scored with {ui.md(query.area_name(ui.ctx(), sel.place))} residents' priorities, n = {cw.n}: "
                f"{economy_pct}% of the weight on the economy, {100 - economy_pct}% on public services "
                "(the slider above is set aside).")
    else:
        ui.set_params(residents=None)
    # --- end of residents' priorities
    scores = _scores(ui.created_at(), level, sel.period, economy_pct / 100)
    if scores.empty:
        st.info("No place at this level has enough data to score.")
        return
    window = scores["change_window"].iloc[0]
    st.caption(f"Is growth showing up in people's lives? Each point is a place: across, how its economy changed "
               f"compared with the average place; up, how its public-service outcomes changed. Every indicator is "
               f"measured over the same window, {window}; no baseline falls in the pandemic (March 2020 to "
               f"December 2021). Money is in real terms and compared as percentage change.")
    _quadrant_chart(scores, sel.place)
    if sel.place:
        _reading(scores, sel.place)
    _rank_intervals(scores, sel.place)
    shown = scores[["rank", "rank_lo", "rank_hi", "rank_scope", "areanm", "areacd", "overall", "economy",
                    "public_services", "environment", "quadrant", "quadrant_probability", "economy_change",
                    "economy_change_lo", "economy_change_hi", "public_services_change", "public_services_change_lo",
                    "public_services_change_hi", "economy_coverage", "public_services_coverage", "change_window",
                    "periods_latest", "periods_baseline", "periods_change_end"]]
    with st.expander("Every place (table)"):
        st.dataframe(shown, hide_index=True, width="stretch")
        ui.download_csv(shown, f"good-growth-{level}.csv")


def _quadrant_chart(scores: pd.DataFrame, place: str | None) -> None:
    d = scores.dropna(subset=["economy_change", "public_services_change"]).copy()
    d["chosen"] = np.where(d["areacd"] == place, "Chosen place", "Other places")
    cols = ["economy_change_lo", "economy_change_hi", "public_services_change_lo", "public_services_change_hi"]
    span = float(np.nanmax(np.abs(d[["economy_change", "public_services_change"]].to_numpy()))) * 1.05 or 1
    scale = alt.Scale(domain=[-span, span], clamp=True)
    colour = alt.Color("quadrant:N", scale=alt.Scale(domain=list(QUADRANT_COLOURS),
                                                     range=list(QUADRANT_COLOURS.values())), title="Reading")
    points = alt.Chart(d).mark_circle(opacity=0.8).encode(
        x=alt.X("economy_change:Q", scale=scale, title="Economy: change compared with the average place (0 = average)"),
        y=alt.Y("public_services_change:Q", scale=scale,
                title="Public services: change compared with the average place"),
        color=colour,
        size=alt.condition(alt.datum.chosen == "Chosen place", alt.value(260), alt.value(45)),
        tooltip=["areanm:N", alt.Tooltip("quadrant:N", title="Reading"),
                 alt.Tooltip("quadrant_probability:Q", format=".0%", title="Chance of this reading"),
                 alt.Tooltip("rank:Q", title="Overall rank")])
    rules = alt.Chart(pd.DataFrame({"v": [0]})).mark_rule(color="black").encode(x="v:Q") + \
        alt.Chart(pd.DataFrame({"v": [0]})).mark_rule(color="black").encode(y="v:Q")
    labels = alt.Chart(pd.DataFrame({
        "x": [span * 0.62, span * 0.62, -span * 0.62, -span * 0.62], "y": [span * 0.93, -span * 0.93, span * 0.93, -span * 0.93],
        "t": ["Good growth", "Growth without outcomes", "Outcomes without growth", "Neither"]})).mark_text(
        fontWeight="bold", color="#333").encode(x="x:Q", y="y:Q", text="t:N")
    layers = [rules, points, labels]
    chosen = d.loc[d["areacd"] == place]
    if len(chosen) and chosen[cols].notna().all(axis=None):  # the chosen place's 90% intervals, as a cross
        layers.append(alt.Chart(chosen).mark_rule(color="#d50000", strokeWidth=2).encode(
            x=alt.X("economy_change_lo:Q", scale=scale), x2="economy_change_hi:Q", y="public_services_change:Q"))
        layers.append(alt.Chart(chosen).mark_rule(color="#d50000", strokeWidth=2).encode(
            y=alt.Y("public_services_change_lo:Q", scale=scale), y2="public_services_change_hi:Q", x="economy_change:Q"))
    if len(chosen):  # a red ring and the name, so the chosen place stands out whatever its quadrant
        at = {"x": "economy_change:Q", "y": "public_services_change:Q"}
        layers.append(alt.Chart(chosen).mark_point(shape="circle", filled=False, size=420, strokeWidth=2.5,
                                                   color="#d50000").encode(**at))
        layers.append(alt.Chart(chosen).mark_text(dy=-18, fontWeight="bold", fontSize=13, color="#d50000").encode(
            text="areanm:N", **at))
    st.altair_chart(alt.layer(*layers).properties(height=520), width="stretch")
    counts = d["quadrant"].value_counts()
    st.caption("Places by reading: " + ", ".join(f"{k} {v}" for k, v in counts.items()) +
               ". A place is put in a quadrant only when the 90% ranges of both its changes, allowing for the "
               "published confidence intervals at both ends and for the weights, lie on one side of the average; "
               "otherwise it reads *no clear difference*. The red cross shows the chosen place's 90% ranges.")


def _pace(lo: float, hi: float) -> str:
    if lo > 0:
        return "improved faster than the average place"
    if hi < 0:
        return "improved more slowly than the average place (or worsened)"
    return "changed at a pace we cannot tell apart from the average place"


def _reading(scores: pd.DataFrame, place: str) -> None:
    row = scores.loc[scores["areacd"] == place]
    if row.empty:
        st.info("The chosen place is not at this level; change the level in the sidebar.")
        return
    r = row.iloc[0]
    if pd.isna(r["quadrant"]):
        st.warning(f"{ui.md(r['areanm'])} has too few indicators with a baseline to place it in a quadrant.")
        return
    economy = _pace(r["economy_change_lo"], r["economy_change_hi"])
    services = _pace(r["public_services_change_lo"], r["public_services_change_hi"])
    probs = {q: r[f"p_{q.replace(' ', '_')}"] for q in QUADRANT_COLOURS if q != "no clear difference"}
    likeliest = max(probs, key=lambda q: probs[q])
    if r["quadrant"] == "no clear difference":
        verdict = (f"so we cannot say which quadrant it is in: **no clear difference**. The likeliest reading is "
                   f"*{likeliest}*, with a {probs[likeliest]:.0%} chance.")
    else:
        verdict = f"so it reads **{r['quadrant']}** (a {r['quadrant_probability']:.0%} chance, allowing for uncertainty)."
    st.markdown(f"**Reading for {ui.md(r['areanm'])}** over {r['change_window']}: its economy {economy}, and its "
                f"public-service outcomes {services}; {verdict}")
    if pd.notna(r["rank"]):
        lines = [f"Among {int(r['areas_ranked'])} places in {r['rank_scope']} it ranks **{int(r['rank'])}**; the 90% "
                 f"range is {int(r['rank_lo'])} to {int(r['rank_hi'])}, allowing for the published confidence "
                 f"intervals, the weights, the scaling method and the coverage rule."]
        above = scores.loc[scores["next_areacd"] == place]
        if len(above):
            a = above.iloc[0]
            lines.append(f"Chance it truly ranks above {ui.md(a['areanm'])} (ranked {int(a['rank'])}): "
                         f"{1 - a['p_above_next']:.0%}.")
        if pd.notna(r["next_areacd"]):
            below = scores.loc[scores["areacd"] == r["next_areacd"]]
            if len(below):
                b = below.iloc[0]
                lines.append(f"Chance it truly ranks above {ui.md(b['areanm'])} (ranked {int(b['rank'])}): "
                             f"{r['p_above_next']:.0%}.")
        st.markdown(" ".join(lines))
    else:
        st.markdown("It has no overall rank: too little of the weight of its indicators is published for it.")
    st.caption(f"Its pillar scores draw on {r['economy_coverage']:.0%} of the economy weight and "
               f"{r['public_services_coverage']:.0%} of the public-services weight.")


def _rank_intervals(scores: pd.DataFrame, place: str | None) -> None:
    st.header("Overall rank with uncertainty")
    ranked = scores.dropna(subset=["rank"])
    chosen = ranked.loc[ranked["areacd"] == place]
    scope = chosen["rank_scope"].iloc[0] if len(chosen) else ranked["rank_scope"].value_counts().index[0]
    ranked = ranked.loc[ranked["rank_scope"] == scope].sort_values("rank")
    picks = pd.concat([ranked.head(15), ranked.tail(5), ranked.loc[ranked["areacd"] == place]]).drop_duplicates("areacd")
    picks = picks.assign(who=np.where(picks["areacd"] == place, "Chosen place", "Other places"))
    who = alt.Color("who:N", scale=alt.Scale(domain=["Chosen place", "Other places"], range=["#d50000", "#31688e"]),
                    legend=alt.Legend(title=None, orient="top"))
    y = alt.Y("areanm:N", sort=alt.SortField("rank"), title=None,
              axis=alt.Axis(labelOverlap=False, labelLimit=280, labelFontSize=12))  # every name, never thinned
    base = alt.Chart(picks).encode(y=y)
    bars = base.mark_rule(strokeWidth=4).encode(
        x=alt.X("rank_lo:Q", title=f"Rank in {scope} (1 = best); line = 90% interval over 1,000 draws"), x2="rank_hi:Q",
        color=who)
    dots = base.mark_point(filled=True, color="black", size=40).encode(
        x="rank:Q", tooltip=[alt.Tooltip("areanm:N", title="Place"), alt.Tooltip("rank:Q", title="Rank"),
                             alt.Tooltip("rank_lo:Q", title="90% range from"), alt.Tooltip("rank_hi:Q", title="to"),
                             alt.Tooltip("p_above_next:Q", format=".0%", title="Chance it ranks above the next place")])
    st.altair_chart((bars + dots).properties(height=24 * len(picks) + 40), width="stretch")
    st.caption(f"Ranks are within {scope}: the nations publish different public-service indicators, so a UK-wide "
               "league table would mix them. The top 15, the bottom 5 and the chosen place (red); each line is the "
               "range holding the place's rank in 90% of 1,000 re-scorings. Whether two places can be told apart "
               "is a chance, not whether their lines overlap: hover for the chance each ranks above the next place.")


with ui.friendly_errors():
    main()
ui.footer()
