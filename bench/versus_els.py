"""Benchmark: Good Growth side by side with the official ONS Explore Local Statistics (ELS) app.

Both apps run on loopback: ELS from its offline production build (`../shared/anchors/els/` beside
the checkout, or GOOD_GROWTH_ELS_DIR; its README says how it starts) under Node, and Good Growth
from this checkout under Streamlit. The same headless Chromium runs the same scripted visits on
each, interleaved (the order alternates every repetition) so that load from other processes on the
machine falls on both alike; the table prints medians and the ratio Good Growth / ELS, which is the
figure to read on a busy machine.

Visits, each in a fresh browser context (empty cache) unless said otherwise:
  - navigation → first drawn map: the indicator's map page (ELS /indicators/<slug>, ours /map), until
    the map canvas shows the choropleth's colours (screenshots of the canvas over CDP, as
    bench/browser.py does). ELS draws its map only once it is scrolled into view, so the bench
    scrolls to it as soon as it exists, as a visitor following the page's "Map" link would;
  - returning visit → drawn map: the same page again in the same context (HTTP cache warm);
  - indicator switch → redrawn map: from choosing another indicator (ours: clicking it in the
    Indicator box, already opened and filtered by typing; ELS: clicking a link to that indicator's
    page, which its router loads in place) to the canvas settling on the new map. Opening our box
    and typing (about 0.3 s of browser work) comes before the choice, as finding the link does on
    ELS, and is not timed;
  - area profile (Leeds) loaded: the page has stopped changing (no DOM change, no HTTP request in
    flight and, for Streamlit, no running script) for a second; the figure is when it last changed;
  - area profile: time to heading: the first h1/h2 naming Leeds;
  - first-load bytes on the wire, map page and profile: HTTP bodies and headers as encoded, plus
    WebSocket frames (deflated size estimated per message, as the server compresses them) for a
    first visit. Ours is measured as `make run` serves it and, where `caddy` is installed, behind
    the hosted proxy configuration (deploy/Caddyfile: `encode zstd gzip`).

Skips with the reason (exit 0) when the ELS folder, Node or Chromium is missing.

    python bench/versus_els.py [--repeats 5]
"""
from __future__ import annotations

import argparse
import base64
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.support.browser import (BUSY, MAP, VIEWPORT, StreamlitServer, chromium_path,  # noqa: E402
                                   free_port, launch_chromium)

ELS_DIR = Path(os.environ.get("GOOD_GROWTH_ELS_DIR", ROOT.parent / "shared" / "anchors" / "els"))
ELS_DATA_PORT = 8641  # fixed in the ELS build (see its README)
PLACE, PLACE_NAME = "E08000035", "Leeds"
# The map both apps open on, and its sibling to switch to (published for local authorities in both;
# ELS shows "no data" for some indicators at that level after an in-place switch).
FIRST, OTHERS = "children-in-relative-poverty-before-housing", ["children-in-relative-poverty-after-housing"]
OUR_LABELS = {"children-in-relative-poverty-after-housing": "Child poverty (after housing costs) (Public services)"}
MIN_HUES = 5     # a drawn choropleth shows at least this many distinct saturated colours
QUIET_S = 1.0    # "loaded" = nothing changed for this long


@dataclass(frozen=True)
class App:
    """One side of the comparison: where its pages are and how its map and switch work."""
    name: str
    base: str
    map_path: str
    profile_path: str
    canvas: str
    scroll_to: str | None
    switch: Callable[[object, str], Callable[[], None]]  # gets the choice ready; returns the choosing click


# ---------------------------------------------------------------- starting the apps

def skip(reason: str) -> None:
    print(f"skipped: {reason}")
    raise SystemExit(0)


def _get(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError):
        return 0


