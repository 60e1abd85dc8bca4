"""Home: what Good Growth is, one search box (postcode, place name or code), and the chosen place's
verdict card in words, with its uncertainty, and a way into every page."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from indicators import query, scoring, significance
from indicators.catalogue import PILLAR_LABELS
from indicators.place_search import LEVEL_WORDS, Match
from app_pages import common as ui

MAP, PROFILE, COMPARE = "app_pages/map_explorer.py", "app_pages/place_profile.py", "app_pages/compare.py"
GOOD_GROWTH, PLAN, DATA = "app_pages/good_growth.py", "app_pages/plan_evaluation.py", "app_pages/data_methods.py"
# Links made when the map was the landing page (/?indicator=…&level=…) still open the map.
MAP_PARAMS = ("indicator", "level", "period", "benchmark")
SCORED_LEVELS = {"ltla": "districts", "utla": "upper-tier authorities", "combined_authority": "combined authorities",
                 "region": "regions"}
QUADRANT_WORDS = {
    "good growth": ("Good growth", "both its economy and its public-service outcomes improved more than the "
                    "average {kind}'s"),
    "growth without outcomes": ("Growth without better outcomes", "its economy improved more than the average "
                                "{kind}'s, but its public-service outcomes improved less"),
    "outcomes without growth": ("Better outcomes without growth", "its public-service outcomes improved more than "
                                "the average {kind}'s, but its economy improved less"),
    "neither": ("Neither", "its economy and its public-service outcomes both improved less than the average {kind}'s"),
    "no clear difference": ("No clear difference", "its changes cannot be told apart from the average {kind}'s "
                            "once the uncertainty in the data is allowed for"),
}
SHOWN = 3  # strengths and weaknesses on the card


def main() -> None:
    if any(ui.param(p) for p in MAP_PARAMS):
        st.switch_page(MAP, query_params=st.query_params.to_dict())
    st.title("Good Growth")
    st.markdown(
        "Is a place's growth **good growth**? Good growth shows up in people's lives — health, schools, child "
        "poverty, housing, crime, wellbeing — as well as in the economy — pay, jobs, productivity, new "
        "businesses. This dashboard checks both for every UK council area, over the immediate (up to 2 years), "
        "medium (3–5 years) and long term (6–15 years), with the uncertainty in the data stated.")
    ui.created_at()  # the data must load before a search can be answered: say so here if it cannot
    text = st.text_input("Find your place: a postcode, a place name or an ONS code", key="home_search",
                         placeholder="e.g. LS1 4AP, Leeds or E08000035",
                         help="A full postcode (LS1 4AP), its first part (LS1), a council, county, combined "
                              "authority, region or nation, spelt roughly, or its ONS code, old codes included.")
    chosen = ui.choose_place(text, key="pick")
    if chosen is not None:
        ui.set_params(place=chosen.areacd)
        ui.keep_place(chosen.areacd, chosen.level)
        _card(chosen)
    elif text.strip():
        ui.set_params(place=None)  # the link should not keep a place the page no longer shows
    else:
        st.caption("Or start from one of the pages below.")
    _entry_points(chosen)


@st.cache_data(show_spinner="Scoring every place…", max_entries=8)
def _scores(created_at: str, level: str) -> pd.DataFrame:
    return scoring.score_places(ui.ctx(), scoring.Options(level=level))


def _benchmark(areacd: str, level: str) -> str:
    """The place's own nation (England for England's places), or the UK for a nation itself."""
    if level == "country":
        return query.UK
    nation = query.nation_of(areacd)
    code = query.COUNTRY_CODES.get(nation or "E", query.ENGLAND)
    return code if code in ui.ctx().names.index else query.ENGLAND


def _card(place: Match) -> None:
    c = ui.ctx()
    bench = _benchmark(place.areacd, place.level)
    bench_name = query.area_name(c, bench)
    with st.container(border=True):
        st.subheader(f"{place.areanm} ({place.areacd})")
        st.caption(ui.md(f"A {LEVEL_WORDS.get(place.level, place.level)}, compared with {bench_name} and with "
                         f"other {SCORED_LEVELS.get(place.level, 'places')}."))
        _position(place)
        _strengths(place, bench, bench_name, SCORED_LEVELS.get(place.level, "areas"))
        _links(place)


def _position(place: Match) -> None:
    kind = SCORED_LEVELS.get(place.level)
    if kind is None:
        st.markdown("**Good-growth position:** nations are not ranked against each other; the profile compares "
                    f"{ui.md(place.areanm)} with the United Kingdom indicator by indicator.")
        return
    scores = _scores(ui.created_at(), place.level)
    row = scores.loc[scores["areacd"] == place.areacd]
    if row.empty or pd.isna(row["quadrant"].iloc[0]):
        st.markdown(f"**Good-growth position:** not enough indicators have a baseline to judge how "
                    f"{ui.md(place.areanm)} changed.")
        return
    r = row.iloc[0]
    quadrant = str(r["quadrant"])
    title, words = QUADRANT_WORDS.get(quadrant, (quadrant[:1].upper() + quadrant[1:], ""))
    single = kind.removesuffix("s").replace("authoritie", "authority")
    reading = words.format(kind=single)
    chance = _quadrant_chance(r)
    st.markdown(f"**Good-growth position: {ui.md(title)}.** Over about five years, {ui.md(reading)}."
                + (f" {ui.md(chance)}" if chance else ""))
    if pd.notna(r["rank"]):
        rank, lo, hi, n = (int(r[k]) for k in ("rank", "rank_lo", "rank_hi", "areas_ranked"))
        st.markdown(f"**Overall rank:** {_nth(rank)} of {n} {kind} on today's outcomes and economy, and, allowing for "
                    f"the uncertainty in the data, somewhere between {_nth(lo)} and {_nth(hi)} (90% interval; "
                    "1st is best).")
    st.caption("Change compares each indicator's latest period with about five years earlier, standardised so 0 "
               "is the average place; economy and public services weigh half each.")


def _quadrant_chance(r: pd.Series) -> str:
    """The probability of the stated quadrant, where the scores carry one (read generically)."""
    for col in ("quadrant_probability", "quadrant_prob", "p_quadrant"):
        if col in r.index and pd.notna(r[col]):
            return f"Chance this reading is right, given the data's uncertainty: {float(r[col]):.0%}."
    return ""


def _nth(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


def _strengths(place: Match, bench: str, bench_name: str, peers: str) -> None:
    prof = ui.place_profile(ui.created_at(), place.areacd, place.level, bench)
    if prof.empty:
        st.info(f"No indicator is published for {ui.md(place.areanm)} at this level.")
        return
    scored = prof.loc[prof["scored"].astype(bool)]
    better = scored.loc[scored["significance_95"] == "better"].sort_values("percentile", ascending=False)
    worse = scored.loc[scored["significance_95"] == "worse"].sort_values("percentile")
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Strongest: significantly better than {ui.md(bench_name)}**")
        st.markdown(_lines(better.head(SHOWN), bench_name, peers) or f"No indicator is significantly better than "
                    f"{ui.md(bench_name)}.")
    with right:
        st.markdown(f"**Weakest: significantly worse than {ui.md(bench_name)}**")
        st.markdown(_lines(worse.head(SHOWN), bench_name, peers) or f"No indicator is significantly worse than "
                    f"{ui.md(bench_name)}.")
    counts = scored["significance_95"].value_counts()
    st.caption(ui.md(f"Of {len(scored)} scored indicators, {int(counts.get('better', 0))} are significantly better "
                     f"than {bench_name}, {int(counts.get('similar', 0))} similar and {int(counts.get('worse', 0))} "
                     f"worse (95% confidence); {int(counts.get('not compared', 0))} are not compared (no published "
                     "confidence interval or no benchmark value). "
                     f"{significance.chance_note(int(counts.get('better', 0) + counts.get('similar', 0) + counts.get('worse', 0)))} "
                     "The profile lists every one."))


def _unit(value: float, unit: str) -> str:
    text = ui.fmt(value, unit)
    return text if unit in ("%", "£", "£ million", "") else f"{text} {unit}".replace("yrs", "years")


def _position_words(percentile: float, peers: str) -> str:
    """Where the value sits among the other areas, the way a person would say it."""
    if pd.isna(percentile):
        return ""
    if percentile >= 50:
        return f"; better than {percentile:.0f}% of {peers}"
    return f"; worse than {100 - percentile:.0f}% of {peers}"


def _lines(rows: pd.DataFrame, bench_name: str, peers: str) -> str:
    out = []
    for r in rows.itertuples():
        pillar = PILLAR_LABELS.get(r.pillar, r.pillar)
        position = _position_words(r.percentile, peers)
        out.append(f"- **{ui.md(r.label)}** ({ui.md(pillar.lower())}): {ui.md(_unit(r.value, r.unit))} against "
                   f"{ui.md(_unit(r.benchmark_value, r.unit))} for {ui.md(bench_name)}, {ui.md(r.period_label)}"
                   f"{position}")
    return "\n".join(out)


def _links(place: Match) -> None:
    level = place.level if place.level in ui.LEVEL_LABELS else "ltla"
    here = {"place": place.areacd, **({} if level == "ltla" else {"level": level})}
    cols = st.columns(5)
    cols[0].page_link(PROFILE, label="Full profile", icon=":material/location_on:", query_params=here)
    cols[1].page_link(MAP, label="On the map", icon=":material/map:", query_params=here)
    cols[2].page_link(COMPARE, label="Compare it", icon=":material/compare_arrows:",
                      query_params={"places": place.areacd})
    cols[3].page_link(GOOD_GROWTH, label="Good growth chart", icon=":material/trending_up:", query_params=here)
    cols[4].page_link(PLAN, label="Check a plan", icon=":material/checklist:", query_params=here)


ENTRY_POINTS = [
    (MAP, "Map explorer", ":material/map:", "Any indicator mapped for every area, with a ranked table."),
    (PROFILE, "Place profile", ":material/location_on:", "Every indicator for one place against a benchmark."),
    (COMPARE, "Compare places", ":material/compare_arrows:", "Up to ten places, or your own group, side by side."),
    (GOOD_GROWTH, "Good growth", ":material/trending_up:", "Every place's economy against its outcomes."),
    (PLAN, "Plan evaluation", ":material/checklist:", "A growth plan's targets checked against the data."),
    (DATA, "Data & methods", ":material/description:", "Sources, licences, methods and downloads."),
]


def _entry_points(place: Match | None) -> None:
    st.header("Explore")
    here = {"place": place.areacd} if place else None
    for row in range(0, len(ENTRY_POINTS), 3):  # row by row, so a phone stacks them in this order
        for col, (page, title, icon, blurb) in zip(st.columns(3), ENTRY_POINTS[row:row + 3]):
            with col:
                st.page_link(page, label=title, icon=icon, query_params=here if page != DATA else None)
                st.caption(blurb)


with ui.friendly_errors():
    main()
ui.footer()
