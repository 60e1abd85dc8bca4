"""The public site against hostile text: a snapshot whose area names, indicator labels, publishers and
notes are script, HTML and Markdown payloads (tests/support/poisoned_snapshot.py), served in public
mode, and hostile plan uploads. Every page must draw the payloads as text: no dialog, no
`window.__xss`, no injected element, no traceback. Public mode must also offer no way to refresh.

One module-scoped server runs the poisoned snapshot in public mode; one test starts a second, local
server on the committed data to show the refresh control is there when it should be.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import (DECK_CANVAS, OUTPUT, ROOT, VIEWPORT, StreamlitServer, chromium_path,
                                   exceptions_shown, generic_errors_shown, open_app, screenshot_full,
                                   wait_map_drawn, wait_settled)
from tests.support.poisoned_snapshot import (FORMATTING, IFRAME, IMG, JS_URL, MD_LINK, SCRIPT, SVG,
                                             make_poisoned)

pytestmark = pytest.mark.browser

PUBLIC = {"GOOD_GROWTH_PUBLIC_MODE": "true", "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "none"}
PASSWD_LINE = "root:x:0:0"
UPLOADER_INPUT = '[data-testid="stFileUploader"] input[type="file"]'

# Everything a payload could leave in the DOM if it were parsed as HTML (the app's own Streamlit
# scripts are fine: only scripts mentioning __xss count). Also javascript: URLs anywhere.
_INJECTED_JS = r"""() => {
  const bad = [];
  const describe = (el) => el.outerHTML.slice(0, 200);
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (tag === 'script' && (el.textContent || '').includes('__xss')) bad.push('script: ' + describe(el));
    if (tag === 'img' && el.getAttribute('src') === 'x') bad.push('img: ' + describe(el));
    if (tag === 'iframe' && el.hasAttribute('srcdoc')) bad.push('iframe: ' + describe(el));
    for (const a of el.attributes) {
      const v = a.value || '';
      if (/^on/i.test(a.name) && v.includes('__xss')) bad.push('handler: ' + describe(el));
      if (/^(href|src|action|formaction|xlink:href)$/i.test(a.name) && /^\s*javascript:/i.test(v))
        bad.push('javascript url: ' + describe(el));
    }
  }
  return bad;
}"""


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def poisoned_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return make_poisoned(tmp_path_factory.mktemp("poisoned") / "data")


@pytest.fixture(scope="module")
def secure_url(poisoned_env: dict[str, str], chromium: Any) -> Iterator[str]:
    """The app in public mode on the poisoned snapshot, warmed by one load of the map."""
    if chromium_path() is None:
        pytest.fail("chromium is not installed: run `bash tests/support/setup_browser.sh`")
    server = StreamlitServer(env={**poisoned_env, **PUBLIC}, log_path=OUTPUT / "streamlit-security.log").start()
    try:
        ctx = chromium.new_context(viewport=VIEWPORT)
        try:
            open_app(ctx.new_page(), server.url + "/", timeout_ms=180_000)
        finally:
            ctx.close()
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def guarded(chromium: Any) -> Iterator[Any]:
    """A fresh context and page that records (and dismisses) every dialog and every page error."""
    ctx = chromium.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/London", accept_downloads=True)
    ctx.set_default_timeout(60_000)
    pg = ctx.new_page()
    pg.dialogs = []
    pg.page_errors = []

    def on_dialog(d: Any) -> None:
        pg.dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    pg.on("dialog", on_dialog)
    pg.on("pageerror", lambda e: pg.page_errors.append(str(e)))
    try:
        yield pg
    finally:
        ctx.close()


# ---------------------------------------------------------------- checks

def assert_not_injected(page: Any, where: str, streamlit: bool = True) -> None:
    assert page.dialogs == [], f"{where}: a dialog opened: {page.dialogs}"
    assert page.evaluate("() => typeof window.__xss") == "undefined", f"{where}: a payload ran (window.__xss set)"
    injected = page.evaluate(_INJECTED_JS)
    assert injected == [], f"{where}: payload parsed as HTML: {injected}"
    xss_errors = [e for e in page.page_errors if "__xss" in e]
    assert xss_errors == [], f"{where}: {xss_errors}"
    if streamlit:
        assert exceptions_shown(page) == [], f"{where}: traceback shown"
        assert generic_errors_shown(page) == [], f"{where}: catch-all error shown"


def visible_text(page: Any) -> str:
    return page.locator("body").inner_text()


def assert_shown(page: Any, where: str, payloads: list[str]) -> None:
    text = visible_text(page)
    for payload in payloads:
        assert payload in text, f"{where}: {payload!r} is not shown as text"


def open_guarded(page: Any, url: str) -> None:
    open_app(page, url)
    page.wait_for_timeout(300)  # let any injected handler (img onerror, svg onload) fire before checking


def tooltip_texts(page: Any) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('.deck-tooltip')]
        .filter(e => e.style.display !== 'none' && e.innerText.trim()).map(e => e.innerText)""")


