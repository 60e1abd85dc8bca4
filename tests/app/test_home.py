"""The home page under AppTest on the committed snapshot: the newcomer's search (postcode, outcode,
name, code, old code) opens the place's verdict card, and every kind of text that finds nothing says
why. Old links to the map (made when the map was the landing page) still open the map."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.support.apptest import assert_clean, texts

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TIMEOUT = 180
LEEDS = "E08000035"


def home(params: dict[str, str] | None = None, search: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(params or {})
    at.run()
    if search is not None:
        at.text_input(key="home_search").input(search).run()
    return at




def card_title(at: AppTest) -> str | None:
    return at.subheader[0].value if len(at.subheader) else None


def links(at: AppTest) -> dict[str, str]:
    """Each page link's label → its URL path and query."""
    return {e.proto.label: f"{e.proto.page}?{e.proto.query_string}" for e in at.get("page_link")}


def test_home_says_what_good_growth_is_and_offers_one_search(caplog):
    at = home()
    assert_clean(at, caplog)
    assert [t.value for t in at.title] == ["Good Growth"]
    intro = texts(at)
    for words in ("good growth", "economy", "immediate (up to 2 years)", "medium (3–5 years)", "long term (6–15 years)"):
        assert words in intro
    assert "postcode" in at.text_input(key="home_search").label
    assert card_title(at) is None
    assert {"Map explorer", "Place profile", "Compare places", "Good growth", "Plan evaluation",
            "Data & methods"} <= set(links(at))


def test_a_postcode_opens_the_places_verdict_card(caplog):
    at = home(search="LS1 4AP")
    assert_clean(at, caplog)
    assert card_title(at) == f"Leeds ({LEEDS})"
    assert at.query_params.get("place") == LEEDS
    text = texts(at)
    assert "Good-growth position:" in text
    assert "Overall rank:" in text and "90% interval" in text
    assert "Strongest: significantly better than England" in text
    assert "Weakest: significantly worse than England" in text
    assert "Median weekly pay" in text and "£" in text  # formatted with its unit
    page_links = links(at)
    assert "place=E08000035" in page_links["Full profile"] and "profile" in page_links["Full profile"]
    assert "places=E08000035" in page_links["Compare it"]
    assert {"On the map", "Good growth chart", "Check a plan"} <= set(page_links)


@pytest.mark.parametrize("typed", ["ls14ap", "  LS1   4AP ", "Ls1 4ap"])
def test_postcodes_are_read_whatever_the_case_and_spacing(typed, caplog):
    at = home(search=typed)
    assert_clean(at, caplog)
    assert card_title(at) == f"Leeds ({LEEDS})"


def test_the_card_reads_the_quadrant_and_rank_interval_in_words(caplog):
    at = home(search="Leeds")
    assert_clean(at, caplog)
    text = texts(at)
    assert "somewhere between" in text and "1st is best" in text
    assert "average district" in text  # the quadrant is relative to the average place, and says so


def test_an_outcode_shows_its_main_district_and_offers_the_others(caplog):
    at = home(search="SW1A")
    assert_clean(at, caplog)
    assert card_title(at) == "Westminster (E09000033)"
    labels = [b.label for b in at.button]
    assert any("Wandsworth" in b and "%" in b for b in labels)
    next(b for b in at.button if "Wandsworth" in b.label).click().run()
    assert_clean(at, caplog)
    assert card_title(at) == "Wandsworth (E09000032)"


def test_an_outcode_in_one_district_opens_it(caplog):
    at = home(search="LS1")
    assert_clean(at, caplog)
    assert card_title(at) == f"Leeds ({LEEDS})"


def test_an_ambiguous_name_asks_which_place(caplog):
    at = home(search="newcastle")
    assert_clean(at, caplog)
    assert card_title(at) is None
    assert "places match" in texts(at)
    next(b for b in at.button if "Newcastle upon Tyne" in b.label).click().run()
    assert_clean(at, caplog)
    assert card_title(at) == "Newcastle upon Tyne (E08000021)"
    assert at.query_params.get("place") == "E08000021"


def test_a_misspelt_name_still_finds_the_place(caplog):
    at = home(search="Leds")
    assert_clean(at, caplog)
    assert card_title(at) == f"Leeds ({LEEDS})"


@pytest.mark.parametrize(("typed", "why"), [
    ("ZZ9 9ZZ", "not in the ONS Postcode Directory"),
    ("LS1 4A", "not a UK postcode"),
    ("QQ1 1AA", "no postcode area starts with"),
    ("JE2 3AB", "Channel Islands"),
    ("AB11 3AG", "no local authority district"),
    ("Xyzzy", "No place is called"),
    ("E99999999", "No area has the code"),
])
def test_text_that_finds_nothing_says_why(typed, why, caplog):
    at = home(search=typed)
    assert_clean(at, caplog)
    assert card_title(at) is None
    assert any(why in w.value.replace("\\", "") for w in at.warning), [w.value for w in at.warning]


