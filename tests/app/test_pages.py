"""Every page of the dashboard under Streamlit's AppTest, on the committed snapshot: default inputs,
places with little data, unknown codes in the URL, old and malformed periods, every level, every
benchmark, indicators not published at a level, custom footprints, extreme weights, every example
plan and hostile uploads.

Pages catch every exception and show a friendly st.error, so "no exception" is not enough: a test
also fails on the catch-all message ("Sorry, something went wrong"), which only a bug shows, and
prints the traceback the page logged.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from tests.support.apptest import assert_clean, texts  # noqa: F401 (used here and by other page tests)

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TIMEOUT = 180  # the first run builds the caches (5-10 s here); CI machines can be slower

MAP = "app_pages/map_explorer.py"
PROFILE = "app_pages/place_profile.py"
COMPARE = "app_pages/compare.py"
GOOD_GROWTH = "app_pages/good_growth.py"
PLAN = "app_pages/plan_evaluation.py"
DATA = "app_pages/data_methods.py"
TITLES = {MAP: "Map explorer", PROFILE: "Place profile", COMPARE: "Compare places", GOOD_GROWTH: "Good growth",
          PLAN: "Plan evaluation", DATA: "Data & methods"}
PAGES = list(TITLES)
# The sidebar controls each page draws (a control that would change nothing there is hidden; its value
# still travels in the URL). Pages not listed draw all four.
CONTROLS = {COMPARE: ("place_select", "benchmark_select"),
            GOOD_GROWTH: ("place_select", "level_select", "period_input"),
            PROFILE: ("place_select", "level_select", "benchmark_select")}
PARAM_OF = {"place_select": "place", "level_select": "level", "period_input": "period", "benchmark_select": "benchmark"}
DEFAULTS = {"level_select": "ltla", "period_input": "latest", "benchmark_select": "nation"}
IDS = [Path(p).stem for p in PAGES]

LEEDS, SCILLY, CITY = "E08000035", "E06000053", "E09000001"
EXAMPLES = sorted(p.name for p in (ROOT / "plans" / "examples").glob("*.yaml"))

REGION_BUG = ("BUG: indicators/views.py map_view() appends the devolved nations to the region list "
              "(lines 22-25) but query.current_areas(ctx, 'region') already holds N92000002, S92000003 and "
              "W92000004, so query.matrix() gets duplicate codes and raises InvalidIndexError "
              "(indicators/query.py:296, in matrix()); the page shows the catch-all error.")


def open_page(page: str, params: dict[str, str] | None = None, state: dict | None = None) -> AppTest:
    """Run the app with the URL's query params, go to `page`, and set any widget state first."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()  # the default page (home); st.navigation registers the pages here
    at.switch_page(page)
    # the link's parameters reach the page itself, as a link to /map?… or /profile?… does (given to
    # home first, map parameters would be handled there and forwarded before the page under test runs)
    at.query_params.clear()
    at.query_params.update(params or {})
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    return at




def control_value(at: AppTest, page: str, key: str) -> str | None:
    """The sidebar control's value where the page draws it, else the value carried in the URL."""
    if key in CONTROLS.get(page, tuple(PARAM_OF)):
        widget = at.text_input(key=key) if key == "period_input" else at.selectbox(key=key)
        return widget.value
    drawn = [w.key for w in (*at.selectbox, *at.text_input)]
    assert key not in drawn, f"{key} should be hidden on {page}"
    return at.query_params.get(PARAM_OF[key], DEFAULTS.get(key))


def assert_title_and_footer(at: AppTest, page: str) -> None:
    assert [t.value for t in at.title] == [TITLES[page]]
    assert any("Open Government Licence" in c.value for c in at.caption), "attribution footer missing"


# ---------------------------------------------------------------- default inputs

@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_every_page_runs_with_default_inputs(page, caplog):
    at = open_page(page)
    assert_clean(at, caplog)
    assert_title_and_footer(at, page)
    assert at.selectbox(key="place_select").value is None
    assert control_value(at, page, "level_select") == "ltla"
    assert control_value(at, page, "period_input") == "latest"
    assert control_value(at, page, "benchmark_select") == "nation"


def svg_maps(at: AppTest) -> list[str]:
    """The SVG maps a run drew (the map explorer's default view)."""
    return [m.value for m in at.markdown if '<svg class="gg-map"' in m.value]


