"""Drive the real dashboard in Debian's Chromium: a Streamlit server on a free loopback port,
a browser launched from the system binary (Playwright never downloads one), and helpers that
wait for Streamlit to settle, check that the WebGL map really drew, and run axe-core.

Used by tests/browser/ (through the fixtures below, imported by its conftest) and by
bench/browser.py. Setup on a fresh machine: tests/support/setup_browser.sh.
"""
from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# Quiet, offline Chromium: no background downloads, no sync, no first-run UI. --no-sandbox because
# CI runs as root; --disable-dev-shm-usage because containers have a small /dev/shm. The resolver
# rule keeps every test on loopback: any other host name fails to resolve (requests to other hosts
# are still recorded by the `page` fixture, so a test can say which ones the app tried).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"]
VIEWPORT = {"width": 1400, "height": 1000}

DECK = '[data-testid="stDeckGlJsonChart"]'
DECK_CANVAS = f"{DECK} canvas"
SVG_MAP = "svg.gg-map"  # the map explorer's server-drawn map (its default view)
MAP = f"{SVG_MAP}, {DECK_CANVAS}"  # whichever map the page draws first
EXCEPTION = '[data-testid="stException"]'
# Streamlit shows the status widget ("Running…") while a script run is in progress, and spinners
# or skeletons while cached functions and elements load.
BUSY = '[data-testid="stStatusWidget"], [data-testid="stSpinner"], [data-testid="stSkeleton"]'

# The app is settled when nothing has been busy for a while (a rerun can start just after the last).
_SETTLED_JS = """([busy, quietMs]) => {
  const now = performance.now();
  if (document.querySelector(busy) || !document.querySelector('h1')) { window.__ggQuietSince = null; return false; }
  if (!window.__ggQuietSince) window.__ggQuietSince = now;
  return now - window.__ggQuietSince >= quietMs;
}"""


def chromium_path() -> str | None:
    """Debian's chromium on PATH (or at its usual place); None when it is not installed."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StreamlitServer:
    """The dashboard as `make run` and the image start it (`python -m app_pages.server`: data loaded
    first, app.py behind the profile's first paint) on 127.0.0.1:<free port>, or with preload=False
    as plain `streamlit run app.py`; start() waits for /_stcore/health."""

    def __init__(self, port: int | None = None, log_path: Path | None = None, extra_args: list[str] | None = None,
                 env: dict[str, str] | None = None, preload: bool = True) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or OUTPUT / f"streamlit-{self.port}.log"
        self.extra_args = extra_args or []
        self.env = env
        # preload: start through app_pages.server, which loads the data before the server listens
        self.preload = preload
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 120.0) -> StreamlitServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        launch = ["-m", "app_pages.server"] if self.preload else ["-m", "streamlit", "run", str(ROOT / "app.py")]
        cmd = [sys.executable, *launch,
               "--server.port", str(self.port), "--server.address", "127.0.0.1",
               "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none", *self.extra_args]
        env = {**os.environ, **(self.env or {})}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"streamlit did not become healthy within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> StreamlitServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def launch_chromium(playwright: Any, **kwargs: Any) -> Any:
    path = chromium_path()
    if path is None:
        raise RuntimeError("chromium is not installed; run `bash tests/support/setup_browser.sh`")
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, **kwargs)


# ---------------------------------------------------------------- waiting and checking

def wait_settled(page: Any, timeout_ms: int = 90_000, quiet_ms: int = 700) -> None:
    """Wait for the page's h1 drawn by Streamlit (not the profile's first paint, which is in the HTML),
    then until Streamlit has been idle (no running script, spinner or skeleton) for quiet_ms."""
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout_ms)
    page.evaluate("() => { window.__ggQuietSince = null; }")  # measure quiet from now, not an earlier wait
    page.wait_for_function(_SETTLED_JS, arg=[BUSY, quiet_ms], timeout=timeout_ms, polling=100)


def open_app(page: Any, url: str, timeout_ms: int = 90_000) -> None:
    page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    wait_settled(page, timeout_ms)


def distinct_colours(png: bytes) -> int:
    from PIL import Image
    img = Image.open(io.BytesIO(png)).convert("RGB")
    return len(img.getcolors(maxcolors=1 << 24) or [])


def canvas_png(page: Any, selector: str = MAP) -> bytes:
    """The composited pixels of the first matching canvas (what a person sees, so WebGL canvases
    without preserveDrawingBuffer are read correctly)."""
    canvas = page.locator(selector).first
    canvas.wait_for(state="visible", timeout=60_000)
    canvas.scroll_into_view_if_needed()
    return canvas.screenshot(timeout=60_000)


def wait_map_drawn(page: Any, min_colours: int = 6, timeout_s: float = 60.0,
                   selector: str = MAP) -> int:
    """Poll the map canvas until it shows more than a few colours; return the count."""
    deadline = time.monotonic() + timeout_s
    colours = 0
    while time.monotonic() < deadline:
        colours = distinct_colours(canvas_png(page, selector))
        if colours >= min_colours:
            return colours
        time.sleep(0.25)
    return colours


def screenshot_full(page: Any, name: str) -> Path:
    """Screenshot the whole app: Streamlit scrolls inside its main section, not the document, so
    the viewport is stretched to the content's height first (and restored afterwards)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size or VIEWPORT
    height = page.evaluate("""() => {
      const main = document.querySelector('[data-testid="stMain"]') || document.scrollingElement;
      const side = document.querySelector('[data-testid="stSidebarContent"]');
      return Math.max(main.scrollHeight, side ? side.scrollHeight : 0, window.innerHeight);
    }""")
    height = int(min(max(height, size["height"]), 8000))
    try:
        if height > size["height"]:
            page.set_viewport_size({"width": size["width"], "height": height})
            page.wait_for_timeout(800)  # let charts and the map re-lay out at the new size
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)
    return path


