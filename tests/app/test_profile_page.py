"""The place profile under AppTest on the committed snapshot: every indicator is a labelled row with its
value, benchmark, verdict and trend beside the spine, for districts in each nation, a combined authority
and a region; numbers are formatted for people; the page downloads a self-contained HTML profile."""
from __future__ import annotations

import re

import pytest

from tests.app.test_pages import PROFILE, assert_clean, open_page

LEEDS, GLASGOW, BELFAST = "E08000035", "S12000049", "N09000003"
WEST_YORKSHIRE, YORKSHIRE = "E47000003", "E12000003"
PLACES = {LEEDS: ("ltla", "Leeds"), GLASGOW: ("ltla", "Glasgow City"), BELFAST: ("ltla", "Belfast"),
          WEST_YORKSHIRE: ("combined_authority", "West Yorkshire"), YORKSHIRE: ("region", "Yorkshire and The Humber")}
ROW = re.compile(r'<tr><th scope="row" class="ind"><details><summary>(.*?)</summary>', re.DOTALL)


def profile_html(at) -> str:
    bodies = [h.value for h in at.html if 'class="gg-profile"' in h.value]
    assert len(bodies) == 1, "the profile's rows were not drawn"
    return bodies[0]


def open_tab(at, name: str):
    """Open one of the profile's tabs, as a click does: only the open tab's view is built."""
    at.session_state["profile_tab"] = name
    return at.run()


@pytest.fixture(scope="module", params=list(PLACES), ids=["leeds", "glasgow", "belfast", "west-yorkshire",
                                                          "yorkshire"])
def page(request):
    code = request.param
    level, name = PLACES[code]
    at = open_tab(open_page(PROFILE, {"place": code, "level": level}), "All indicators (table)")
    return code, name, at


def test_every_row_is_labelled_with_its_numbers_beside_the_spine(page, caplog):
    code, name, at = page
    assert_clean(at, caplog)
    body = profile_html(at)
    rows = body.split('<tr><th scope="row"')[1:]
    labels = ROW.findall(body)
    assert rows and len(labels) == len(rows), f"{name}: a row has no label"
    assert all(label.strip() for label in labels)
    table = at.dataframe[0].value
    assert len(rows) == len(table), "every indicator of the table has a row in the profile"
    for row in rows:  # value, benchmark, verdict and trend columns, then the spine (or a reason for none)
        cells = re.findall(r"<td[^>]*>", row)
        assert len(cells) == 5, row[:300]
        assert 'class="verdict"' in row
        assert 'class="spine"' in row or "no spread across areas" in row


def test_no_none_or_raw_numbers_in_what_is_shown(page, caplog):
    code, name, at = page
    body = profile_html(at)
    text = re.sub(r"<[^>]+>", " ", body)
    assert not re.search(r"\b(None|nan|NaN)\b", text), f"{name}: 'None' or 'nan' shown"
    assert not re.search(r"\d{4,}\.\d", text), f"{name}: an unformatted large number"
    table = at.dataframe[0].value
    for col in table.columns:
        if table[col].dtype == object and col != "spark_values":
            assert not table[col].isin(["None", "nan"]).any() and not table[col].isna().any(), (name, col)


def test_rows_are_grouped_by_pillar_and_theme_with_headings(page, caplog):
    code, name, at = page
    body = profile_html(at)
    pillars = re.findall(r'<section class="pillar"><h3>([^<]+) <span', body)
    assert pillars and len(set(pillars)) == len(pillars)
    order = ["Economy", "Public services", "Environment", "Context"]
    assert [p for p in order if p in pillars] == pillars
    assert body.count('<tr class="theme">') >= len(pillars)


def test_definition_and_source_are_one_click_away(page, caplog):
    code, name, at = page
    body = profile_html(at)
    abouts = re.findall(r'<div class="about">(.*?)</div></details>', body, re.DOTALL)
    assert abouts and all("<strong>Source:</strong>" in a for a in abouts)
    assert sum("released" in a for a in abouts) >= len(abouts) // 2


def test_the_profile_downloads_as_one_html_file(page, caplog):
    code, name, at = page
    buttons = [b for b in at.get("download_button") if "HTML" in b.proto.label]
    assert len(buttons) == 1