def ranked_table(at: AppTest):
    """The map page's ranked table (HTML in the page) as a frame of its cells' text, by header."""
    import html as html_lib

    import pandas as pd

    (table,) = [m.value for m in at.markdown if '<div class="gg-table"' in m.value]
    heads = [html_lib.unescape(h) for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table)]
    rows = [[html_lib.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
            for r in re.findall(r"<tr>(<td.*?)</tr>", table)]
    return pd.DataFrame(rows, columns=heads)


def maps_drawn(at: AppTest) -> int:
    return len(svg_maps(at)) + len(at.get("deck_gl_json_chart"))


def test_map_page_draws_a_choropleth_with_legend_and_ranked_table(caplog):
    at = open_page(MAP)
    assert_clean(at, caplog)
    assert len(at.get("deck_gl_json_chart")) == 0  # the WebGL map only when asked for
    (drawing,) = svg_maps(at)
    paths = re.findall(r'<title>([^<]*)</title><path d="M[^"]+" fill="(#[0-9a-f]{6})"/>', drawing)
    paths = [(fill, label) for label, fill in paths]
    assert len(paths) > 300  # every district with a boundary, each coloured and labelled
    assert len(set(f for f, _ in paths)) >= 7  # seven classes and grey for no data
    assert drawing.count('<a href="/profile?place=E0') > 290  # each area links to its profile
    assert 'aria-label="Map of Child poverty' in drawing and "<title>Map of Child poverty" in drawing
    assert "\n" not in drawing  # one line: Markdown passes it through as raw HTML
    assert at.selectbox(key="indicator_select").value == "children-in-relative-poverty-before-housing-costs"
    assert "Map legend" in texts(at) and "No data" in texts(at)
    assert "Ranked, with uncertainty" in [s.value for s in at.header]
    # Child poverty is published without confidence intervals: no range that only repeats the rank.
    assert "no area can be compared" in texts(at) and "cannot show their uncertainty" in texts(at)
    ranked = ranked_table(at)
    assert "Rank range (90%)" not in ranked.columns and "Lower 95% CI" not in ranked.columns
    assert len(ranked) > 300 and ranked["Rank"].iloc[0] == "1"
    assert len(at.dataframe) == 0  # no data grid (1.2 MB of JavaScript) before the first row
    assert at.query_params.get("indicator") == "children-in-relative-poverty-before-housing-costs"
    assert "view" not in at.query_params


def test_map_page_draws_the_webgl_map_when_asked(caplog):
    at = open_page(MAP, {"view": "interactive"})
    assert_clean(at, caplog)
    assert svg_maps(at) == []
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.json)
    (areas,) = [layer for layer in spec["layers"] if layer["id"] == "areas"]
    assert areas["@@type"] == "GeoJsonLayer"
    assert len(areas["data"]["features"]) > 300  # every district with a boundary
    assert all(f["properties"].get("areacd") for f in areas["data"]["features"])
    # Borders are one path layer: a stroked polygon layer costs ~2 s per draw in software WebGL.
    assert areas.get("stroked") is False
    (borders,) = [layer for layer in spec["layers"] if layer["id"] == "borders"]
    assert borders["@@type"] == "PathLayer" and len(borders["data"]) > 300
    # flat XY paths, declared so: deck.gl draws nothing if flat paths are not declared open XY
    assert borders["_pathType"] == "open" and borders["positionFormat"] == "XY"
    assert all(isinstance(x, float) for x in borders["data"][0]["p"][:4])
    # No basemap, so no third-party requests: Streamlit reads this sentinel as "none".
    assert spec.get("mapProvider") in (None, "") and spec["mapStyle"] == "__MAP_STYLE__"
    assert "\n" not in charts[0].proto.json  # compact: pydeck pretty-prints by default
    assert charts[0].proto.alt.startswith("Map of Child poverty")  # a text alternative for screen readers
    assert "Map legend" in texts(at)
    assert at.query_params.get("view") == "interactive"


def test_both_maps_colour_areas_alike(caplog):
    """The drawing shown first is the same map as the WebGL one: same colours for the same areas."""
    at = open_page(MAP, {"indicator": "gross-median-weekly-pay", "colour": "verdict"})
    (drawing,) = svg_maps(at)
    svg_fill = dict(re.findall(r'<a href="/profile\?place=([A-Z0-9]+)[^"]*"[^>]*><title>[^<]*</title><path d="[^"]+" fill="(#[0-9a-f]{6})"',
                               drawing))
    at = open_page(MAP, {"indicator": "gross-median-weekly-pay", "colour": "verdict", "view": "interactive"})
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    (areas,) = [layer for layer in spec["layers"] if layer["id"] == "areas"]
    deck_fill = {f["properties"]["areacd"]: "#%02x%02x%02x" % tuple(f["properties"]["fill"][:3])
                 for f in areas["data"]["features"]}
    assert len(svg_fill) > 300 and svg_fill == deck_fill