def exceptions_shown(page: Any) -> list[str]:
    return page.locator(EXCEPTION).all_inner_texts()


def generic_errors_shown(page: Any) -> list[str]:
    """The app's catch-all message (a bug behind a friendly face) and Streamlit's own error boxes."""
    texts = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
    return [t for t in texts if "something went wrong" in t.lower()]


def run_axe(page: Any, exclude: list[str] | None = None) -> list[dict[str, Any]]:
    """axe-core's violations for the page, loaded from node_modules (no network)."""
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS} missing; run `bash tests/support/setup_browser.sh` (npm ci)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    context: Any = {"exclude": [[s] for s in exclude]} if exclude else "document"
    return page.evaluate("""async (context) => {
      const r = await axe.run(context === 'document' ? document : context,
                              {resultTypes: ['violations'], elementRef: true});
      const testids = (el) => {  // the Streamlit elements around a node, innermost first
        const out = [];
        for (let e = el; e && out.length < 6; e = e.parentElement) if (e.dataset && e.dataset.testid) out.push(e.dataset.testid);
        return out;
      };
      return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map(n => ({target: n.target, html: n.html.slice(0, 300), summary: n.failureSummary,
                                  testids: testids(n.element), text: n.element ? (n.element.innerText || '').slice(0, 120) : ''}))}));
    }""", context)


def describe_violations(violations: list[dict[str, Any]]) -> str:
    out = []
    for v in violations:
        out.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for n in v["nodes"][:8]:
            out.append(f"    {n['target']}  {n['html'][:160]}")
            out.append(f"      in {' < '.join(n.get('testids') or [])}; text: {n.get('text', '')!r}")
            if n.get("summary"):
                out.append("      " + n["summary"].replace("\n", " ")[:300])
    return "\n".join(out)


# ---------------------------------------------------------------- pytest fixtures

@pytest.fixture(scope="session")
def app_server() -> Iterator[StreamlitServer]:
    """The real dashboard on a free loopback port, for the whole browser session."""
    if chromium_path() is None:
        pytest.fail("chromium is not installed: run `bash tests/support/setup_browser.sh` (make test does)")
    port = free_port()  # the log is named by port, so concurrent runs do not overwrite each other's
    server = StreamlitServer(port=port, log_path=OUTPUT / f"streamlit-browser-tests-{port}.log").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def app_url(app_server: StreamlitServer) -> str:
    return app_server.url


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def warm_app(chromium: Any, app_url: str) -> str:
    """One load of the landing page so the first test does not pay for building the caches."""
    ctx = chromium.new_context(viewport=VIEWPORT)
    try:
        page = ctx.new_page()
        open_app(page, app_url + "/", timeout_ms=180_000)
    finally:
        ctx.close()
    return app_url


def is_local(url: str) -> bool:
    return url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:", "about:"))


DESKTOP, PHONE = {"width": 1440, "height": 900}, {"width": 390, "height": 844}


def new_context(browser: Any, viewport: dict[str, int] = VIEWPORT, **options: Any) -> Any:
    """A British visitor's browser at `viewport`; under 600 px wide it is a phone (touch, mobile).
    `options` go to Playwright's new_context (e.g. java_script_enabled=False)."""
    phone = viewport["width"] < 600
    ctx = browser.new_context(viewport=viewport, locale="en-GB", timezone_id="Europe/London", is_mobile=phone,
                              has_touch=phone, device_scale_factor=1, **options)
    ctx.set_default_timeout(60_000)
    return ctx


@contextmanager
def page_in_new_context(browser: Any, viewport: dict[str, int] = VIEWPORT, **options: Any) -> Iterator[Any]:
    """A page in a brand-new context (no cache, cookies or storage), closed afterwards."""
    ctx = new_context(browser, viewport, **options)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def _watched_page(ctx: Any) -> Any:
    pg = ctx.new_page()
    external: list[str] = []
    pg.on("request", lambda r: None if is_local(r.url) else external.append(r.url))
    pg.external_requests = external
    return pg


@pytest.fixture(scope="session")
def shared_context(chromium: Any, warm_app: str) -> Iterator[Any]:
    """One browser context for most tests: each test gets its own page (so its own Streamlit session),
    and Streamlit's 9 MB of JavaScript is fetched once into the context's HTTP cache, not per test."""
    ctx = new_context(chromium)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(shared_context: Any) -> Iterator[Any]:
    """A new page (a new Streamlit session) in the shared context. page.external_requests lists every
    request it made to a host other than the loopback server."""
    pg = _watched_page(shared_context)
    try:
        yield pg
    finally:
        pg.close()


@pytest.fixture
def desktop(chromium: Any, warm_app: str) -> Iterator[Any]:
    """A page in a new desktop-sized context (1440×900)."""
    with page_in_new_context(chromium, DESKTOP) as page:
        yield page


@pytest.fixture
def phone(chromium: Any, warm_app: str) -> Iterator[Any]:
    """A page in a new phone context (390×844, touch)."""
    with page_in_new_context(chromium, PHONE) as page:
        yield page


@pytest.fixture
def fresh_page(chromium: Any, warm_app: str) -> Iterator[Any]:
    """A page in a brand-new context (no cache, cookies or storage): a visitor who was sent a link."""
    ctx = new_context(chromium)
    try:
        yield _watched_page(ctx)
    finally:
        ctx.close()