def test_leeds_rows_show_formatted_values_and_the_england_benchmark(caplog):
    at = open_page(PROFILE, {"place": LEEDS})
    assert_clean(at, caplog)
    body = profile_html(at)
    assert "£236,213" in body  # average house price: thousands separators and the unit
    assert ">England <span" in body  # the benchmark column is named
    row = _row(body, "Productivity (GVA per hour worked)")
    assert "not compared" in row and "fifth of" in row  # no CI, no benchmark: its position instead
    assert "no comparator figure" in row
    assert "United Kingdom" in _row(body, "Child poverty (before housing costs)")  # the fallback comparator is named on the row


def _row(body: str, label: str) -> str:
    start = body.index(f"<summary>{label}</summary>")
    return body[start:body.index("</tr>", start)]


def test_the_print_stylesheet_hides_the_sidebar(caplog):
    at = open_page(PROFILE, {"place": LEEDS})
    css = [h.value for h in at.html if "@media print" in h.value]
    assert css and 'stSidebar' in css[0] and "A4" in css[0]


def test_the_verdict_counts_are_written_out_with_what_they_count(caplog):
    """Four counts, each under its label and, where the label needs it, with what it counts in words
    (no tooltip to find): one HTML block, so the first screen needs no metric widget code."""
    at = open_page(PROFILE, {"place": LEEDS})
    assert_clean(at, caplog)
    (tally,) = [h.value for h in at.html if 'class="gg-tally"' in h.value]
    labels = re.findall(r"<dt>(.*?)</dt><dd>([0-9,]+)</dd>", tally)
    assert [label for label, _ in labels] == ["Significantly better than England", "Similar",
                                              "Significantly worse than England", "Worse and worsening"]
    assert sum(int(n) for _, n in labels[:3]) > 0
    assert tally.count('<dd class="why">') == 3 and "whole confidence interval" in tally
    assert len(at.get("metric")) == 0


def test_without_a_place_the_search_is_one_tap_away_on_the_page(caplog):
    at = open_page(PROFILE)
    assert_clean(at, caplog)
    links = [e for e in at.get("page_link")]
    assert any("postcode" in link.proto.label for link in links)  # not only in the sidebar, hidden on phones


def test_a_poisoned_area_name_is_escaped_in_the_rows():
    from indicators import profile_report as pr
    import pandas as pd
    prof = pd.DataFrame({"indicator_id": ["a"], "label": ["<b>x</b>"], "pillar": ["economy"], "theme": ["pay"],
                         "polarity": ["higher_is_better"], "unit": ["%"], "value": [1.0],
                         "benchmark_value": [1.0], "benchmark_name": ["<i>E</i>"], "significance_95": ["similar"],
                         "area_min": [0.0], "area_max": [2.0], "area_p25": [0.5], "area_median": [1.0],
                         "area_p75": [1.5]})
    body = pr.profile_tables(prof, pd.DataFrame(), "<i>E</i>", "<script>")
    assert "<script>" not in body and "<b>x" not in body and "<i>E" not in body


def test_the_neighbour_map_is_drawn_only_when_its_tab_is_open(caplog):
    """The first paint carries no map (the deck.gl viewer and half a megabyte of JSON); opening the tab
    draws it, with the place, its neighbours and a text alternative."""
    import json
    at = open_page(PROFILE, {"place": LEEDS})
    assert_clean(at, caplog)
    assert len(at.get("deck_gl_json_chart")) == 0
    assert "statistical neighbours**, most similar first" in "\n".join(m.value for m in at.markdown)
    at.session_state["profile_tab"] = "Statistical neighbours"
    at.run()
    assert_clean(at, caplog)
    (chart,) = at.get("deck_gl_json_chart")
    spec = json.loads(chart.proto.json)
    (areas,) = [layer for layer in spec["layers"] if layer["id"] == "areas"]
    fills = {f["properties"]["areacd"]: f["properties"]["fill"] for f in areas["data"]["features"]}
    assert fills[LEEDS] == [213, 0, 0, 240] and sum(f == [49, 104, 142, 220] for f in fills.values()) >= 10
    assert spec["mapStyle"] == "__MAP_STYLE__" and "\n" not in chart.proto.json
    assert json.loads(chart.proto.tooltip) == {"text": "{name}"}
    assert chart.proto.alt.startswith("Map of Leeds and its statistical neighbours")
    assert profile_html(at)  # the profile rows are always drawn; the table and deprivation views only when open
    assert len(at.dataframe) == 0 and len(at.get("vega_lite_chart")) == 0