def test_map_ranks_carry_intervals_where_published(caplog):
    at = open_page(MAP, {"indicator": "gross-median-weekly-pay"})
    assert_clean(at, caplog)
    ranked = ranked_table(at)
    counts = next(m.value for m in at.markdown if "| Compared with England | Areas |" in m.value)
    assert "| better |" in counts and "| worse |" in counts
    assert {"Rank range (90%)", "Lower 95% CI", "Upper 95% CI"} <= set(ranked.columns)
    assert (ranked["Rank range (90%)"] != "–").sum() > 300
    # each area's name links to its profile
    table = next(m.value for m in at.markdown if '<div class="gg-table"' in m.value)
    assert table.count('<a href="/profile?place=') > 300


def test_map_outlines_the_chosen_place(caplog):
    at = open_page(MAP, {"place": LEEDS})
    assert_clean(at, caplog)
    (drawing,) = svg_maps(at)
    assert 'fill="none" stroke="#d50000"' in drawing
    at = open_page(MAP, {"place": LEEDS, "view": "interactive"})
    assert_clean(at, caplog)
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    (outline,) = [layer for layer in spec["layers"] if layer["id"] == "selected"]
    assert outline["@@type"] == "PathLayer" and outline["data"] and outline["getColor"][:3] == [213, 0, 0]