_COLLECT_TIPS_JS = """() => {
  window.__ggTips = new Set();
  const grab = () => document.querySelectorAll('.deck-tooltip').forEach(e => {
    const t = (e.textContent || '').trim();
    if (t && e.style.display !== 'none') window.__ggTips.add(t);
  });
  new MutationObserver(grab).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def hover_grid(page: Any, selector: str = DECK_CANVAS, cols: int = 5, rows: int = 4, inset: float = 0.2) -> list[str]:
    """Move the mouse over a cols x rows grid on the middle of the canvas (`inset` of each side left
    out: mostly sea); return the distinct tooltips seen (an observer collects them, so the test does
    not wait on the renderer after every move)."""
    canvas = page.locator(selector).first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.evaluate(_COLLECT_TIPS_JS)
    for r in range(rows):
        for c in range(cols):
            fx, fy = inset + (1 - 2 * inset) * (c + 0.5) / cols, inset + (1 - 2 * inset) * (r + 0.5) / rows
            page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
            page.wait_for_timeout(150)
    return page.evaluate("() => [...window.__ggTips]")


def hover_near(page: Any, dx: float, dy: float, wanted: str, selector: str = DECK_CANVAS) -> str:
    """Hover around (dx, dy) pixels from the canvas centre (where the deck's view is centred) until a
    tooltip contains `wanted`, and return it; a missed hover fails the test as such (pytest.fail), never
    as a wrong tooltip."""
    canvas = page.locator(selector).first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for ox, oy in [(0, 0), (3, 3), (-3, -3), (3, -3), (-3, 3), (6, 0), (-6, 0), (0, 6), (0, -6), (8, 8), (-8, -8)]:
        page.mouse.move(cx + dx + ox, cy + dy + oy)
        page.wait_for_timeout(200)
        for text in tooltip_texts(page):
            if wanted in text:
                return text
    pytest.fail(f"no tooltip containing {wanted!r} near ({dx}, {dy}) from the map's centre")


# ---------------------------------------------------------------- every page with poisoned data

# (screenshot suffix, path, payloads that must be visible as literal text)
PAGES = [
    ("profile-hartlepool", "/profile?place=E06000001", [IMG]),
    ("compare", "/compare?places=E08000035,E06000001", [SCRIPT, IMG]),
    ("good-growth-leeds", "/good-growth?place=E08000035", [SCRIPT]),
    ("plan-gm", "/plan?example=greater-manchester-illustrative.yaml", [FORMATTING]),
    ("plan-cambridge", "/plan?example=cambridge-housing-illustrative.yaml", [SCRIPT + " Cambridge"]),
    ("plan-fylde", "/plan?example=fylde-coast-footprint-illustrative.yaml", []),
]


@pytest.mark.parametrize(("name", "path", "shown"), PAGES, ids=[p[0] for p in PAGES])
def test_poisoned_names_are_drawn_as_text(guarded, secure_url, name, path, shown):
    open_guarded(guarded, secure_url + path)
    screenshot_full(guarded, f"security-{name}")
    assert_not_injected(guarded, path)
    assert_shown(guarded, path, shown)


def test_data_page_draws_poisoned_text_as_text_and_offers_no_refresh(guarded, secure_url):
    open_guarded(guarded, secure_url + "/data")
    for tab in ["Indicators", "Sources and licences", "Coverage", "Methods", "Downloads", "Snapshot manifest"]:
        guarded.get_by_role("tab", name=tab).click()
        wait_settled(guarded)
        guarded.wait_for_timeout(200)
        assert_not_injected(guarded, f"/data, tab {tab}")
    screenshot_full(guarded, "security-data-manifest")
    # the manifest's source note goes through md(): shown exactly as written
    assert f"poisoned test copy {FORMATTING} {MD_LINK} {SCRIPT}" in visible_text(guarded)
    # public mode: the manifest tab says the copy is read-only and has no refresh control at all
    assert guarded.get_by_text("This public copy is read-only").is_visible()
    assert guarded.get_by_role("button", name=re.compile("refresh", re.I)).count() == 0
    assert guarded.get_by_text("Refresh the data").count() == 0
    # Captions built from the manifest go through md() too: Markdown in the data stays text, so a link in
    # it never becomes a live link (the footer's attribution, the districts without a boundary).
    footer = guarded.locator('[data-testid="stCaptionContainer"]').last.inner_text()
    assert MD_LINK in footer and FORMATTING in footer, footer
    districts = guarded.get_by_text("District codes in the data with no boundary").inner_text()
    assert MD_LINK in districts, districts
    assert guarded.get_by_role("link", name="click me").count() == 0


def test_map_draws_poisoned_text_as_text_and_its_tooltips_inject_nothing(guarded, secure_url):
    open_guarded(guarded, secure_url + "/map?place=E08000035")
    assert_not_injected(guarded, "map")
    assert_shown(guarded, "map", [SCRIPT, IMG])  # the default indicator's label and its publisher
    wait_map_drawn(guarded)
    # the drawn map names each area in its link's <title> (tooltip and accessible name), as text
    leeds = guarded.locator('svg.gg-map a[href^="/profile?place=E08000035"]')
    assert SCRIPT in leeds.locator("title").text_content()
    named = guarded.locator("svg.gg-map").get_by_role("link", name=SCRIPT)
    hrefs = [named.nth(i).get_attribute("href") for i in range(named.count())]
    assert any(h.startswith("/profile?place=E08000035") for h in hrefs), hrefs
    assert guarded.locator("svg.gg-map script, svg.gg-map img, svg.gg-map foreignObject").count() == 0
    assert_not_injected(guarded, "drawn map")
    open_guarded(guarded, secure_url + "/map?place=E08000035&view=interactive")
    wait_map_drawn(guarded, selector=DECK_CANVAS)
    screenshot_full(guarded, "security-map-leeds")
    seen = hover_grid(guarded)
    # Leeds (53.80 N, 1.55 W) sits about (57, 47) px from the view's centre (54.6 N, 3.2 W) at zoom 4.6.
    leeds = hover_near(guarded, 57, 47, "__xss")
    guarded.screenshot(path=str(OUTPUT / "screenshots" / "security-map-tooltip.png"))
    kings_lynn = hover_near(guarded, 124, 108, "Lynn and West Norfolk")  # 52.75 N, 0.40 E: a real apostrophe
    assert len(seen) >= 5, f"hovering the map showed only {len(seen)} distinct tooltips: {seen}"
    assert_not_injected(guarded, "map after hovering")
    # Names as written, escaped once: Streamlit's deck.gl html tooltip escapes interpolated values itself,
    # so the page escaping them too showed "King&#x27;s Lynn and West Norfolk" and "&lt;script&gt;".
    assert SCRIPT in leeds, leeds
    assert "King's Lynn and West Norfolk" in kings_lynn, kings_lynn


def test_profile_draws_poisoned_text_as_text_and_its_tooltips_inject_nothing(guarded, secure_url):
    open_guarded(guarded, secure_url + "/profile?place=E08000035")
    screenshot_full(guarded, "security-profile-leeds")
    assert_not_injected(guarded, "profile")
    assert_shown(guarded, "profile", [SCRIPT, SVG, MD_LINK])  # the place, its region, England
    guarded.get_by_role("tab", name="Statistical neighbours").click()
    wait_map_drawn(guarded, min_colours=3)
    assert_shown(guarded, "profile neighbours", [IFRAME])  # a neighbour's name in the list
    # Each hover redraws the map in software GL (slow under load, so fast moves coalesce): a short grid.
    seen = hover_grid(guarded, cols=4, rows=3)
    # Leeds is about (41, 29) px from the neighbour map's centre (54.4 N, 3.0 W) at zoom 4.3.
    leeds = hover_near(guarded, 41, 29, "__xss")
    assert len(seen) >= 2, f"hovering the neighbour map showed only {len(seen)} distinct tooltips: {seen}"
    assert_not_injected(guarded, "neighbour map after hovering")
    assert SCRIPT in leeds, leeds  # a plain-text tooltip: the name goes in unescaped and shows as written


# ---------------------------------------------------------------- plan reports

def _assert_report_safe(page: Any, path: Path, where: str, shown: list[str]) -> None:
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(300)
    assert_not_injected(page, where, streamlit=False)
    text = visible_text(page)
    for payload in shown:
        assert payload in text, f"{where}: {payload!r} not shown as text"


def test_plan_reports_draw_poisoned_text_as_text(guarded, secure_url, poisoned_env, tmp_path):
    # One example through the CLI (in the background while the browser downloads another).
    env = {**os.environ, **poisoned_env, **PUBLIC}
    cli = {}
    for stem in ("cambridge-housing-illustrative",):
        out = tmp_path / f"{stem}.html"
        cli[stem] = (out, subprocess.Popen(
            [sys.executable, "-m", "indicators", "evaluate", str(ROOT / "plans" / "examples" / f"{stem}.yaml"),
             "--format", "html", "--out", str(out)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE))
    # The Greater Manchester example through the page's own download button.
    open_guarded(guarded, secure_url + "/plan?example=greater-manchester-illustrative.yaml")
    with guarded.expect_download() as dl:
        guarded.get_by_role("button", name="HTML report").click()
    report = tmp_path / "greater-manchester.html"
    dl.value.save_as(report)
    _assert_report_safe(guarded, report, "GM report (downloaded)", [FORMATTING, IMG, MD_LINK, JS_URL])
    screenshot_full(guarded, "security-plan-report")
    for stem, (out, proc) in cli.items():
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"{stem}: evaluate failed: {err.decode(errors='replace')}"
        shown = [SCRIPT + " Cambridge"] if stem.startswith("cambridge") else []
        _assert_report_safe(guarded, out, f"{stem} report (CLI)", shown)


# ---------------------------------------------------------------- hostile uploads in public mode

VALID_PLAN = """title: "{title}"
place: {{name: "{name}", districts: [E08000035, E08000036]}}
published: 2024-01-01
baseline: 2022
objectives:
  - title: "{objective}"
    pillar: economy
    weight: 1
    indicators: [employment-rate]
    targets:
      - {{horizon: medium, year: 2028, reach: 80}}
"""
TRAVERSAL = "../../../../etc/passwd"
BILLION_LAUGHS = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
PWNED_MARKER = Path("/tmp/good-growth-security-test-pwned")
PYTHON_TAG = f'title: !!python/object/apply:os.system ["touch {PWNED_MARKER}"]\n'.encode()
BINARY = bytes(range(256)) * 40 + b"\x00\x00PK\x03\x04"
OVERSIZED = b"title: big\n" + b"# " + b"x" * 78 + b"\n" + (b"# " + b"x" * 78 + b"\n") * 26_000  # ~2 MB

STREAMLIT_REFUSED = re.compile(r"(must be .*(smaller|less)|too large|exceeds|not allowed|not supported)", re.I)
APP_REFUSED = "The plan could not be used"

# (id, file name, body, expected outcome, text the outcome must show). Outcomes: "streamlit" (the uploader
# refuses it in the browser: > 1 MB or not .yaml/.yml), "app" (the page's "The plan could not be used: ..."
# naming the file) or "evaluated" (a valid plan: its heading shows the given text as text).
# Streamlit refusals first: a refused file stays listed in the uploader but never replaces the app's file.
UPLOADS = [
    ("oversized-2mb", "big.yaml", OVERSIZED, "streamlit", "1.0MB or smaller"),
    ("binary-extension", "plan.bin", BINARY, "streamlit", "not allowed"),
    ("binary-as-yaml", "plan.yaml", BINARY, "app", "not UTF-8"),
    ("billion-laughs", "laughs.yaml", BILLION_LAUGHS, "app", "not allowed"),
    ("python-tag", "tag.yaml", PYTHON_TAG, "app", "python/object"),
    ("path-traversal-text", "traversal.yaml",
     VALID_PLAN.format(title=TRAVERSAL, name=TRAVERSAL, objective=TRAVERSAL).encode(), "evaluated", TRAVERSAL),
    ("path-traversal-indicator", "traversal-id.yaml",
     VALID_PLAN.format(title="t", name="n", objective="o").replace("[employment-rate]", f"[{TRAVERSAL}]").encode(),
     "app", f"unknown indicator '{TRAVERSAL}'"),
    ("script-title", "script.yaml",
     VALID_PLAN.format(title=SCRIPT.replace('"', '\\"'), name=IMG.replace('"', '\\"'), objective=MD_LINK).encode(),
     "evaluated", SCRIPT),
]


def _upload_outcome(page: Any, name: str, filename: str, body: bytes, outcome: str, shown: str) -> list[str]:
    """Upload one file on the open plan page, wait for its outcome; the problems found (empty = fine)."""
    page.locator(UPLOADER_INPUT).set_input_files(files=[{
        "name": filename, "buffer": body,
        "mimeType": "application/x-yaml" if filename.endswith(".yaml") else "application/octet-stream"}])
    if outcome == "streamlit":
        # the uploader lists the file with its error, in the browser; the script never sees it
        page.locator('[data-testid="stFileUploader"]', has_text=filename).wait_for(timeout=30_000)
    elif outcome == "app":
        page.locator('[data-testid="stAlertContentError"]', has_text=filename).first.wait_for(timeout=60_000)
    else:
        page.locator('[data-testid="stMain"] h2', has_text=shown).first.wait_for(timeout=60_000)
    page.wait_for_timeout(300)
    wait_settled(page)
    if outcome == "evaluated":
        screenshot_full(page, f"security-upload-{name}")
    else:
        page.screenshot(path=str(OUTPUT / "screenshots" / f"security-upload-{name}.png"))
    problems = []
    try:
        assert_not_injected(page, f"upload {name}")
    except AssertionError as exc:
        problems.append(str(exc))
    text = visible_text(page)
    errors = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
    if outcome == "streamlit":
        listed = page.locator('[data-testid="stFileUploader"]').inner_text()
        after = listed[listed.rfind(filename):]
        if not (STREAMLIT_REFUSED.search(after) and shown in after):
            problems.append(f"the uploader did not refuse {filename}: {after!r}")
        if any(filename in e for e in errors):
            problems.append(f"{filename} reached the app: {errors}")
    elif outcome == "app":
        mine = [e for e in errors if filename in e]
        if not (mine and APP_REFUSED in mine[0] and shown in mine[0]):
            problems.append(f"no clear refusal naming {filename} and {shown!r}: {errors}")
    else:
        if errors:
            problems.append(f"a valid plan was refused: {errors}")
        heading = page.locator('[data-testid="stMain"] h2').first.inner_text().strip()
        if heading != shown:
            problems.append(f"heading {heading!r}, expected the literal {shown!r}")
    if PASSWD_LINE in text or "/bin/bash" in text or "nologin" in text:
        problems.append("the page shows the content of /etc/passwd")
    if PWNED_MARKER.exists():
        problems.append("a YAML python tag ran a command")
    return [f"{name}: {p}" for p in problems]


def test_hostile_uploads_are_refused_or_shown_as_text(guarded, secure_url):
    """Every hostile file, one after another on one plan page (each replaces the last): a clear message,
    no dialog, no injection, no traceback, no file read, no command run."""
    PWNED_MARKER.unlink(missing_ok=True)
    open_guarded(guarded, secure_url + "/plan")
    guarded.get_by_text("Upload a plan (YAML)").click()
    wait_settled(guarded)
    problems = []
    for case in UPLOADS:
        problems.extend(_upload_outcome(guarded, *case))
    assert problems == [], "\n".join(problems)


# ---------------------------------------------------------------- refresh is absent in public mode

def test_refresh_cli_refuses_in_public_mode(poisoned_env):
    snapshot = Path(poisoned_env["GOOD_GROWTH_SNAPSHOT_DIR"])
    before = (snapshot / "manifest.json").read_bytes()
    # Unreachable sources too: if the refusal ever broke, the refresh fails fast and offline.
    env = {**os.environ, **poisoned_env, **PUBLIC, "GOOD_GROWTH_SOURCE_BASE_URL": "http://127.0.0.1:9/",
           "GOOD_GROWTH_HTTP_RETRIES": "0"}
    proc = subprocess.run([sys.executable, "-m", "data_sources", "refresh", "--snapshot", str(snapshot)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "public mode" in lines[0], proc.stderr
    assert (snapshot / "manifest.json").read_bytes() == before


def test_poisoned_snapshot_verifies(poisoned_env):
    """The poisoned copy is a valid snapshot, so the pages above really read it (not an error page)."""
    proc = subprocess.run([sys.executable, "-m", "data_sources", "verify", "--snapshot",
                           poisoned_env["GOOD_GROWTH_SNAPSHOT_DIR"]], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_local_mode_offers_refresh(guarded):
    """Without public mode (a local copy on the committed data) the control is there; it is not pressed."""
    env = {"GOOD_GROWTH_PUBLIC_MODE": "false", "GOOD_GROWTH_SNAPSHOT_DIR": str(ROOT / "data"),
           "GOOD_GROWTH_CATALOGUE_PATH": str(ROOT / "indicators" / "catalogue.yaml")}
    with StreamlitServer(env=env, log_path=OUTPUT / "streamlit-security-local.log") as server:
        open_app(guarded, server.url + "/data", timeout_ms=180_000)
        guarded.get_by_role("tab", name="Snapshot manifest").click()
        wait_settled(guarded)
        assert guarded.get_by_role("button", name="Refresh from the source now").is_visible()
        assert guarded.get_by_text("This public copy is read-only").count() == 0
