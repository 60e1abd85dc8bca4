"""Good growth: where every place sits on change in the economy against change in public
services, with pillar weights, rank intervals and a plain-English reading of the chosen place."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from indicators import priorities, query, scoring, views
from app_pages import charts, common as ui
from app_pages import residents


@st.cache_data(show_spinner="Scoring every place and its change (1,000 draws)…", max_entries=16)
def _scores(created_at: str, level: str, period: str) -> pd.DataFrame:
    """Everything that does not depend on the pillar weights (quadrants, changes, coverage): the slow
    part, computed once per level and period for every visitor."""
    options = scoring.Options(level=level, period="latest" if period == "latest" else int(period))
    return scoring.score_places(ui.ctx(), options)


@st.cache_data(show_spinner="Re-ranking with the new weights…", max_entries=64)
def _ranks(created_at: str, level: str, period: str, economy_pct: int) -> pd.DataFrame:
    """The overall score, rank and 90% rank range for one weight (cached per weight step)."""
    weights = (("economy", economy_pct / 100), ("public_services", 1 - economy_pct / 100))
    options = scoring.Options(level=level, period="latest" if period == "latest" else int(period), weights=weights)
    return views.ranks_for_weights(ui.ctx(), options)


QUADRANT_COLOURS = {"good growth": "#009E73", "growth without outcomes": "#E69F00",
                    "outcomes without growth": "#56B4E9", "neither": "#CC79A7", "no clear difference": "#BBBBBB"}
LEVELS = ("ltla", "utla", "combined_authority", "region")
WEIGHT_LABEL = "Weight on the economy in the overall rank (the rest is on public services)"
WEIGHT_HELP = ("Changes the overall score, the ranks and their ranges below. The quadrant above does not move: "
               "it shows change in the economy and in public services on separate axes, so no weight enters it.")


def main() -> None:
    sel = ui.sidebar(show=("place", "level", "period"))  # no benchmark: places are compared with each other
    st.title("Good growth")
    level = sel.level if sel.level in LEVELS else "ltla"
    if level != sel.level:
        st.info(f"Good growth is scored for districts, counties, combined authorities and regions; showing "
                f"{ui.LEVEL_LABELS['ltla'].lower()}.")
    scores = _scores(ui.created_at(), level, sel.period)
    if scores.empty:
        st.info("No place at this level has enough data to score.")
        return
    place = views.area_at_level(ui.ctx(), sel.place, level)
    if sel.place and place and place != sel.place:
        st.caption(f"{ui.md(ui.ctx().names.get(sel.place, sel.place))} is part of "
                   f"{ui.md(ui.ctx().names.get(place, place))}, which is highlighted at this level.")
    window = scores["change_window"].iloc[0]
    st.caption(f"Is growth showing up in people's lives? Each point is a place: across, how its economy changed "
               f"compared with the average place; up, how its public-service outcomes changed. Every indicator is "
               f"measured over the same window, {window}; no baseline falls in the pandemic (March 2020 to "
               f"December 2021). Money is in real terms and compared as percentage change.")
    st.markdown(SCROLL_CSS, unsafe_allow_html=True)
    _quadrant_chart(scores, place)
    if place:
        _reading(scores, place)
    elif sel.place:
        st.info("The chosen place is not part of any area at this level; change the level in the sidebar.")
    st.header("Overall rank with uncertainty")
    economy_pct = ui.int_param("economy", 50, 0, 100)  # a malformed link falls back to the default
    economy_pct = st.slider(WEIGHT_LABEL, 0, 100, economy_pct, step=5, format="%d%%", key="economy_weight",
                            help=WEIGHT_HELP)
    ui.set_params(economy=None if economy_pct == 50 else economy_pct)
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
    st.caption(WEIGHT_HELP)
    if economy_pct in (0, 100):
        st.info("With all the weight on one pillar the overall rank ignores the other; the quadrant still shows both.")
    scores = views.reweighted(scores, _ranks(ui.created_at(), level, sel.period, economy_pct))
    if place:
        _rank_reading(scores, place)
    _rank_intervals(scores, place)
    with st.expander("Every place (table)"):
        shown = _every_place(ui.created_at(), level, sel.period, economy_pct)
        st.dataframe(shown, hide_index=True, width="stretch", column_config={
            "Place": st.column_config.TextColumn("Place", pinned=True)})
        ui.download_csv(shown, f"good-growth-{level}.csv", on_click=True)


@st.cache_data(show_spinner=False, max_entries=64)
def _every_place(created_at: str, level: str, period: str, economy_pct: int) -> pd.DataFrame:
    """The table of every place in words, the same for every visitor of a view and weight (formatting
    each of some 400 places' 18 cells costs about 50 ms)."""
    return _table(views.reweighted(_scores(created_at, level, period), _ranks(created_at, level, period, economy_pct)))


# Charts keep their size on a phone and scroll sideways rather than shrink into a strip.
SCROLL_CSS = """
<style>
[data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"] {overflow-x:auto; max-width:100%;}
</style>
"""
MIN_CHART_WIDTH = 640


def _num(v: float) -> str:
    """Two decimals, and never '-0.00' for a value that rounds to zero."""
    return "–" if pd.isna(v) else f"{0.0 if round(float(v), 2) == 0 else float(v):,.2f}"


def _pct(v: float) -> str:
    return "–" if pd.isna(v) else f"{v:.0%}"


def _range(lo: float, hi: float) -> str:
    return "–" if pd.isna(lo) or pd.isna(hi) else f"{_num(lo)} to {_num(hi)}"


def _table(scores: pd.DataFrame) -> pd.DataFrame:
    """Every place as readable text: headings in words, ranks as whole numbers, chances as percentages."""
    s = scores
    return pd.DataFrame({
        "Place": s["areanm"], "Code": s["areacd"],
        "Rank": [ui.fmt(r, decimals=0) for r in s["rank"]],
        "Rank range (90%)": [_rank_span(lo, hi) for lo, hi in zip(s["rank_lo"], s["rank_hi"])],
        "Ranked within": s["rank_scope"].fillna("–"),
        "Overall score": [_num(v) for v in s["overall"]],
        "Economy score": [_num(v) for v in s["economy"]],
        "Public services score": [_num(v) for v in s["public_services"]],
        "Reading": s["quadrant"].fillna("too few indicators"),
        "Chance of this reading": [_pct(v) for v in s["quadrant_probability"]],
        "Economy change": [_num(v) for v in s["economy_change"]],
        "Economy change (90% range)": [_range(a, b) for a, b in zip(s["economy_change_lo"], s["economy_change_hi"])],
        "Public services change": [_num(v) for v in s["public_services_change"]],
        "Public services change (90% range)": [_range(a, b) for a, b in
                                               zip(s["public_services_change_lo"], s["public_services_change_hi"])],
        "Economy weight published": [_pct(v) for v in s["economy_coverage"]],
        "Public services weight published": [_pct(v) for v in s["public_services_coverage"]],
        "Change window": s["change_window"],
        "Latest periods": s["periods_latest"].fillna("–"),
        "Baseline periods": s["periods_baseline"].fillna("–"),
    })


def _rank_span(lo: float, hi: float) -> str:
    if pd.isna(lo) or pd.isna(hi):
        return "–"
    return f"{int(lo)} (every draw)" if lo == hi else f"{int(lo)}–{int(hi)}"


def _quadrant_chart(scores: pd.DataFrame, place: str | None) -> None:
    """The quadrant of every place, the chosen one marked."""
    st.vega_lite_chart(spec=charts.quadrant(scores, place, QUADRANT_COLOURS, MIN_CHART_WIDTH, 520), width="content")
    counts = scores.dropna(subset=["economy_change", "public_services_change"])["quadrant"].value_counts()
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
    """The chosen place's quadrant in words, with its uncertainty."""
    row = scores.loc[scores["areacd"] == place]
    if row.empty:
        st.info("The chosen place has too little data to be scored at this level.")
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
    st.caption(f"Its pillar scores draw on {_pct(r['economy_coverage'])} of the economy weight and "
               f"{_pct(r['public_services_coverage'])} of the public-services weight.")


def _rank_reading(scores: pd.DataFrame, place: str) -> None:
    """The chosen place's overall rank under the chosen weight, with its range and neighbours' chances."""
    row = scores.loc[scores["areacd"] == place]
    if row.empty:
        return
    r = row.iloc[0]
    if pd.isna(r["rank"]):
        st.markdown(f"{ui.md(r['areanm'])} has no overall rank: too little of the weight of its indicators is "
                    "published for it.")
        return
    if r["rank_lo"] == r["rank_hi"]:
        spread = (f"it takes that rank in every one of the 1,000 re-scorings, allowing for the published confidence "
                  f"intervals, the weights, the scaling method and the coverage rule")
    else:
        spread = (f"the 90% range is {int(r['rank_lo'])} to {int(r['rank_hi'])}, allowing for the published "
                  f"confidence intervals, the weights, the scaling method and the coverage rule")
    lines = [f"Among {int(r['areas_ranked'])} places in {r['rank_scope']}, {ui.md(r['areanm'])} ranks "
             f"**{int(r['rank'])}**; {spread}."]
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


def _rank_intervals(scores: pd.DataFrame, place: str | None) -> None:
    """Rank intervals of the top 15, the bottom 5 and the chosen place."""
    scope = _rank_scope(scores, place)
    ranked = scores.dropna(subset=["rank"])
    ranked = ranked.loc[ranked["rank_scope"] == scope].sort_values("rank")
    picks = pd.concat([ranked.head(15), ranked.tail(5), ranked.loc[ranked["areacd"] == place]]).drop_duplicates("areacd")
    st.vega_lite_chart(spec=charts.rank_intervals(picks, place, scope, MIN_CHART_WIDTH), width="content")
    st.caption(f"Ranks are within {scope}: the nations publish different public-service "
               "indicators, so a UK-wide league table would mix them. The top 15, the bottom 5 and the chosen place (red); each line is the "
               "range holding the place's rank in 90% of 1,000 re-scorings. Whether two places can be told apart "
               "is a chance, not whether their lines overlap: hover for the chance each ranks above the next place.")


def _rank_scope(scores: pd.DataFrame, place: str | None) -> str:
    ranked = scores.dropna(subset=["rank"])
    chosen = ranked.loc[ranked["areacd"] == place]
    return chosen["rank_scope"].iloc[0] if len(chosen) else ranked["rank_scope"].value_counts().index[0]


with ui.friendly_errors():
    main()
ui.footer()