def click_map_area(at: AppTest, areacd: str) -> AppTest:
    """Rerun as the browser does after a click on the map: the deck's selection arrives as the
    pydeck widget's string state. AppTest has no setter for pydeck selections, so this builds the
    WidgetStates message itself (AppTest._run is the hook AppTest's own widgets use)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetStates

    (deck,) = at.get("deck_gl_json_chart")
    states = WidgetStates()
    state = states.widgets.add()
    state.id = deck.proto.id
    state.string_value = json.dumps({"selection": {
        "indices": {"areas": [0]},
        "objects": {"areas": [{"type": "Feature", "properties": {"areacd": areacd}}]}}})
    return at._run(states)


def test_clicking_an_area_leaves_the_map_for_the_profile(caplog):
    at = click_map_area(open_page(MAP, {"view": "interactive"}), LEEDS)
    assert_clean(at, caplog)
    assert [t.value for t in at.title] == ["Place profile"]


def test_clicking_an_area_opens_that_areas_profile(caplog):
    at = click_map_area(open_page(MAP, {"view": "interactive"}), LEEDS)
    assert at.query_params.get("place") == LEEDS
    assert f"Leeds ({LEEDS})" in texts(at)


def test_map_page_writes_the_chosen_indicator_into_the_url(caplog):
    at = open_page(MAP)
    at.selectbox(key="indicator_select").set_value("gross-median-weekly-pay").run()
    assert_clean(at, caplog)
    assert at.query_params.get("indicator") == "gross-median-weekly-pay"
    assert "Median weekly pay" in texts(at)


def test_profile_without_a_place_asks_for_one(caplog):
    at = open_page(PROFILE)
    assert_clean(at, caplog)
    assert any("Choose a place" in i.value for i in at.info)


def test_compare_without_places_asks_for_them(caplog):
    at = open_page(COMPARE)
    assert_clean(at, caplog)
    assert any("Choose places to compare" in i.value for i in at.info)


def test_good_growth_draws_the_quadrant_and_rank_intervals(caplog):
    at = open_page(GOOD_GROWTH)
    assert_clean(at, caplog)
    assert at.slider(key="economy_weight").value == 50
    assert len(at.get("vega_lite_chart")) >= 2
    assert "Overall rank with uncertainty" in [s.value for s in at.header]


def test_data_page_has_every_tab_and_download(caplog):
    at = open_page(DATA)
    assert_clean(at, caplog)
    assert [t.label for t in at.tabs] == ["Indicators", "Sources and licences", "Coverage", "Methods", "Downloads",
                                         "Snapshot manifest"]
    labels = [d.label for d in at.download_button]
    assert {"CSV", "GeoJSON", "Download manifest.json"} <= set(labels)


def test_data_page_catalogue_search_filters(caplog):
    at = open_page(DATA)
    total = len(at.dataframe[0].value)
    at.text_input(key="cat_search").set_value("pay").run()
    assert_clean(at, caplog)
    shown = at.dataframe[0].value
    assert 0 < len(shown) < total
    assert shown["label"].str.contains("pay", case=False).any()


# ---------------------------------------------------------------- places

@pytest.mark.parametrize("place", [SCILLY, CITY], ids=["isles-of-scilly", "city-of-london"])
@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_places_with_little_data(page, place, caplog):
    at = open_page(page, {"place": place})
    assert_clean(at, caplog)
    assert_title_and_footer(at, page)
    assert at.selectbox(key="place_select").value == place
    assert at.query_params.get("place") == place


@pytest.mark.parametrize(("place", "name"), [(SCILLY, "Isles of Scilly"), (CITY, "City of London"),
                                             (LEEDS, "Leeds")])
def test_profile_names_the_place(place, name, caplog):
    at = open_page(PROFILE, {"place": place})
    assert_clean(at, caplog)
    assert f"{name} ({place})" in texts(at)


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_an_unknown_place_in_the_url_is_ignored(page, caplog):
    at = open_page(page, {"place": "X99999999"})
    assert_clean(at, caplog)
    assert at.selectbox(key="place_select").value is None
    assert "place" not in at.query_params


# ---------------------------------------------------------------- periods and levels

@pytest.mark.parametrize("period", ["2015", "1995"])
@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_old_periods(page, period, caplog):
    at = open_page(page, {"period": period, "place": LEEDS})
    assert_clean(at, caplog)
    assert control_value(at, page, "period_input") == period


def test_map_explains_an_indicator_with_nothing_that_old(caplog):
    at = open_page(MAP, {"period": "2015"})
    assert_clean(at, caplog)
    assert any("not published" in i.value and "2015" in i.value for i in at.info)
    assert maps_drawn(at) == 0


@pytest.mark.parametrize("period", ["abc", "20155", "-1"])
def test_a_malformed_period_is_explained_and_ignored(period, caplog):
    at = open_page(MAP, {"period": period})
    assert_clean(at, caplog)
    assert any("Period must be" in w.value for w in at.warning)
    assert maps_drawn(at) == 1
    assert "period" not in at.query_params


def _level_cases():
    for page in PAGES:
        for level in ("utla", "combined_authority", "region"):
            marks = ()
            yield pytest.param(page, level, marks=marks, id=f"{Path(page).stem}-{level}")


@pytest.mark.parametrize(("page", "level"), list(_level_cases()))
def test_every_level(page, level, caplog):
    at = open_page(page, {"level": level, "place": LEEDS})
    assert_clean(at, caplog)
    assert control_value(at, page, "level_select") == level


def test_an_unknown_level_or_benchmark_falls_back_to_the_defaults(caplog):
    at = open_page(MAP, {"level": "parish", "benchmark": "mars"})
    assert_clean(at, caplog)
    assert at.selectbox(key="level_select").value == "ltla"
    assert at.selectbox(key="benchmark_select").value == "nation"


@pytest.mark.parametrize("level", ["utla", "combined_authority"])
def test_map_draws_at_other_levels(level, caplog):
    at = open_page(MAP, {"level": level, "indicator": "gross-median-weekly-pay"})
    assert_clean(at, caplog)
    assert maps_drawn(at) == 1


def test_map_explains_an_indicator_not_published_at_the_level(caplog):
    at = open_page(MAP, {"indicator": "homicide-offences", "level": "ltla"})
    assert_clean(at, caplog)
    assert at.selectbox(key="indicator_select").value == "homicide-offences"
    assert any("not published for local authority districts" in i.value for i in at.info)
    assert maps_drawn(at) == 0


def test_map_ignores_an_unknown_indicator(caplog):
    at = open_page(MAP, {"indicator": "no-such-indicator"})
    assert_clean(at, caplog)
    chosen = at.selectbox(key="indicator_select").value
    assert chosen != "no-such-indicator"
    assert at.query_params.get("indicator") == chosen
    assert maps_drawn(at) == 1


# ---------------------------------------------------------------- benchmarks

@pytest.mark.parametrize("benchmark", ["region", "neighbours", "K02000001", "E92000001"])
@pytest.mark.parametrize("page", [MAP, PROFILE, GOOD_GROWTH], ids=["map_explorer", "place_profile", "good_growth"])
def test_benchmarks(page, benchmark, caplog):
    at = open_page(page, {"place": LEEDS, "benchmark": benchmark})
    assert_clean(at, caplog)
    assert control_value(at, page, "benchmark_select") == benchmark
    assert at.query_params.get("benchmark") == benchmark


def tally(at) -> str:
    """The profile's verdict counts: one HTML block, each count under its label."""
    (block,) = [h.value for h in at.html if 'class="gg-tally"' in h.value]
    return block


def test_profile_against_the_region_names_the_region(caplog):
    at = open_page(PROFILE, {"place": LEEDS, "benchmark": "region"})
    assert_clean(at, caplog)
    assert "<dt>Significantly better than Yorkshire and The Humber</dt>" in tally(at)


def test_profile_against_statistical_neighbours_uses_their_mean(caplog):
    at = open_page(PROFILE, {"place": LEEDS, "benchmark": "neighbours"})
    assert_clean(at, caplog)
    assert "<dt>Significantly better than its 20 statistical neighbours (mean)</dt>" in tally(at)


def test_profile_tallies_state_the_confidence_and_the_false_flags_expected_by_chance(caplog):
    at = open_page(PROFILE, {"place": LEEDS})
    assert_clean(at, caplog)
    shown = texts(at)
    assert "At 95% confidence, about" in shown and "would differ by chance alone" in shown
    assert "compared with United Kingdom instead" in shown  # child poverty, GDP per head: no England figure


