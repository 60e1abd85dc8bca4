"""The Prevention value page in Chromium against the real server: it values an example, draws the tornado,
shows no traceback, and is saved as a screenshot for a person to look at."""
from __future__ import annotations

import pytest

from tests.support.browser import exceptions_shown, generic_errors_shown, open_app, screenshot_full

pytestmark = pytest.mark.browser


def test_prevention_page_values_an_example(page, app_url):
    open_app(page, app_url + "/prevention?model=leeds-cardiovascular-prevention-illustrative.prevention.yaml")
    assert page.locator("h1").first.inner_text().strip() == "Prevention value"
    page.get_by_text("Which assumption matters most").first.wait_for(state="visible")
    page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first.wait_for(
        state="visible")
    screenshot_full(page, "prevention-leeds-cardiovascular")
    assert exceptions_shown(page) == []
    assert generic_errors_shown(page) == []
    assert page.get_by_text("only as good as the assumptions").count() >= 1
