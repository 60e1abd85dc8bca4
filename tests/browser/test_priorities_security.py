"""Poisoned free-text answers on the "What matters here?" page, in a real browser: answers that are
script, HTML and Markdown payloads are stored as written and drawn as text, in the public list and in
the local-mode moderation view; nothing runs, no element is injected, no link is made. The page, its
form and its answers have no serious accessibility violations (axe-core)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from indicators.priorities import ResponseStore, THEMES, migrate
from indicators.priorities.store import submission
from tests.support.browser import (OUTPUT, VIEWPORT, StreamlitServer, chromium_path, describe_violations,
                                   exceptions_shown, generic_errors_shown, open_app, page_in_new_context, run_axe,
                                   screenshot_full)
from tests.support.poisoned_snapshot import IFRAME, IMG, MD_LINK, SCRIPT, SVG

pytestmark = pytest.mark.browser

LEEDS = "E08000035"
ANSWERS = [SCRIPT, IMG, MD_LINK, SVG, IFRAME, "Visit www.evil.example or https://evil.example/x"]
# What a payload could leave in the DOM if it were parsed as HTML or Markdown.
_INJECTED_JS = r"""() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (tag === 'script' && (el.textContent || '').includes('__xss')) bad.push('script');
    if (tag === 'img' && el.getAttribute('src') === 'x') bad.push('img');
    if (tag === 'iframe' && el.hasAttribute('srcdoc')) bad.push('iframe');
    if (tag === 'svg' && el.hasAttribute('onload')) bad.push('svg');
    if (tag === 'a' && /evil\.example|javascript:/i.test(el.getAttribute('href') || '')) bad.push('link');
    for (const a of el.attributes) {
      if (/^on/i.test(a.name) && (a.value || '').includes('__xss')) bad.push('handler');
    }
  }
  return bad;
}"""


@pytest.fixture(scope="module")
def poisoned_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('priorities') / 'priorities.db'}"
    migrate(url)
    store = ResponseStore(url)
    for i, text in enumerate(ANSWERS):
        store.submit(submission(areacd=LEEDS, session_token=f"poisoned-session-{i:04d}",
                                ratings={t: 5 for t in THEMES}, free_text=text))
    store.dispose()
    return url


@pytest.fixture(scope="module")
def local_url(poisoned_db: str, chromium: Any) -> Iterator[str]:
    if chromium_path() is None:
        pytest.fail("chromium is not installed: run `bash tests/support/setup_browser.sh`")
    env = {"GOOD_GROWTH_DATABASE_URL": poisoned_db, "GOOD_GROWTH_PUBLIC_MODE": "false"}
    with StreamlitServer(env=env, log_path=OUTPUT / "streamlit-priorities.log") as server:
        yield server.url


def test_poisoned_answers_are_drawn_as_text_in_the_list_and_the_moderation_view(chromium, local_url):
    ctx = chromium.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        open_app(page, local_url + f"/priorities?place={LEEDS}", timeout_ms=180_000)
        page.get_by_text("Moderate and export (local mode only)").click()
        page.wait_for_timeout(800)  # let any injected handler (img onerror, svg onload) fire
        screenshot_full(page, "priorities-poisoned")
        assert dialogs == [], dialogs
        assert page.evaluate("() => typeof window.__xss") == "undefined"
        assert page.evaluate(_INJECTED_JS) == []
        assert not [e for e in errors if "__xss" in e]
        assert exceptions_shown(page) == [] and generic_errors_shown(page) == []
        text = page.locator("body").inner_text()
        for answer in ANSWERS:
            assert text.count(answer) >= 2, f"{answer!r} is not shown as text in the list and the moderation view"
    finally:
        ctx.close()


def test_the_form_and_answers_have_no_serious_accessibility_violations(chromium, local_url):
    with page_in_new_context(chromium) as page:
        open_app(page, local_url + f"/priorities?place={LEEDS}", timeout_ms=180_000)
        bad = [v for v in run_axe(page) if v["impact"] in ("critical", "serious")]
        assert not bad, describe_violations(bad)