def test_profile_spine_keeps_rows_without_a_benchmark_and_shows_position_without_a_ci(caplog):
    import re
    at = open_page(PROFILE, {"place": LEEDS})
    assert_clean(at, caplog)
    body = next(h.value for h in at.html if 'class="gg-profile"' in h.value)
    rows = {m.group(1): m.group(2) for m in re.finditer(r"<summary>(.*?)</summary>(.*?)</tr>", body, re.DOTALL)}
    assert rows, "the profile's rows were not found"
    productivity = rows["Productivity (GVA per hour worked)"]
    assert "no comparator figure" in productivity and "fifth of" in productivity  # its fifth among districts
    named = [label for label, row in rows.items() if '<span class="sub">United Kingdom</span>' in row]
    assert len([r for r in named if "Child poverty" in r]) == 2 and any("GDP per head" in r for r in named)


def test_a_devolved_place_is_compared_with_its_own_nation_by_default(caplog):
    at = open_page(PROFILE, {"place": "S12000036"})
    assert_clean(at, caplog)
    assert at.selectbox(key="benchmark_select").value == "nation"
    assert "<dt>Significantly better than Scotland</dt>" in tally(at)


def test_map_names_the_comparator_it_falls_back_to(caplog):
    at = open_page(MAP, {"indicator": "children-in-relative-poverty-before-housing-costs"})
    assert_clean(at, caplog)
    assert "England publishes no figure for" in texts(at)
    assert "every area is compared with United Kingdom instead" in texts(at)


def test_map_says_when_neighbours_cannot_be_the_benchmark(caplog):
    at = open_page(MAP, {"place": LEEDS, "benchmark": "neighbours"})
    assert_clean(at, caplog)
    assert "every area is compared with England" in texts(at)


# ---------------------------------------------------------------- compare

FYLDE = ["E06000009", "E07000119", "E07000128"]  # Blackpool, Fylde, Wyre


def test_compare_says_when_a_latest_value_is_from_an_older_period(caplog):
    at = open_page(COMPARE, {"places": "E08000035,E06000053", "indicators": "gross-median-weekly-pay,employment-rate"})
    assert_clean(at, caplog)
    table = at.dataframe[0].value.set_index(["Indicator", "Place"])
    leeds, scilly = table.loc[("Median weekly pay", "Leeds")], table.loc[("Median weekly pay", "Isles of Scilly")]
    assert leeds["Value (95% CI)"].startswith("£610.7 (") and leeds["Period"] == "30 Apr 2025"
    assert scilly["Value (95% CI)"] == "£422.3 (no CI)" and scilly["Period"] == "10 Apr 2019 (older)"
    assert ("Employment rate", "Isles of Scilly") not in table.index


def test_compare_a_custom_footprint(caplog):
    at = open_page(COMPARE, state={"footprint_members": FYLDE})
    assert_clean(at, caplog)
    latest = at.dataframe[0].value
    assert "My footprint" in set(latest["Place"])
    # Medians cannot be summed or averaged across districts: said, not invented.
    assert any("cannot be aggregated" in w.value for w in at.warning)


def test_compare_places_and_a_named_footprint_together(caplog):
    at = open_page(COMPARE, {"places": f"{LEEDS},{SCILLY},{CITY}"},
                   state={"footprint_members": FYLDE, "footprint_name": "Fylde coast"})
    assert_clean(at, caplog)
    places = set(at.dataframe[0].value["Place"])
    assert {"Leeds", "Isles of Scilly", "City of London", "Fylde coast"} <= places


def test_a_footprint_of_one_district_is_refused(caplog):
    at = open_page(COMPARE, state={"footprint_members": FYLDE[:1]})
    assert_clean(at, caplog)
    assert any("at least two districts" in w.value for w in at.warning)


def test_compare_drops_unknown_codes_and_indicators_from_the_url(caplog):
    at = open_page(COMPARE, {"places": f"{LEEDS},NOPE,{CITY}", "indicators": "gross-median-weekly-pay,nope"})
    assert_clean(at, caplog)
    assert at.multiselect(key="compare_places").value == [LEEDS, CITY]
    assert at.multiselect(key="compare_indicators").value == ["gross-median-weekly-pay"]
    assert at.query_params.get("places") == f"{LEEDS},{CITY}"


def test_compare_keeps_at_most_ten_places(caplog):
    codes = ["E08000035", "E08000036", "E08000032", "E08000033", "E08000034", "E06000053", "E09000001",
             "E08000025", "E08000003", "E06000009", "E07000119", "E07000128"]
    at = open_page(COMPARE, {"places": ",".join(codes)})
    assert_clean(at, caplog)
    assert at.multiselect(key="compare_places").value == codes[:10]


# ---------------------------------------------------------------- good growth