def _wait_for(url: str, proc: subprocess.Popen | None, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _get(url) == 200:
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        time.sleep(0.25)
    raise RuntimeError(f"{what} did not answer {url} within {timeout:.0f} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextmanager
def els_server() -> Iterator[str]:
    """ELS as its start.sh runs it: the offline data folder on 127.0.0.1:8641 and `node build`."""
    node = shutil.which("node")
    if not (ELS_DIR / "build").is_dir() or not (ELS_DIR / "offline").is_dir():
        skip(f"no ELS build at {ELS_DIR} (set GOOD_GROWTH_ELS_DIR)")
    if node is None:
        skip("node is not installed (Debian: apt-get install nodejs)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    procs = []
    try:
        if _get(f"http://127.0.0.1:{ELS_DATA_PORT}/") != 200:  # another ELS run may already serve it
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "http.server", str(ELS_DATA_PORT), "--bind", "127.0.0.1",
                 "--directory", str(ELS_DIR / "offline")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "ORIGIN": url}
        procs.append(subprocess.Popen([node, "build"], cwd=ELS_DIR, env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True))
        _wait_for(f"http://127.0.0.1:{ELS_DATA_PORT}/", None, "the ELS data server", 30)
        _wait_for(url + "/api/alive", procs[-1], "ELS")
        yield url
    finally:
        for p in reversed(procs):
            _stop(p)


@contextmanager
def caddy_in_front(upstream: str) -> Iterator[str | None]:
    """deploy/Caddyfile with its upstreams pointed at `upstream`, on a free loopback port; None
    (nothing measured behind the proxy) when caddy is not installed."""
    caddy = shutil.which("caddy")
    if caddy is None:
        yield None
        return
    port = free_port()
    config = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    config = config.replace("app1:8501 app2:8501", upstream.removeprefix("http://"))
    config = re.sub(r"^:8080 \{", f"http://127.0.0.1:{port} {{", config, flags=re.M)
    config = re.sub(r"^\s*log \{.*?\n\s*\}\n", "", config, flags=re.M | re.S)  # keep the bench's output clean
    with tempfile.TemporaryDirectory(prefix="bench-caddy-") as folder:
        (Path(folder) / "Caddyfile").write_text(config, encoding="utf-8")
        env = {"HOME": folder, "XDG_DATA_HOME": folder, "XDG_CONFIG_HOME": folder, "PATH": "/usr/bin:/bin"}
        proc = subprocess.Popen([caddy, "run", "--adapter", "caddyfile", "--config", str(Path(folder) / "Caddyfile")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_for(url + "/_stcore/health", proc, "caddy", 30)
            yield url
        finally:
            _stop(proc)


# ---------------------------------------------------------------- what the browser sees

def hues(png: bytes | None) -> int:
    """Distinct saturated colours covering a visible share of the image: the choropleth's classes.
    Greys (background, borders, anti-aliasing against grey) and specks do not count, so an empty map
    or one still showing its boundaries only reads as 0."""
    if not png:
        return 0
    img = Image.open(io.BytesIO(png)).convert("RGB").reduce(2)
    min_px = max(20, img.width * img.height // 2000)
    found = 0
    for count, (r, g, b) in img.getcolors(maxcolors=1 << 20) or []:
        if count >= min_px and max(r, g, b) - min(r, g, b) >= 24:
            found += 1
    return found


class Canvas:
    """The composited pixels of the first visible canvas matching `selector`, over CDP."""

    def __init__(self, page, selector: str, scroll_to: str | None) -> None:
        self.page, self.selector, self.scroll_to = page, selector, scroll_to
        self.cdp = page.context.new_cdp_session(page)

    def capture(self) -> bytes | None:
        if self.scroll_to:  # keep the map in view (a client-side navigation may scroll back to the top)
            self.page.evaluate("(s) => { const e = document.querySelector(s); if (!e) return; "
                               "const r = e.getBoundingClientRect(); "
                               "if (r.top < -5 || r.top > innerHeight / 3) e.scrollIntoView({block: 'start'}); }",
                               self.scroll_to)
        box = self.page.evaluate("""(sel) => {
          for (const c of document.querySelectorAll(sel)) {
            const r = c.getBoundingClientRect();
            if (r.width > 10 && r.height > 10) return {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height};
          }
          return null;
        }""", self.selector)
        if box is None:
            return None
        shot = self.cdp.send("Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True,
                                                         "clip": {**box, "scale": 1}, "captureBeyondViewport": False})
        return base64.b64decode(shot["data"])


def time_to_drawn_map(page, app: App, timeout_s: float = 120.0) -> float:
    t0 = time.perf_counter()
    page.goto(app.base + app.map_path, wait_until="commit", timeout=timeout_s * 1000)
    canvas = Canvas(page, app.canvas, app.scroll_to)
    while time.perf_counter() - t0 < timeout_s:
        if hues(canvas.capture()) >= MIN_HUES:
            return time.perf_counter() - t0
        time.sleep(0.02)
    raise TimeoutError(f"{app.name}: the map did not draw within {timeout_s:.0f} s")


def time_to_redrawn_map(page, app: App, target: str, timeout_s: float = 60.0) -> float:
    """Seconds from the switch to the canvas showing the new map (the first moment of the image it
    settles on, held for a second with nothing running)."""
    canvas = Canvas(page, app.canvas, app.scroll_to)
    before = canvas.capture()
    choose = app.switch(page, target)
    t0 = time.perf_counter()
    choose()
    last, since = None, None
    while time.perf_counter() - t0 < timeout_s:
        png = canvas.capture()
        now = time.perf_counter() - t0
        if png != last:
            last, since = png, now
        busy = page.evaluate("(b) => !!document.querySelector(b)", BUSY)
        if (png and png != before and hues(png) >= MIN_HUES and not busy and now - since >= QUIET_S):
            return since
        time.sleep(0.02)
    raise TimeoutError(f"{app.name}: the map was not redrawn within {timeout_s:.0f} s")


_WATCH_JS = """() => {
  if (window.__benchWatch) return;
  window.__benchWatch = true;
  window.__lastChange = performance.now();
  new MutationObserver(() => { window.__lastChange = performance.now(); })
    .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
}"""


def profile_times(page, app: App, timeout_s: float = 120.0) -> tuple[float, float]:
    """(time to the heading naming the place, time the page was loaded), from page.goto."""
    inflight: set = set()
    last_net = [0.0]

    def done(req) -> None:
        inflight.discard(req)
        last_net[0] = time.time()

    page.on("request", lambda req: inflight.add(req))
    page.on("requestfinished", done)
    page.on("requestfailed", done)
    page.add_init_script(f"({_WATCH_JS})()")  # the script is run as written: call the function
    start = time.time()
    t0 = time.perf_counter()
    page.goto(app.base + app.profile_path, wait_until="commit", timeout=timeout_s * 1000)
    heading = None
    while time.perf_counter() - t0 < timeout_s:
        state = page.evaluate("""([name, busy]) => ({
            heading: [...document.querySelectorAll('h1, h2')].some(h => h.textContent.includes(name)),
            busy: !!document.querySelector(busy),
            last: performance.timeOrigin + (window.__lastChange || 0)})""", [PLACE_NAME, BUSY])
        now = time.perf_counter() - t0
        if heading is None and state["heading"]:
            heading = now
        last = max(state["last"] / 1000, last_net[0])
        if heading is not None and not state["busy"] and not inflight and time.time() - last >= QUIET_S:
            return heading, max(last - start, heading)
        time.sleep(0.05)
    raise TimeoutError(f"{app.name}: the profile did not finish loading within {timeout_s:.0f} s")


class WireBytes:
    """What crossed the wire for one page: HTTP as encoded, WebSocket frames as deflated."""

    def __init__(self, page) -> None:
        self.http = self.ws = 0
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.webSocketFrameReceived", self._frame)
        cdp.on("Network.webSocketFrameSent", self._frame)

    def _finished(self, e: dict) -> None:
        self.http += e.get("encodedDataLength", 0)

    def _frame(self, e: dict) -> None:
        r = e["response"]
        data = base64.b64decode(r["payloadData"]) if r.get("opcode") == 2 else r["payloadData"].encode()
        c = zlib.compressobj(6, zlib.DEFLATED, -15)  # permessage-deflate, per message
        self.ws += len(c.compress(data) + c.flush())

    @property
    def total(self) -> int:
        return self.http + self.ws


# ---------------------------------------------------------------- the two apps

def _our_switch(page, slug: str) -> Callable[[], None]:
    label = OUR_LABELS[slug]
    box = page.get_by_role("combobox", name="Indicator")
    box.click()
    box.fill(label.split(" (")[0])
    option = page.get_by_role("option", name=label, exact=True)
    option.wait_for()
    return option.click


def _els_switch(page, slug: str) -> Callable[[], None]:
    # A link to the sibling indicator, followed by ELS's client-side router (no full page load).
    page.evaluate("""(href) => { const a = document.createElement('a'); a.href = href; a.id = 'bench-switch';
                                 a.textContent = 'switch'; document.body.appendChild(a); }""",
                  f"/indicators/{slug}")
    return lambda: page.evaluate("() => document.getElementById('bench-switch').click()")


def apps(els_url: str, our_url: str) -> list[App]:
    return [
        App("ELS", els_url, f"/indicators/{FIRST}", f"/areas/{PLACE}-{PLACE_NAME.lower()}",
            "canvas.maplibregl-canvas", "#map", _els_switch),
        App("Good Growth", our_url, "/map", f"/profile?place={PLACE}", MAP, None, _our_switch),
    ]


# ---------------------------------------------------------------- one repetition

MEASURES = ["navigation → first drawn map", "returning visit → drawn map", "indicator switch → redrawn map",
            "area profile (Leeds) loaded", "area profile: time to heading",
            "first-load bytes, map page", "first-load bytes, profile"]


def one_visit_set(browser, app: App, rep: int) -> dict[str, float]:
    out: dict[str, float] = {}
    with ExitStack() as stack:
        ctx = browser.new_context(viewport=VIEWPORT)
        stack.callback(ctx.close)
        page = ctx.new_page()
        wire = WireBytes(page)
        out[MEASURES[0]] = time_to_drawn_map(page, app)
        page.wait_for_timeout(int(QUIET_S * 1000))
        out[MEASURES[5]] = wire.total
        out[MEASURES[1]] = time_to_drawn_map(page, app)
        out[MEASURES[2]] = time_to_redrawn_map(page, app, OTHERS[rep % len(OTHERS)])
    with ExitStack() as stack:
        ctx = browser.new_context(viewport=VIEWPORT)
        stack.callback(ctx.close)
        page = ctx.new_page()
        wire = WireBytes(page)
        out[MEASURES[4]], out[MEASURES[3]] = profile_times(page, app)
        out[MEASURES[6]] = wire.total
    return out


def first_load_bytes(browser, base: str, app: App) -> tuple[int, int]:
    """First-load bytes of the map page and the profile through `base` (e.g. the proxy)."""
    via = App(app.name, base, app.map_path, app.profile_path, app.canvas, app.scroll_to, app.switch)
    sizes = []
    for visit in (lambda p: time_to_drawn_map(p, via), lambda p: profile_times(p, via)):
        ctx = browser.new_context(viewport=VIEWPORT)
        try:
            page = ctx.new_page()
            wire = WireBytes(page)
            visit(page)
            page.wait_for_timeout(int(QUIET_S * 1000))
            sizes.append(wire.total)
        finally:
            ctx.close()
    return sizes[0], sizes[1]


# ---------------------------------------------------------------- main

def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def fmt(measure: str, v: float) -> str:
    return f"{v / 1e6:.2f} MB" if "bytes" in measure else f"{v:.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--plain", action="store_true",
                    help="start Good Growth with plain `streamlit run app.py` (data loaded by the first visitor) "
                         "instead of `python -m app_pages.server` (data loaded before the server listens)")
    args = ap.parse_args()
    if chromium_path() is None:
        skip("chromium is not installed (bash tests/support/setup_browser.sh)")
    print(f"load average before: {load_average()} on {os.cpu_count()} CPUs; Good Growth started with "
          + ("streamlit run app.py" if args.plain else "python -m app_pages.server"))
    log = ROOT / "test-output" / "bench-versus-els-server.log"
    with els_server() as els_url, StreamlitServer(log_path=log, env={"GOOD_GROWTH_PUBLIC_MODE": "true"},
                                                     preload=not args.plain) as ours, \
            sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            both = apps(els_url, ours.url)
            # The first visitor on a fresh server (not in the medians: it also warms the caches).
            cold = {}
            for app in both:
                ctx = browser.new_context(viewport=VIEWPORT)
                cold[app.name] = time_to_drawn_map(ctx.new_page(), app)
                ctx.close()
            results: dict[str, dict[str, list[float]]] = {a.name: {m: [] for m in MEASURES} for a in both}
            for rep in range(max(1, args.repeats)):
                order = both if rep % 2 == 0 else both[::-1]
                for app in order:
                    for m, v in one_visit_set(browser, app, rep).items():
                        results[app.name][m].append(v)
                print(f"  repetition {rep + 1}/{args.repeats} (load {load_average()}): "
                      + "; ".join(f"{m.split(' → ')[0].split(':')[-1].strip()} "
                                  f"{fmt(m, results['ELS'][m][-1])} vs {fmt(m, results['Good Growth'][m][-1])}"
                                  for m in MEASURES), flush=True)
            with caddy_in_front(ours.url) as proxied:
                hosted = first_load_bytes(browser, proxied, both[1]) if proxied else None
        finally:
            browser.close()

    n = max(1, args.repeats)
    print(f"\nmedians of {n} interleaved repetitions; load average after: {load_average()}")
    print(f"| measure | ELS | Good Growth | ratio |\n|---|---|---|---|")
    for m in MEASURES:
        e, g = statistics.median(results["ELS"][m]), statistics.median(results["Good Growth"][m])
        print(f"| {m} | {fmt(m, e)} | {fmt(m, g)} | {g / e:.2f}× |")
    e_map = statistics.median(results["ELS"][MEASURES[5]])
    e_prof = statistics.median(results["ELS"][MEASURES[6]])
    if hosted:
        print(f"| first-load bytes, map page, hosted (Caddy, deploy/Caddyfile) | {fmt('bytes', e_map)} | "
              f"{fmt('bytes', hosted[0])} | {hosted[0] / e_map:.2f}× |")
        print(f"| first-load bytes, profile, hosted (Caddy, deploy/Caddyfile) | {fmt('bytes', e_prof)} | "
              f"{fmt('bytes', hosted[1])} | {hosted[1] / e_prof:.2f}× |")
    else:
        print("hosted bytes not measured: caddy is not installed")
    print(f"| first visitor on a fresh server → drawn map (one visit) | {cold['ELS']:.2f} s | "
          f"{cold['Good Growth']:.2f} s | {cold['Good Growth'] / cold['ELS']:.2f}× |")
    spread = {a: {m: (min(v), max(v)) for m, v in r.items()} for a, r in results.items()}
    print("\nranges (min–max):")
    for m in MEASURES:
        (e0, e1), (g0, g1) = spread["ELS"][m], spread["Good Growth"][m]
        print(f"  {m}: ELS {fmt(m, e0)}–{fmt(m, e1)}; Good Growth {fmt(m, g0)}–{fmt(m, g1)}")


if __name__ == "__main__":
    main()
