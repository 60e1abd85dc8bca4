"""What matters here? A resident chooses their place, rates how much each theme matters to them and may
say what good growth would look like there. Enough responses make community weights the good-growth
page can score the place with. Local mode adds an export and a moderation view."""
from __future__ import annotations

import streamlit as st

from data_sources.settings import get_settings
from indicators.place_search import Match
from indicators.priorities import (MAX_TEXT_CHARS, MIN_RESPONSES, THEME_LABELS, THEMES, CommunityWeights,
                                   PrioritiesError, ResponseStore)
from indicators.priorities.store import submission
from indicators.priorities.ratelimit import window_words
from indicators.priorities.themes import DEFAULT_RATING, SCALE
from app_pages import common as ui
from app_pages import residents

GOOD_GROWTH = "app_pages/good_growth.py"
SHOWN_ANSWERS = 20
DONE_KEY = "_priorities_done"  # places this session has answered for, to thank rather than ask again


def privacy(rate_limit: str) -> str:
    """The privacy note; how long the rate limit's record is kept follows the configured limit."""
    kept = window_words(rate_limit)
    return (
        "**What is stored.** The place you chose, your ten ratings, your answer to the last question if you "
        "give one, the date and time, and a random code made for this browser session so that one session "
        "answers once per place. Nothing else: no name, e-mail, address, IP address or cookie identifier is "
        "stored with your answer. To limit how many responses one connection can send, the time of your "
        "response is also stored with a scrambled code made from your connection's address (a keyed hash; "
        f"the address itself is never stored), apart from your answer and not linked to it; that record is "
        f"deleted once it is {kept} old, when the next response arrives. Please do not "
        "write personal details in your answer; answers can be shown to other visitors, and the dashboard's "
        "maintainers can hide any answer.")


def main() -> None:
    st.title("What matters here?")
    st.markdown(
        "Good growth means different things in different places. Tell us how much each of ten themes matters "
        "to you where you live. Once enough residents of a place have answered, their priorities can weight "
        "the place's good-growth score instead of the default even split between the economy and public "
        "services.")
    ui.created_at()  # the place search needs the data: say so here if it cannot load
    store = residents.store()
    if store is None:
        st.error(residents.UNAVAILABLE)
        return
    text = st.text_input("Your place: a postcode, a place name or an ONS code", key="priorities_search",
                         placeholder="e.g. LS1 4AP, Leeds or E08000035")
    place = ui.choose_place(text, key="prio_pick")
    with st.expander("Privacy: what is stored"):
        st.markdown(privacy(get_settings().priorities_rate_limit))
    if place is None:
        return
    ui.set_params(place=place.areacd)
    ui.keep_place(place.areacd, place.level)
    cw = store.community(place.areacd)
    _community(place, cw)
    _form(store, place)
    _answers(store, place)
    if not ui.public_mode():
        _moderation(store, place)


def _community(place: Match, cw: CommunityWeights) -> None:
    st.header(f"What residents of {place.areanm} said")
    if not cw.enough:
        said = "No one has" if cw.n == 0 else f"{cw.n} {'resident has' if cw.n == 1 else 'residents have'}"
        st.info(f"{ui.md(said)} shared their priorities for {ui.md(place.areanm)} so far. Community weights need "
                f"at least {MIN_RESPONSES} responses: **{cw.needed} more** are needed.")
        return
    first, last = (t.strftime("%d %b %Y") for t in (cw.first, cw.last))
    table = cw.themes.assign(interval=[f"{lo:.1f} to {hi:.1f}" for lo, hi in zip(cw.themes["lo"], cw.themes["hi"])])
    table = table.sort_values("mean", ascending=False)[["label", "mean", "interval"]]
    table.columns = ["Theme", "Mean rating (0–10)", "95% interval"]
    st.markdown(f"**{cw.n} responses** between {first} and {last}.")
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "Mean rating (0–10)": st.column_config.NumberColumn(format="%.1f")})
    st.markdown(f"Weight on the economy from residents' priorities: **{cw.economy_share:.0%}** (95% interval "
                f"{cw.economy_share_lo:.0%} to {cw.economy_share_hi:.0%}); the rest on public services.")
    st.page_link(GOOD_GROWTH, label=f"Score {place.areanm} with its residents' priorities",
                 icon=":material/trending_up:", query_params={"place": place.areacd, "residents": "1"})
    st.caption("Each interval is the mean ± t × standard error (Student's t, 95%). Responses are from "
               "people who chose to answer, not a random sample of residents.")


def _form(store: ResponseStore, place: Match) -> None:
    st.header("Share your priorities")
    token = residents.session_token()
    done = st.session_state.setdefault(DONE_KEY, [])
    if place.areacd in done or store.has_answered(place.areacd, token):
        st.success(f"Thank you: your priorities for {ui.md(place.areanm)} are saved. One response per place "
                   "from each browser session.")
        return
    with st.form(f"priorities_form_{place.areacd}", clear_on_submit=False):
        st.markdown(f"How much does each of these matter to you in **{ui.md(place.areanm)}**? "
                    f"{SCALE[0]} = not at all, {SCALE[1]} = matters most. Leave a slider at {DEFAULT_RATING} "
                    "if you have no view.")
        ratings = {t: st.slider(THEME_LABELS[t], SCALE[0], SCALE[1], DEFAULT_RATING, key=f"prio_{t}")
                   for t in THEMES}
        text = st.text_area("What would good growth look like here? (optional)", max_chars=MAX_TEXT_CHARS,
                            key="prio_text", help="Please leave out names and other personal details.")
        sent = st.form_submit_button("Submit my priorities", type="primary")
    if not sent:
        return
    try:
        sub = submission(areacd=place.areacd, session_token=token, ratings=ratings, free_text=text)
        if store.has_answered(place.areacd, token):
            raise PrioritiesError("you have already shared your priorities for this place in this browser session")
        client = residents.client_address()
        residents.limiter().test(client)  # cheap: over budget on this replica already
        store.submit(sub, client=client)  # the budget every replica shares, kept in the database
        residents.limiter().hit(client)
    except PrioritiesError as exc:
        st.warning(f"Your response was not saved: {ui.md(exc)}.")
        return
    done.append(place.areacd)
    st.success(f"Thank you: your priorities for {ui.md(place.areanm)} are saved.")


def _answers(store: ResponseStore, place: Match) -> None:
    answers = store.free_text(place.areacd, limit=SHOWN_ANSWERS)
    if answers.empty:
        return
    st.header("What good growth would look like here")
    st.caption(f"The newest {len(answers)} answers, as residents wrote them.")
    for text in answers["text"]:
        with st.container(border=True):
            st.markdown(ui.md(text))  # escaped: an answer is shown as text, never as HTML or a link


def _moderation(store: ResponseStore, place: Match) -> None:
    """Local mode only: hide or restore a free-text answer, and export the responses as CSV."""
    with st.expander("Moderate and export (local mode only)"):
        export = store.export(place.areacd)
        ui.download_csv(export, f"priorities-{place.areacd}.csv", "Download this place's responses (CSV)")
        answers = store.free_text(place.areacd, include_hidden=True, limit=200)
        if answers.empty:
            st.caption("No free-text answers to moderate.")
            return
        for row in answers.itertuples():
            cols = st.columns([5, 1])
            cols[0].markdown(("~~hidden~~ " if row.hidden else "") + ui.md(row.text))
            cols[1].button("Show" if row.hidden else "Hide", key=f"prio_mod_{row.id}",
                           on_click=store.set_text_hidden, args=(int(row.id), not row.hidden))


with ui.friendly_errors():
    main()
ui.footer()