@pytest.mark.parametrize("weight", [0, 100])
def test_good_growth_with_all_weight_on_one_pillar(weight, caplog):
    at = open_page(GOOD_GROWTH, {"economy": str(weight), "place": LEEDS})
    assert_clean(at, caplog)
    assert at.slider(key="economy_weight").value == weight
    assert any("all the weight on one pillar" in i.value for i in at.info)
    assert at.query_params.get("economy") == str(weight)
    assert "Reading for Leeds" in texts(at)


def test_good_growth_weight_set_with_the_slider(caplog):
    at = open_page(GOOD_GROWTH)
    at.slider(key="economy_weight").set_value(0).run()
    assert_clean(at, caplog)
    assert at.query_params.get("economy") == "0"


@pytest.mark.parametrize("weight", ["150", "-5"])
def test_good_growth_ignores_an_out_of_range_weight(weight, caplog):
    at = open_page(GOOD_GROWTH, {"economy": weight})
    assert_clean(at, caplog)
    assert at.slider(key="economy_weight").value == 50


def test_good_growth_ignores_a_non_numeric_weight(caplog):
    at = open_page(GOOD_GROWTH, {"economy": "abc"})
    assert_clean(at, caplog)
    assert at.slider(key="economy_weight").value == 50


@pytest.mark.parametrize("place", [SCILLY, CITY], ids=["isles-of-scilly", "city-of-london"])
def test_good_growth_explains_a_place_it_cannot_place(place, caplog):
    at = open_page(GOOD_GROWTH, {"place": place})
    assert_clean(at, caplog)
    assert any("too few indicators" in w.value for w in at.warning)


def test_good_growth_reads_a_noisy_place_in_words_with_its_chances(caplog):
    at = open_page(GOOD_GROWTH, {"place": "E07000112"})  # Folkestone and Hythe
    assert_clean(at, caplog)
    page = texts(at)
    assert "Reading for Folkestone and Hythe" in page
    assert "**good growth**" not in page
    assert "90% range" in page and "Chance it truly ranks above" in page
    assert "pandemic" in " ".join(c.value for c in at.caption)


def test_good_growth_with_no_scorable_data_says_so(caplog):
    at = open_page(GOOD_GROWTH, {"period": "1995"})
    assert_clean(at, caplog)
    assert at.error and "could not be shown" in at.error[0].value


# ---------------------------------------------------------------- plans

@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_plan(example, caplog):
    at = open_page(PLAN, {"example": example})
    assert_clean(at, caplog)
    assert at.selectbox(key="example_select").value == example
    doc = yaml.safe_load((ROOT / "plans" / "examples" / example).read_text())
    assert doc["title"].split(":")[0] in texts(at)
    objectives = [e for e in at.expander if "weight" in e.label]
    assert len(objectives) == len(doc["objectives"])
    assert any("Illustration" in w.value for w in at.warning)
    assert {"HTML report", "CSV", "JSON"} <= {d.label for d in at.download_button}
    assert at.query_params.get("example") == example


def test_a_plan_from_a_published_framework_cites_it_and_keeps_the_objectives_it_does_not_measure(caplog):
    at = open_page(PLAN, {"example": "leeds-ascof-2023-24.yaml"})
    assert_clean(at, caplog)
    cited = " ".join(i.value for i in at.info)
    assert "Objectives from" in cited and "Department of Health and Social Care, 21 December 2023" in cited
    assert "www.gov.uk/government/publications/adult-social-care-outcomes-framework" in cited
    assert any("example's own reading" in w.value for w in at.warning)
    unmeasured = [e for e in at.expander if "not measured in the snapshot" in e.label]
    assert [e.label.split(":")[0] for e in unmeasured] == ["Safety", "Social connections",
                                                          "Continuity and quality of care"]
    assert "Not measured in the snapshot" in texts(at)


def test_every_example_can_be_picked_from_the_selectbox(caplog):
    at = open_page(PLAN)
    assert at.selectbox(key="example_select").options == EXAMPLES
    for example in EXAMPLES:
        at.selectbox(key="example_select").set_value(example).run()
        assert_clean(at, caplog)
        assert at.query_params.get("example") == example


def test_an_example_outside_the_folder_is_refused(caplog):
    at = open_page(PLAN, {"example": "../../pyproject.toml"})
    assert_clean(at, caplog)
    assert at.selectbox(key="example_select").value == EXAMPLES[0]


