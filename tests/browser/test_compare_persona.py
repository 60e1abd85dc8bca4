"""A central reviewer compares ten places on a desktop (1440×900) and sees, for each, the confidence
interval, the verdict against the benchmark and a rank range; nothing is cut off at the right. The
same pages on a phone (390×844) keep their charts readable by scrolling them sideways. axe-core on
the comparison and on the map coloured by verdict. Screenshots go to test-output/screenshots/."""
from __future__ import annotations

import json
import re

import pytest

from tests.support.browser import (DECK_CANVAS, DESKTOP, OUTPUT, PHONE, describe_violations, exceptions_shown, generic_errors_shown, open_app,
                                   run_axe, screenshot_full, wait_map_drawn, wait_settled)

pytestmark = pytest.mark.browser

TEN = ["E08000035", "E08000025", "E08000003", "E08000012", "E08000021", "E06000018", "E08000039", "E06000023",
       "E06000016", "S12000049"]
COMPARE = "/compare?places=" + ",".join(TEN)


def _boxes(page, selector: str) -> list[dict]:
    return page.evaluate("""(sel) => [...document.querySelectorAll(sel)].map(e => {
        const r = e.getBoundingClientRect();
        return {left: r.left, right: r.right, width: r.width, scroll: e.scrollWidth, client: e.clientWidth};
    })""", selector)


def _grid_text(page) -> str:
    """The dataframe's cells as text (Streamlit draws the grid on a canvas and mirrors it in an
    accessible table for screen readers)."""
    return " ".join(page.locator('[data-testid="stDataFrame"] [role="gridcell"], '
                                 '[data-testid="stDataFrame"] [role="columnheader"]').all_inner_texts())


def test_a_reviewer_compares_ten_places_with_error_bars_and_significance(desktop, app_url):
    page = desktop
    open_app(page, app_url + COMPARE)
    page.get_by_role("heading", name="Latest values against the benchmark").wait_for()
    wait_settled(page)
    main = page.locator('[data-testid="stMain"]')
    text = main.inner_text()
    assert "Benchmark: Its own nation" in text
    assert "Vertical bars are 95% confidence intervals" in text and "dashed black line is England" in text
    # The ten places are chosen, all of them shown (the last two included).
    chosen = page.locator('[data-testid="stMultiSelect"]').first.inner_text()
    for name in ("Leicester", "Glasgow City"):
        assert name in chosen
    grid = _grid_text(page)
    for heading in ("Place", "Value (95% CI)", "vs benchmark", "Rank (90% range)"):
        assert heading in grid
    assert re.search(r"▼ Worse|● Similar|▲ Better", grid), grid[:400]
    # Nothing is cut off at the right: the table and the charts lie inside the window.
    for sel in ('[data-testid="stDataFrame"]', '[data-testid="stVegaLiteChart"]'):
        for box in _boxes(page, sel):
            assert box["right"] <= DESKTOP["width"] + 1, (sel, box)
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.scroll_into_view_if_needed()
    legend = chart.inner_text() if chart.locator("svg").count() else ""
    if legend:  # the SVG renderer exposes the legend's text: the last two places are in it
        assert "Leicester" in legend and "Glasgow City" in legend
    screenshot_full(page, "compare-ten-places-desktop")
    assert exceptions_shown(page) == [] and generic_errors_shown(page) == []


@pytest.mark.parametrize(("name", "path"), [
    ("compare", COMPARE),
    ("map-verdict", "/map?indicator=employment-rate&colour=verdict&place=E08000035"),
    ("good-growth", "/good-growth?place=E08000035&level=combined_authority"),
])
def test_pages_on_a_phone_scroll_charts_rather_than_shrink_them(phone, app_url, name, path):
    page = phone
    open_app(page, app_url + path)
    wait_settled(page)
    if name.startswith("map"):
        assert wait_map_drawn(page) >= 6
    overflow = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than the screen"
    charts = _boxes(page, '[data-testid="stVegaLiteChart"]')
    for box in charts:
        assert box["width"] <= PHONE["width"] + 1
        assert box["scroll"] >= 300, box  # the drawing keeps a readable width inside its scrolling box
    screenshot_full(page, f"{name}-phone")
    assert exceptions_shown(page) == [] and generic_errors_shown(page) == []


def test_map_wheel_scrolls_the_page_not_the_map(desktop, app_url):
    page = desktop
    open_app(page, app_url + "/map?indicator=employment-rate&colour=verdict&view=interactive")
    assert wait_map_drawn(page, selector=DECK_CANVAS) >= 6
    canvas = page.locator(DECK_CANVAS).first
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # hovering highlights an area
    page.wait_for_timeout(800)
    before = canvas.screenshot()
    page.mouse.wheel(0, -600)
    page.wait_for_timeout(800)
    canvas.scroll_into_view_if_needed()
    after = canvas.screenshot()
    (OUTPUT / "screenshots").mkdir(parents=True, exist_ok=True)
    (OUTPUT / "screenshots" / "map-wheel-before.png").write_bytes(before)
    (OUTPUT / "screenshots" / "map-wheel-after.png").write_bytes(after)
    assert _changed_share(before, after) < 0.01, "the wheel zoomed the map"
    page.get_by_role("button", name="Zoom in").click()
    wait_settled(page)
    assert wait_map_drawn(page, selector=DECK_CANVAS) >= 6
    screenshot_full(page, "map-verdict-zoomed-desktop")
    assert _changed_share(before, canvas.screenshot()) > 0.05, "the zoom button did not zoom"


def _changed_share(a: bytes, b: bytes) -> float:
    """The share of pixels that differ between two screenshots (a zoom changes most of them; a
    tooltip or a redraw's anti-aliasing only a few)."""
    import io

    import numpy as np
    from PIL import Image
    x, y = (np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int) for png in (a, b))
    if x.shape != y.shape:
        return 1.0
    return float((np.abs(x - y).sum(axis=-1) > 30).mean())


@pytest.mark.parametrize(("name", "path"), [
    ("compare-ten", COMPARE),
    ("map-verdict", "/map?indicator=employment-rate&colour=verdict&place=E08000035"),
])
def test_no_serious_accessibility_violations_on_compare_and_map(desktop, app_url, name, path):
    open_app(desktop, app_url + path)
    violations = run_axe(desktop)
    (OUTPUT / "axe").mkdir(parents=True, exist_ok=True)
    (OUTPUT / "axe" / f"{name}.json").write_text(json.dumps({"path": path, "violations": violations}, indent=1))
    bad = [v for v in violations if v["impact"] in ("critical", "serious")]
    assert not bad, describe_violations(bad)
