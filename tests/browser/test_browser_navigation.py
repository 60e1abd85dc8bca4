"""What a person does: search for a place, share a link, switch the map's indicator, click the map,
upload a plan; every view survives being reopened from its URL."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.support.browser import (DECK, DECK_CANVAS, SVG_MAP, canvas_png, exceptions_shown, generic_errors_shown, open_app,
                                   screenshot_full, wait_map_drawn, wait_settled)

pytestmark = pytest.mark.browser

LEEDS = "Leeds (E08000035)"


def choose_place(page, text: str, option: str) -> None:
    box = page.get_by_role("combobox", name="Place")
    box.click()
    box.fill(text)
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option)
    wait_settled(page)


def test_place_search_on_the_profile_page_shows_the_place(page, app_url):
    open_app(page, app_url + "/profile")
    choose_place(page, "Leeds", LEEDS)
    page.wait_for_url(re.compile(r"place=E08000035"))
    page.get_by_role("heading", name=LEEDS).wait_for()
    assert page.get_by_role("combobox", name="Place").input_value() == LEEDS
    assert exceptions_shown(page) == [] and generic_errors_shown(page) == []


def test_place_search_on_the_map_writes_the_url(page, app_url):
    open_app(page, app_url + "/map")
    choose_place(page, "Leeds", LEEDS)
    page.wait_for_url(re.compile(r"place=E08000035"))
    assert exceptions_shown(page) == [] and generic_errors_shown(page) == []


def test_chosen_place_survives_following_a_sidebar_link(page, app_url):
    open_app(page, app_url + "/map")
    choose_place(page, "Leeds", LEEDS)
    page.get_by_role("link", name="Place profile").click()
    page.wait_for_url(re.compile(r"/profile"))
    wait_settled(page)
    assert page.get_by_role("heading", name=LEEDS).count() == 1


def test_a_shared_profile_link_restores_the_view(fresh_page, app_url):
    page = fresh_page
    open_app(page, app_url + "/profile?place=E08000035&benchmark=region")
    page.get_by_role("heading", name=LEEDS).wait_for()
    expect(page.get_by_role("combobox", name="Place")).to_have_value(LEEDS)
    expect(page.get_by_role("combobox", name="Compare with")).to_have_value("The area's region or nation")
    # The headline counts are against Leeds's region, not England.
    assert page.get_by_text("Significantly better than Yorkshire and The Humber").count() >= 1
    assert exceptions_shown(page) == [] and generic_errors_shown(page) == []


def test_a_shared_map_link_restores_the_view(fresh_page, app_url):
    """Made when the map was the landing page: the root with map parameters still opens the map."""
    page = fresh_page
    open_app(page, app_url + "/?indicator=gross-median-weekly-pay&level=utla")
    page.wait_for_url(re.compile(r"/map\?"))
    expect(page.get_by_role("combobox", name="Indicator")).to_have_value("Median weekly pay (Economy)")
    expect(page.get_by_role("combobox", name="Level")).to_have_value("Upper-tier authorities")
    assert wait_map_drawn(page) >= 6
    assert "Upper-tier authorities" in page.locator('[data-testid="stMain"]').inner_text()
    screenshot_full(page, "map-pay-utla")
    assert exceptions_shown(page) == [] and generic_errors_shown(page) == []


def test_an_unknown_place_in_the_url_is_ignored(page, app_url):
    open_app(page, app_url + "/profile?place=X99999999&level=nonsense&benchmark=nonsense")
    assert page.get_by_text("Choose a place in the sidebar").count() == 1
    assert page.get_by_role("combobox", name="Level").input_value() == "Local authority districts"
    assert exceptions_shown(page) == [] and generic_errors_shown(page) == []


def test_switching_the_indicator_redraws_the_map(page, app_url):
    open_app(page, app_url + "/map")
    wait_map_drawn(page)
    before = canvas_png(page)
    box = page.get_by_role("combobox", name="Indicator")
    box.click()
    box.fill("Median weekly pay")
    page.get_by_role("option", name="Median weekly pay (Economy)", exact=True).click()
    # Wait for the rerun first: while it runs, the old map is greyed out and back, which is a change too.
    page.wait_for_url(re.compile(r"indicator=gross-median-weekly-pay"))
    wait_settled(page)
    deadline = time.monotonic() + 30
    while canvas_png(page) == before and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert canvas_png(page) != before, "the map did not redraw after the indicator changed"
    assert wait_map_drawn(page) >= 6
    assert exceptions_shown(page) == [] and generic_errors_shown(page) == []


@pytest.mark.parametrize("view", ["", "&view=interactive"], ids=["drawn-map", "webgl-map"])
def test_clicking_an_area_opens_its_profile(page, app_url, view):
    open_app(page, app_url + "/map?level=ltla" + view)
    wait_map_drawn(page)
    canvas = page.locator(SVG_MAP if not view else DECK_CANVAS).first
    box = canvas.bounding_box()
    # Greater Manchester sits here in the default view; any area will do.
    x, y = box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.62
    page.mouse.move(x, y, steps=4)
    page.wait_for_timeout(500)
    page.mouse.click(x, y)
    page.wait_for_url(re.compile(r"/profile\?.*place=E0"), timeout=30_000)
    wait_settled(page)
    assert page.get_by_role("heading", name=re.compile(r"\(E0\d{7}\)")).count() == 1


def test_the_drawn_map_is_reached_by_keyboard_and_names_each_area(page, app_url):
    open_app(page, app_url + "/map?place=E08000035")
    wait_map_drawn(page)
    leeds = page.locator(f'{SVG_MAP} a[href^="/profile?place=E08000035"]')
    assert leeds.count() == 1
    # its <title> names the link for a screen reader (and is the tooltip): one copy, no aria-label
    named = page.locator(SVG_MAP).get_by_role("link", name=re.compile(r"^Leeds: "))
    assert named.count() == 1 and named.get_attribute("href").startswith("/profile?place=E08000035")
    leeds.focus()
    assert page.evaluate("document.activeElement.getAttribute('href')").startswith("/profile?place=E08000035")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/profile\?place=E08000035"), timeout=30_000)
    wait_settled(page)
    assert page.get_by_role("heading", name=re.compile(r"Leeds \(E08000035\)")).count() == 1


def test_the_maps_request_nothing_from_other_hosts(page, app_url):
    """No basemap: Streamlit's deck.gl component would otherwise fetch Carto's style on every render."""
    open_app(page, app_url + "/map")
    wait_map_drawn(page)
    open_app(page, app_url + "/map?view=interactive")
    wait_map_drawn(page, selector=DECK_CANVAS)
    open_app(page, app_url + "/profile?place=E08000035")
    page.get_by_role("tab", name="Statistical neighbours").click()
    neighbour_canvas = f"{DECK} canvas"
    page.locator(neighbour_canvas).first.wait_for(state="visible")
    wait_map_drawn(page, min_colours=3, selector=neighbour_canvas)
    page.wait_for_timeout(1000)
    assert page.external_requests == []


# A valid plan whose free text tries HTML, a script, an image handler and a javascript: link.
HOSTILE_PLAN = b"""title: "O'Brien's plan <script>window.__pwned = 1</script> <img src=x onerror=window.__pwned=2> [click](javascript:window.__pwned=3)"
place: {code: E08000035}
published: 2024-01-01
baseline: 2022
objectives:
  - title: "<b>bold</b> **stars** <iframe src=javascript:alert(1)></iframe>"
    pillar: economy
    weight: 1
    indicators: [gross-median-weekly-pay]
    targets:
      - {horizon: medium, year: 2028, change: {by: 5, unit: percent}}
