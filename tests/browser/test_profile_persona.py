"""Persona (c): a member of the public on a phone (390×844) reads Leeds' profile. Every row carries its
label, its numbers and its verdict in words; the rows scroll sideways inside their box, with the label
column kept in view, rather than shrinking; nothing runs off the page; the definition is one tap away.
Also at 1440 px, in print, and the downloaded HTML profile. Screenshots: test-output/screenshots/."""
from __future__ import annotations

import re

import pytest

from tests.support.browser import (OUTPUT, PHONE, SCREENSHOTS, describe_violations, exceptions_shown,
                                   generic_errors_shown, open_app, page_in_new_context, run_axe, screenshot_full)

pytestmark = pytest.mark.browser

LEEDS = "/profile?place=E08000035"
ROWS = '.gg-profile table.profile tbody tr:not(.theme)'


def _rows(page) -> list[dict]:
    """Each row's label and how it is laid out: the label's box and the row's visible cells."""
    return page.evaluate("""(sel) => [...document.querySelectorAll(sel)].map(tr => {
      const s = tr.querySelector('summary'); const r = s.getBoundingClientRect();
      return {label: s.innerText.trim(), w: r.width, h: r.height,
              cells: [...tr.querySelectorAll('td')].map(td => td.innerText.trim())};
    })""", ROWS)


def _open_leeds(page, app_url: str) -> None:
    open_app(page, app_url + LEEDS)
    page.get_by_role("heading", name="Leeds (E08000035)").wait_for()
    page.locator(ROWS).first.wait_for()
    assert exceptions_shown(page) == [] and generic_errors_shown(page) == []


def test_the_public_reads_leeds_profile_on_a_phone(phone, app_url):
    page = phone
    _open_leeds(page, app_url)
    rows = _rows(page)
    assert len(rows) >= 60, len(rows)
    unlabelled = [i for i, r in enumerate(rows) if not r["label"] or r["w"] < 40 or r["h"] < 10]
    assert not unlabelled, f"rows without a visible label: {unlabelled[:10]}"
    for r in rows:  # value, benchmark, verdict in words, trend in words, spine
        value, bench, verdict, trend, _ = r["cells"]
        assert value and bench and trend, r
        assert re.search(r"better|similar|worse|higher|lower|not compared", verdict), r
        assert not re.search(r"\b(None|nan)\b", " ".join(r["cells"])), r
    # the page itself never runs off the screen: the rows scroll sideways inside their own box
    overflow = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than the phone"
    box = page.locator(".gg-profile .scroll").first
    widths = box.evaluate("b => [b.scrollWidth, b.clientWidth]")
    assert widths[0] > widths[1], "the table shrank to the phone instead of scrolling"
    screenshot_full(page, "profile-leeds-phone")
    page.locator(".gg-profile h3").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "profile-leeds-phone-rows.png"))
    # swipe the first table sideways: the label column stays in view beside the spine
    box.evaluate("b => b.scrollLeft = b.scrollWidth")
    page.wait_for_timeout(300)
    label = page.locator(ROWS).first.locator("summary")
    spine = page.locator(ROWS).first.locator(".spine, .muted").first
    lx, sx = label.bounding_box(), spine.bounding_box()
    assert lx["x"] >= 0 and lx["x"] + lx["width"] <= PHONE["width"] and sx["x"] + sx["width"] <= PHONE["width"] + 1
    page.screenshot(path=str(SCREENSHOTS / "profile-leeds-phone-scrolled.png"))
    # the definition and source are one tap away
    box.evaluate("b => b.scrollLeft = 0")
    label.click()
    about = page.locator(ROWS).first.locator(".about")
    about.wait_for(state="visible")
    assert "Source:" in about.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "profile-leeds-phone-definition.png"))


def test_the_profile_has_no_serious_accessibility_violations_on_a_phone(phone, app_url):
    _open_leeds(phone, app_url)
    bad = [v for v in run_axe(phone) if v["impact"] in ("serious", "critical")]
    assert not bad, describe_violations(bad)