HOSTILE_UPLOADS = {
    "billion-laughs.yaml": b"a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                           b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
    "python-tag.yaml": b"!!python/object/apply:os.system ['echo pwned']\n",
    "not-utf8.yaml": b"\x00\xff\xfe not yaml: [\n",
    "empty.yaml": b"",
    "no-objectives.yaml": b"title: x\nplace: {code: E08000035}\npublished: 2024-01-01\nbaseline: 2022\nobjectives: []\n",
    "unknown-place.yaml": b"title: x\nplace: {code: Z99999999}\npublished: 2024-01-01\nbaseline: 2022\n"
                          b"objectives: [{title: t, pillar: economy, weight: 1, indicators: [gross-median-weekly-pay],"
                          b" targets: [{horizon: medium, year: 2028, reach: 700}]}]\n",
    # valid YAML, refused against the data: Leeds's employment rate was already above 10% at the baseline
    "met-at-baseline.yaml": b"title: x\nplace: {code: E08000035}\npublished: 2024-01-01\nbaseline: 2022\n"
                            b"objectives: [{title: t, pillar: economy, weight: 1, indicators: [employment-rate],"
                            b" targets: [{horizon: medium, year: 2028, reach: 10}]}]\n",
}


def _upload(body: bytes, name: str) -> AppTest:
    at = open_page(PLAN)
    at.radio(key="plan_source").set_value("Upload a plan (YAML)").run()
    at.file_uploader(key="plan_upload").set_value((name, body, "application/x-yaml")).run()
    return at


@pytest.mark.parametrize("name", list(HOSTILE_UPLOADS))
def test_a_hostile_upload_is_refused_with_a_reason(name, caplog):
    at = _upload(HOSTILE_UPLOADS[name], name)
    assert_clean(at, caplog)
    assert at.error and "could not be used" in at.error[0].value
    assert "Download the evaluation" not in [s.value for s in at.header]  # nothing evaluated


def test_an_oversized_upload_is_refused_by_size(caplog):
    at = _upload(b"title: " + b"a" * (2 * 1024 * 1024), "huge.yaml")
    assert_clean(at, caplog)
    assert at.error and "limited to" in at.error[0].value


def test_an_uploaded_example_is_evaluated(caplog):
    body = (ROOT / "plans" / "examples" / EXAMPLES[0]).read_bytes()
    at = _upload(body, EXAMPLES[0])
    assert_clean(at, caplog)
    assert not at.error
    assert "Download the evaluation" in [s.value for s in at.header]


def test_the_plan_builder(caplog):
    at = open_page(PLAN)
    at.radio(key="plan_source").set_value("Build one here").run()
    assert any("Fill in the form" in i.value for i in at.info)
    at.button[0].click().run()  # Evaluate without a place
    assert [e.value for e in at.error] == ["Choose a place."]
    form_place = next(s for s in at.selectbox if s.label == "Place" and s.key != "place_select")
    form_place.set_value(LEEDS)
    next(s for s in at.selectbox if s.label == "Horizon").set_value("medium")
    at.button[0].click().run()  # no target value yet: the form asks for one rather than evaluating "reach 0"
    assert [e.value for e in at.error] == ["Enter the target's value, change or share."]
    next(s for s in at.selectbox if s.label == "Target type").set_value("change from baseline (%)")
    at.number_input[-1].set_value(10.0)
    at.button[0].click().run()
    assert_clean(at, caplog)
    assert not at.error, [e.value for e in at.error]
    assert "Download the evaluation" in [s.value for s in at.header]


def test_data_page_catalogue_shows_kind_and_family_and_filters_by_kind(caplog):
    at = open_page(DATA)
    table = at.dataframe[0].value
    assert {"kind", "scored", "family"} <= set(table.columns)
    at.multiselect(key="cat_kind").set_value(["input"]).run()
    assert_clean(at, caplog)
    inputs = at.dataframe[0].value
    assert len(inputs) > 0 and (inputs["kind"] == "Input (provision)").all() and not inputs["scored"].any()
    assert (inputs["weight"] == 0).all()


@pytest.mark.parametrize("indicator", ["inward-foreign-direct-investment-per-head", "value-of-uk-exports-per-head"])
def test_map_explorer_draws_a_derived_per_head_indicator(indicator, caplog):
    at = open_page(MAP, {"indicator": indicator, "level": "combined_authority"})
    assert_clean(at, caplog)
    assert at.selectbox(key="indicator_select").value == indicator
    ranked = ranked_table(at)
    assert len(ranked) >= 5


# ---------------------------------------------------------------- hostile query parameters