"""
# A plan the schema refuses, whose message quotes a field name.
REFUSED_PLAN = b"""title: Empty
place: {code: E08000035}
published: 2024-01-01
baseline: 2022
objectives: []
"""


def upload_plan(page, app_url, body: bytes) -> None:
    open_app(page, app_url + "/plan")
    page.get_by_text("Upload a plan (YAML)").click()
    wait_settled(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        files=[{"name": "uploaded.yaml", "mimeType": "application/x-yaml", "buffer": body}])
    page.wait_for_timeout(500)
    wait_settled(page)


def test_a_hostile_uploaded_plan_is_shown_as_plain_text(page, app_url):
    upload_plan(page, app_url, HOSTILE_PLAN)
    main = page.locator('[data-testid="stMain"]')
    page.get_by_text("<script>", exact=False).first.wait_for()
    wait_settled(page)
    screenshot_full(page, "plan-hostile-upload")
    text = main.inner_text()
    assert "<script>window.__pwned = 1</script>" in text  # shown, not run
    assert "<b>bold</b>" in text
    assert page.evaluate("() => window.__pwned === undefined")
    assert main.locator("script, iframe, img[onerror]").count() == 0
    assert main.locator('a[href^="javascript:"]').count() == 0
    assert exceptions_shown(page) == [] and generic_errors_shown(page) == []


def test_a_refused_plan_explains_itself(page, app_url):
    upload_plan(page, app_url, REFUSED_PLAN)
    error = page.locator('[data-testid="stAlertContentError"]').first
    error.wait_for()
    assert "could not be used" in error.inner_text() and "objectives" in error.inner_text()
    assert exceptions_shown(page) == [] and generic_errors_shown(page) == []


def test_messages_show_apostrophes_not_entities(page, app_url):
    """common.py md() once HTML-escaped ' to &#x27; and then escaped its '#', showing the entity."""
    upload_plan(page, app_url, REFUSED_PLAN)
    error = page.locator('[data-testid="stAlertContentError"]').first
    error.wait_for()
    assert "'objectives" in error.inner_text() and "&#x27;" not in error.inner_text()
    open_app(page, app_url + "/plan?example=cambridge-housing-illustrative.yaml")
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "neighbours' values" in main and "&#x27;" not in main


