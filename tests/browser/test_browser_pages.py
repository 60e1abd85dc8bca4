"""Every page loads in Chromium against the real server, shows no traceback and no catch-all error,
and is saved as a screenshot under test-output/screenshots/ for a person to look at."""
from __future__ import annotations

import pytest

from tests.support.browser import (DECK, DECK_CANVAS, SVG_MAP, distinct_colours, canvas_png, exceptions_shown, generic_errors_shown,
                                   open_app, screenshot_full, wait_map_drawn)

pytestmark = pytest.mark.browser

# (screenshot name, path and query, the page's h1)
PAGES = [
    ("home", "/", "Good Growth"),
    ("home-leeds", "/?place=E08000035", "Good Growth"),
    ("map", "/map", "Map explorer"),
    ("profile-empty", "/profile", "Place profile"),
    ("profile-leeds", "/profile?place=E08000035", "Place profile"),
    ("compare", "/compare?places=E08000035,E06000053,E09000001", "Compare places"),
    ("good-growth", "/good-growth?place=E08000035", "Good growth"),
    ("plan", "/plan", "Plan evaluation"),
    ("data", "/data", "Data & methods"),
]


@pytest.mark.parametrize(("name", "path", "title"), PAGES, ids=[p[0] for p in PAGES])
def test_page_loads_without_errors(page, app_url, name, path, title):
    open_app(page, app_url + path)
    assert page.locator("h1").first.inner_text().strip() == title
    if name == "map":
        assert wait_map_drawn(page) >= 6, "the map canvas stayed blank"
    screenshot_full(page, name)
    assert exceptions_shown(page) == []
    assert generic_errors_shown(page) == []


@pytest.mark.parametrize(("view", "selector"), [("", SVG_MAP), ("?view=interactive", DECK_CANVAS)],
                         ids=["drawn-map", "webgl-map"])
def test_map_really_drew(page, app_url, view, selector):
    """Count the colours in the composited pixels: a blank or single-colour map fails."""
    open_app(page, app_url + "/map" + view)
    assert page.locator(selector).count() == 1
    colours = wait_map_drawn(page, min_colours=6, selector=selector)
    assert colours >= 6, f"the map shows only {colours} colours"
    # The choropleth uses a 7-step scale plus grey for no data, so more than a handful of colours
    # (anti-aliased borders add many more) means areas were filled, not just cleared.
    assert distinct_colours(canvas_png(page, selector)) > 5
    screenshot_full(page, "map" + ("-webgl" if view else "-drawn"))


def test_profile_neighbour_map_draws(page, app_url):
    open_app(page, app_url + "/profile?place=E08000035")
    page.get_by_role("tab", name="Statistical neighbours").click()
    neighbour_canvas = f"{DECK} canvas"
    page.locator(neighbour_canvas).first.wait_for(state="visible")
    assert wait_map_drawn(page, selector=neighbour_canvas) >= 3
    screenshot_full(page, "profile-leeds-neighbours")
    assert exceptions_shown(page) == []