def test_a_terminated_postcode_still_finds_where_it_was(caplog):
    """The directory keeps terminated postcodes with their last district (AB1 was split in the 1990s)."""
    at = home(search="AB1 0AA")
    assert_clean(at, caplog)
    assert card_title(at) == "Aberdeen City (S12000033)"


def test_a_scottish_place_is_compared_with_scotland(caplog):
    at = home(search="Glasgow")
    assert_clean(at, caplog)
    assert card_title(at) == "Glasgow City (S12000049)"
    assert "compared with Scotland" in texts(at)


@pytest.mark.parametrize(("code", "title", "kind"), [
    ("E47000003", "West Yorkshire (E47000003)", "combined authorities"),
    ("E12000003", "Yorkshire and The Humber (E12000003)", "regions"),
])
def test_combined_authority_and_region_codes(code, title, kind, caplog):
    at = home(search=code)
    assert_clean(at, caplog)
    assert card_title(at) == title
    assert kind in texts(at)
    assert f"level={'combined_authority' if code.startswith('E47') else 'region'}" in links(at)["Full profile"]


def test_a_nation_is_not_ranked_but_still_has_a_card(caplog):
    at = home(search="England")
    assert_clean(at, caplog)
    assert card_title(at) == "England (E92000001)"
    assert "nations are not ranked" in texts(at)


def test_an_old_code_opens_its_successor_with_a_notice(caplog):
    at = home(search="E08000016")
    assert_clean(at, caplog)
    assert card_title(at) == "Barnsley (E08000038)"
    assert any("was recoded as Barnsley (E08000038)" in i.value.replace("\\", "") for i in at.info)


def test_an_abolished_districts_name_opens_the_council_that_replaced_it(caplog):
    at = home(search="Harrogate")
    assert_clean(at, caplog)
    assert card_title(at) == "North Yorkshire (E06000065)"
    assert any("became part of North Yorkshire" in i.value.replace("\\", "") for i in at.info)


def test_a_shared_link_opens_the_card(caplog):
    at = home({"place": LEEDS})
    assert_clean(at, caplog)
    assert card_title(at) == f"Leeds ({LEEDS})"


def test_an_unknown_place_in_the_link_shows_no_card(caplog):
    at = home({"place": "X99999999"})
    assert_clean(at, caplog)
    assert card_title(at) is None


def test_the_chosen_place_carries_to_the_next_page(caplog):
    at = home(search="LS1 4AP")
    at.switch_page("app_pages/place_profile.py").run()
    assert_clean(at, caplog)
    assert at.selectbox(key="place_select").value == LEEDS


@pytest.mark.parametrize("params", [{"indicator": "gross-median-weekly-pay", "level": "utla"},
                                    {"level": "utla"}, {"period": "2019"}])
def test_old_map_links_to_the_root_still_open_the_map(params, caplog):
    at = home(params)
    assert_clean(at, caplog)
    assert [t.value for t in at.title] == ["Map explorer"]
    assert at.selectbox(key="level_select").value == params.get("level", "ltla")
    if "indicator" in params:
        assert at.selectbox(key="indicator_select").value == params["indicator"]


@pytest.fixture
def scores_saying(monkeypatch):
    """Make score_places report a chosen quadrant (and optionally its probability) for every place,
    so the card's reading of any verdict, including one added later, can be checked."""
    import streamlit as st

    from indicators import scoring

    real = scoring.score_places

    def install(quadrant, **extra):
        def fake(ctx, options=scoring.Options()):
            return real(ctx, options).assign(quadrant=quadrant, **extra)
        monkeypatch.setattr(scoring, "score_places", fake)
        st.cache_data.clear()
    yield install
    st.cache_data.clear()


def test_no_clear_difference_is_read_as_such_with_its_probability(scores_saying, caplog):
    scores_saying("no clear difference", quadrant_probability=0.42)
    at = home(search="Leeds")
    assert_clean(at, caplog)
    text = texts(at)
    assert "Good-growth position: No clear difference." in text
    assert "cannot be told apart from the average district" in text
    assert "42%" in text


def test_a_verdict_the_card_does_not_know_is_shown_as_written(scores_saying, caplog):
    scores_saying("growth with mixed outcomes")
    at = home(search="Leeds")
    assert_clean(at, caplog)
    assert "Good-growth position: Growth with mixed outcomes." in texts(at)


def test_a_place_without_a_quadrant_says_why(scores_saying, caplog):
    scores_saying(None)
    at = home(search="Leeds")
    assert_clean(at, caplog)
    assert "not enough indicators have a baseline" in texts(at)