def test_the_map_table_downloads_when_asked(page, app_url):
    """The ranked table's CSV is written on the click, not with the page: the click still gets it whole."""
    open_app(page, app_url + "/map?indicator=gross-median-weekly-pay")
    wait_map_drawn(page)
    button = page.get_by_role("button", name="Download this table (CSV)")
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=30_000) as download:
        button.click()
    text = open(download.value.path(), encoding="utf-8").read()
    lines = text.strip().splitlines()
    assert lines[0].startswith("rank,rank_range,areanm,areacd,value") and len(lines) > 300
    assert download.value.suggested_filename.startswith("gross-median-weekly-pay-ltla-")


@pytest.mark.parametrize("path", ["/profile?place=E08000035", "/compare?places=E08000035,E08000025", "/data"])
def test_a_deep_link_asks_the_server_at_its_root_first(fresh_page, app_url, path):
    """Opened at /compare, Streamlit's front end would ask /compare/_stcore/health first and, after
    the 404, wait 100 ms before asking the root; every page's shell names the root
    (app_pages.web.first_paint.BACKEND_JS), so the first question is the one that is answered."""
    asked: list[str] = []
    fresh_page.on("request", lambda r: asked.append(r.url) if "/_stcore/" in r.url else None)
    open_app(fresh_page, app_url + path)
    page_path = path.split("?")[0]
    assert not [url for url in asked if f"{page_path}/_stcore/" in url]
    assert any(url.endswith("/_stcore/health") for url in asked)
    assert fresh_page.evaluate("window.__streamlit.BACKEND_BASE_URL") == app_url.rstrip("/") + "/"
    assert exceptions_shown(fresh_page) == [] and generic_errors_shown(fresh_page) == []