HUGE = "9" * 5000
HOSTILE_PARAMS = [
    # page, parameter, value, widget key, the page's default for that widget
    (MAP, "period", "²", "period_input", "latest"),
    (MAP, "period", "٢٠١٩", "period_input", "latest"),
    (MAP, "period", "x" * 300, "period_input", "latest"),  # Arabic-Indic digits: isdigit() is true, int() is not wanted
    (MAP, "period", HUGE, "period_input", "latest"),
    (MAP, "level", HUGE, "level_select", "ltla"),
    (MAP, "level", "parish", "level_select", "ltla"),
    (MAP, "benchmark", HUGE, "benchmark_select", "nation"),
    (MAP, "place", HUGE, "place_select", None),
    (MAP, "indicator", "²" * 3000, "indicator_select", None),
    (GOOD_GROWTH, "economy", "²", "economy_weight", 50),
    (GOOD_GROWTH, "economy", HUGE, "economy_weight", 50),
    (GOOD_GROWTH, "economy", "50.5", "economy_weight", 50),
    (GOOD_GROWTH, "economy", "1e2", "economy_weight", 50),
    (GOOD_GROWTH, "economy", "-5", "economy_weight", 50),
    (COMPARE, "places", ",".join([LEEDS] * 900), "compare_places", []),
    (COMPARE, "indicators", HUGE, "compare_indicators", None),
    (PLAN, "example", HUGE, "example_select", EXAMPLES[0]),
    (DATA, "indicator", HUGE, "dl_indicator", None),
]


def open_with_link(page: str, params: dict[str, str]) -> AppTest:
    """`page` opened straight from a link carrying `params` (open_page would let the landing page,
    which reads some of the same parameters, see them first)."""
    if page == MAP:
        return open_page(MAP, params)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(page)
    at.query_params.clear()
    at.query_params.update(params)
    at.run()
    return at


def widget_value(at: AppTest, key: str):
    widgets = at.get("text_input") + at.get("selectbox") + at.get("slider") + at.get("multiselect")
    return next(w for w in widgets if getattr(w, "key", None) == key).value


@pytest.mark.parametrize(("page", "name", "value", "key", "default"), HOSTILE_PARAMS,
                         ids=[f"{Path(p).stem}-{n}-{v[:6]}" for p, n, v, _, _ in HOSTILE_PARAMS])
def test_a_hostile_query_param_gives_a_warning_and_the_default(page, name, value, key, default, caplog):
    at = open_with_link(page, {name: value})
    assert_clean(at, caplog)
    warnings = [w.value for w in at.warning]
    assert any(f"'{name}' value could not be used" in w or "Period must be" in w for w in warnings), warnings
    assert all(value[:50] not in w for w in warnings), "a refused value must not be echoed back"
    if default is None:  # the page's own default: what it shows from a link without the parameter
        default = widget_value(open_with_link(page, {}), key)
    assert widget_value(at, key) == default


def test_a_valid_weight_from_the_query_is_kept(caplog):
    at = open_page(GOOD_GROWTH, {"economy": "35"})
    assert_clean(at, caplog)
    assert at.slider(key="economy_weight").value == 35
    assert not at.warning


# ---------------------------------------------------------------- bare addresses never become links

# What GitHub-flavoured Markdown links by itself, outside code spans (the one construct it never links).
AUTOLINK = __import__("re").compile(r"(?i)www\.|https?://|mailto:|[\w.+-]+@[\w-]+\.[\w-]")
CODE_SPAN = __import__("re").compile(r"(`+)(?:(?!\1).)+?\1", __import__("re").DOTALL)


def live_addresses(at: AppTest) -> list[str]:
    """Markdown strings the app sent that the browser would turn into links."""
    found = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        for e in getattr(at, kind):
            text = CODE_SPAN.sub("", str(e.value))
            if AUTOLINK.search(text):
                found.append(str(e.value))
    return found


URL_PLAN = (ROOT / "plans" / "examples" / "greater-manchester-illustrative.yaml").read_text(encoding="utf-8")


def test_addresses_in_an_uploaded_plan_are_shown_as_text_not_links(caplog):
    import re
    body = re.sub(r"(?m)^title: .*$", 'title: "Plan at www.evil.example, see https://evil.example/x or a@evil.example"',
                  URL_PLAN, count=1)
    at = _upload(body.encode("utf-8"), "plan.yaml")
    assert_clean(at, caplog)
    assert not at.error, [e.value for e in at.error]
    shown = texts(at)
    assert "www.evil.example" in shown and "https://evil.example/x" in shown  # still there, word for word
    assert live_addresses(at) == []


def test_an_address_in_a_refused_file_name_is_not_a_link(caplog):
    at = _upload(b"title: [unclosed\n", "www.evil.example.yaml")
    assert_clean(at, caplog)
    assert at.error and "www.evil.example" in at.error[0].value
    assert live_addresses(at) == []


@pytest.mark.parametrize("text", ["www.evil.example", "Go to https://evil.example/x.", "a@evil.example",
                                  "[x](https://evil.example)", "``www.evil.example``", "WWW.EVIL.EXAMPLE"])
def test_md_turns_every_address_into_a_code_span(text):
    from app_pages.common import md
    out = md(text)
    assert not AUTOLINK.search(CODE_SPAN.sub("", out)), out
    # the text itself is kept: only code-span fences and backslash escapes were added
    assert out.replace("`", "").replace("\\", "").strip() == text.replace("`", "")