def test_the_profile_at_1440_prints_and_downloads(desktop, app_url):
    page = desktop
    _open_leeds(page, app_url)
    rows = _rows(page)
    assert rows and all(r["label"] and r["w"] > 40 for r in rows)
    # at 1440 px every column fits: no sideways scroll
    box = page.locator(".gg-profile .scroll").first
    sw, cw = box.evaluate("b => [b.scrollWidth, b.clientWidth]")
    assert sw <= cw + 1, f"the table needs {sw - cw}px more than the page gives it"
    screenshot_full(page, "profile-leeds-desktop")
    with page.expect_download() as dl:
        page.get_by_role("button", name=re.compile("Download this profile")).click()
    path = OUTPUT / "profile-leeds.html"
    dl.value.save_as(path)
    doc = path.read_text()
    assert doc.startswith("<!DOCTYPE html>") and "<script" not in doc.lower()
    assert doc.count('<tr><th scope="row"') == len(rows)
    # print: the sidebar and buttons are left out; an A4 PDF is made
    page.emulate_media(media="print")
    assert page.locator('[data-testid="stSidebar"]').evaluate("e => getComputedStyle(e).display") == "none"
    page.set_viewport_size({"width": 1123, "height": 794})  # A4 landscape at 96 dpi
    page.wait_for_timeout(500)
    screenshot_full(page, "profile-leeds-print")
    pdf = page.pdf(path=str(OUTPUT / "profile-leeds.pdf"), format="A4", landscape=True, print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 40, f"{pages} A4 pages"
    page.emulate_media(media="screen")
    # the downloaded file, opened by itself on a phone-sized screen
    page.set_viewport_size(PHONE)
    page.goto(path.as_uri())
    page.screenshot(path=str(SCREENSHOTS / "profile-leeds-download-phone.png"))


def test_a_profile_link_names_the_place_before_streamlit_has_started(chromium, app_url):
    """The HTML itself carries the place's heading (app_pages.web.first_paint), so a reader sees which
    place a link opened before the app has loaded; it gives way to the page once Streamlit draws it."""
    with page_in_new_context(chromium) as page:
        # Streamlit's main script is held back until the first paint has been seen: on a warm server
        # the app can otherwise draw before a test gets to look.
        held: list = []
        main_script = re.compile(r"/static/js/index\.[\w-]+\.js$")
        page.route(main_script, lambda route: held.append(route))
        response = page.goto(app_url + LEEDS, wait_until="commit")
        assert "<h2>Leeds (E08000035)</h2>" in response.text()
        first = page.locator("#gg-first-paint")
        first.get_by_role("heading", name="Leeds (E08000035)").wait_for(state="visible")
        assert page.title() == "Leeds (E08000035) · Place profile · Good Growth"
        page.screenshot(path=str(SCREENSHOTS / "profile-leeds-first-paint.png"))
        while not held:
            page.wait_for_timeout(20)
        held[0].continue_()
        page.unroute(main_script)
        page.locator(ROWS).first.wait_for(timeout=90_000)
        assert not first.is_visible()
        heading = page.get_by_role("heading", name="Leeds (E08000035)")
        assert heading.count() == 1 and heading.is_visible()  # Streamlit's own, not a second copy
        page.screenshot(path=str(SCREENSHOTS / "profile-leeds-after-first-paint.png"))
    with page_in_new_context(chromium, java_script_enabled=False) as page:
        page.goto(app_url + LEEDS, wait_until="load")
        page.wait_for_timeout(300)
        assert page.get_by_role("heading", name="Leeds (E08000035)").is_visible()
        assert "indicators need JavaScript" in page.inner_text("#gg-first-paint")  # (text search skips noscript)
        page.screenshot(path=str(SCREENSHOTS / "profile-leeds-without-javascript.png"))


def test_the_first_paint_gives_way_on_a_profile_without_a_place(chromium, app_url):
    """/profile with no place: Streamlit's page (title and a message) replaces the first paint at once."""
    with page_in_new_context(chromium) as page:
        open_app(page, app_url + "/profile")
        assert not page.locator("#gg-first-paint").is_visible()
        assert page.get_by_role("heading", name="Place profile").count() == 1
