"""A newcomer on the home page types a postcode and sees the place's verdict card, on a desktop and
on a phone; the card's link opens the place's profile. Screenshots go to test-output/screenshots/."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import (DESKTOP, PHONE, exceptions_shown, generic_errors_shown, new_context, open_app,
                                   screenshot_full, wait_settled)

pytestmark = pytest.mark.browser

SCREENS = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(params=list(SCREENS))
def screen(request, chromium, warm_app):
    """A new visitor's browser at the screen's size (a phone also reports touch, as a phone does)."""
    name = request.param
    ctx = new_context(chromium, SCREENS[name])
    try:
        yield name, ctx.new_page()
    finally:
        ctx.close()


def test_a_newcomer_finds_leeds_by_postcode(screen, app_url):
    name, page = screen
    open_app(page, app_url + "/")
    expect(page.locator("h1").first).to_have_text("Good Growth")
    box = page.get_by_role("textbox", name=re.compile("Find your place"))
    expect(box).to_be_visible()  # on the page itself, not behind the sidebar button
    box.fill("LS1 4AP")
    box.press("Enter")
    page.get_by_role("heading", name="Leeds (E08000035)").wait_for()
    wait_settled(page)
    page.wait_for_url(re.compile(r"place=E08000035"))
    main = page.locator('[data-testid="stMain"]')
    text = main.inner_text()
    assert "Good-growth position:" in text and "Overall rank:" in text
    assert "Strongest: significantly better than England" in text
    assert "Weakest: significantly worse than England" in text
    screenshot_full(page, f"home-leeds-{name}")
    assert exceptions_shown(page) == [] and generic_errors_shown(page) == []
    # Nothing runs off the side of a phone's screen.
    overflow = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than the screen"

    page.get_by_role("link", name=re.compile("Full profile")).click()
    page.wait_for_url(re.compile(r"/profile\?.*place=E08000035"))
    wait_settled(page)
    page.get_by_role("heading", name="Leeds (E08000035)").wait_for()
    assert exceptions_shown(page) == [] and generic_errors_shown(page) == []
