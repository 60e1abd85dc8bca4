"""Benchmark: the dashboard in Debian's Chromium against a freshly started server on 127.0.0.1.

Prints:
  - navigation to the first drawn map: from page.goto to the map canvas showing its colours, for the
    cold first load (server caches empty) and warm loads (target ≤ 2 s warm);
  - indicator switch to the redrawn map: from choosing another indicator to the canvas showing the new
    map (target ≤ 0.5 s);
  - bytes transferred for the landing page once the server is warm: HTTP response bodies and headers
    (as encoded on the wire) plus WebSocket frames (target ≤ 1 MB);
  - server memory (RSS of the server and its children) with 10 browser contexts loading the landing
    page at once (target ≤ 500 MB);
  - home page → verdict card visible for a typed postcode (LS1 4AP), warm server (target ≤ 2 s);
  - place profile (Leeds) → first spine row painted, warm server (target ≤ 2 s).

Everything runs on loopback, every loop is bounded, and the server and browser stop at the end.

    python bench/browser.py [--warm-loads 5] [--switches 5] [--contexts 10]
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import io
import statistics
import sys
import threading
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.support.browser import (MAP, VIEWPORT, StreamlitServer, launch_chromium,  # noqa: E402
                                   wait_settled)

LANDING = "/map"
OTHER_INDICATORS = ["Median weekly pay (Economy)", "Employment rate (Economy)"]
MIN_COLOURS = 6


# ---------------------------------------------------------------- canvas pixels over CDP

class Canvas:
    """Fast captures of the map canvas's composited pixels (what a person sees)."""

    def __init__(self, page) -> None:
        self.page = page
        self.cdp = page.context.new_cdp_session(page)

    def box(self) -> dict | None:
        return self.page.evaluate("""(sel) => {
          const c = document.querySelector(sel);
          if (!c) return null;
          const r = c.getBoundingClientRect();
          return r.width > 10 && r.height > 10 ? {x: r.x, y: r.y, width: r.width, height: r.height} : null;
        }""", MAP)

    def capture(self) -> bytes | None:
        box = self.box()
        if box is None:
            return None
        shot = self.cdp.send("Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True,
                                                         "clip": {**box, "scale": 1}})
        return base64.b64decode(shot["data"])


def colours(png: bytes | None) -> int:
    if not png:
        return 0
    img = Image.open(io.BytesIO(png)).convert("RGB").reduce(2)
    return len(img.getcolors(maxcolors=1 << 20) or [])


def time_to_drawn_map(page, url: str, timeout_s: float = 180.0, marks: dict | None = None) -> float:
    """Seconds from page.goto to the map canvas showing a drawn choropleth. `marks`, if given, gets
    when the title and the map element first appeared, to tell server time from drawing time."""
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
    canvas = Canvas(page)
    deadline = t0 + timeout_s
    while time.perf_counter() < deadline:
        if marks is not None:
            seen = page.evaluate("""(sel) => [!!document.querySelector('h1'), !!document.querySelector(sel)]""",
                                 '[data-testid="stDeckGlJsonChart"]')
            for name, present in zip(("title", "map element"), seen):
                if present and name not in marks:
                    marks[name] = time.perf_counter() - t0
        png = canvas.capture()
        if png is not None and colours(png) >= MIN_COLOURS:
            return time.perf_counter() - t0
        time.sleep(0.02)
    raise TimeoutError(f"the map did not draw within {timeout_s:.0f} s")


def switch_indicator(page, canvas: Canvas, label: str, timeout_s: float = 30.0) -> tuple[float, float]:
    """Choose `label` in the Indicator selectbox; return (first pixel change, final map shown) in
    seconds from the click on the option. The final map is the image the canvas settles on; the
    redraw time is when it first appeared (Streamlit fades stale elements, so the first change can
    be the fade, not the new map)."""
    before = hashlib.sha1(canvas.capture() or b"").hexdigest()
    box = page.get_by_role("combobox", name="Indicator")
    box.click()
    box.fill(label.split(" (")[0])
    option = page.get_by_role("option", name=label, exact=True)
    option.wait_for()
    t0 = time.perf_counter()
    option.click()
    seen: list[tuple[float, str]] = []
    stable_since = None
    deadline = t0 + timeout_s
    while time.perf_counter() < deadline:
        png = canvas.capture()
        now = time.perf_counter() - t0
        digest = hashlib.sha1(png or b"").hexdigest()
        if seen and digest == seen[-1][1]:
            stable_since = stable_since or now
        else:
            stable_since = None
        seen.append((now, digest))
        busy = page.evaluate("() => !!document.querySelector('[data-testid=\"stStatusWidget\"]')")
        if digest != before and not busy and stable_since is not None and now - stable_since > 1.0:
            break
        time.sleep(0.01)
    final = seen[-1][1]
    if final == before:
        raise RuntimeError("the map did not change after switching the indicator")
    first_change = next(t for t, d in seen if d != before)
    shown = seen[-1][0]
    for t, d in reversed(seen):
        if d != final:
            break
        shown = t
    return first_change, shown


# ---------------------------------------------------------------- bytes over CDP

def landing_bytes(context, url: str) -> dict[str, float]:
    """Load the landing page in `context` and count what crossed the wire."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    totals = {"http_bytes": 0, "http_requests": 0, "ws_received_payload": 0, "ws_received_deflated": 0,
              "ws_sent_payload": 0, "ws_frames": 0}

    def finished(e: dict) -> None:
        totals["http_bytes"] += e.get("encodedDataLength", 0)
        totals["http_requests"] += 1

    def frame(e: dict, key: str) -> None:
        r = e["response"]
        data = base64.b64decode(r["payloadData"]) if r.get("opcode") == 2 else r["payloadData"].encode()
        totals[key] += len(data)
        if key == "ws_received_payload":
            totals["ws_frames"] += 1
            # The server negotiates permessage-deflate; CDP shows payloads inflated, so estimate
            # the wire size by deflating each frame on its own (as the server does, per message).
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            totals["ws_received_deflated"] += len(c.compress(data) + c.flush())

    cdp.on("Network.loadingFinished", finished)
    cdp.on("Network.webSocketFrameReceived", lambda e: frame(e, "ws_received_payload"))
    cdp.on("Network.webSocketFrameSent", lambda e: frame(e, "ws_sent_payload"))
    time_to_drawn_map(page, url)
    wait_settled(page)
    page.wait_for_timeout(500)
    page.close()
    return totals


# ---------------------------------------------------------------- server memory

def rss_tree_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                todo.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


class PeakRss:
    def __init__(self, pid: int, every: float = 0.1) -> None:
        self.pid, self.every, self.peak = pid, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_tree_bytes(self.pid))
            self._stop.wait(self.every)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def concurrent_landing(browser, url: str, n: int, server_pid: int, timeout_s: float = 300.0) -> dict[str, float]:
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(n)]
    try:
        pages = [c.new_page() for c in contexts]
        before = rss_tree_bytes(server_pid)
        t0 = time.perf_counter()
        with PeakRss(server_pid) as peak:
            for p in pages:  # start every load before waiting for any
                p.goto(url, wait_until="commit", timeout=timeout_s * 1000)
            for p in pages:
                left = max(1.0, timeout_s - (time.perf_counter() - t0))
                wait_settled(p, timeout_ms=int(left * 1000))
            all_done = time.perf_counter() - t0
            drawn = sum(colours(Canvas(p).capture()) >= MIN_COLOURS for p in pages)
            settled = rss_tree_bytes(server_pid)
        return {"before": before, "peak": peak.peak, "settled": settled, "seconds": all_done, "drawn": drawn}
    finally:
        for c in contexts:
            c.close()


# ---------------------------------------------------------------- main

def postcode_to_verdict(page, base: str, postcode: str = "LS1 4AP", heading: str = "Leeds (E08000035)",
                        timeout_ms: int = 120_000) -> float:
    """From typing a postcode on the loaded home page (Enter) to the place's verdict card heading."""
    page.goto(base + "/", wait_until="domcontentloaded", timeout=timeout_ms)
    box = page.get_by_role("textbox", name="Find your place", exact=False)
    box.wait_for(timeout=timeout_ms)
    wait_settled(page)
    box.fill(postcode)
    t = time.perf_counter()
    box.press("Enter")
    page.get_by_role("heading", name=heading).wait_for(timeout=timeout_ms)
    return time.perf_counter() - t


def profile_first_paint(page, base: str, place: str = "E08000035", timeout_ms: int = 120_000) -> float:
    """From navigation to the profile to its first spine row (an indicator's row in the table) drawn."""
    t = time.perf_counter()
    page.goto(f"{base}/profile?place={place}", wait_until="commit", timeout=timeout_ms)
    page.locator("table tbody tr").first.wait_for(state="visible", timeout=timeout_ms)
    return time.perf_counter() - t


def mb(n: float) -> str:
    return f"{n / 1e6:7.2f} MB"


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER TARGET"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warm-loads", type=int, default=5)
    ap.add_argument("--switches", type=int, default=5)
    ap.add_argument("--contexts", type=int, default=10)
    args = ap.parse_args()
    log = Path(__file__).resolve().parent.parent / "test-output" / "bench-browser-server.log"
    t = time.perf_counter()
    with StreamlitServer(log_path=log) as server, sync_playwright() as pw:
        url = server.url + LANDING
        print(f"server healthy on {server.url} after {time.perf_counter() - t:.1f} s (pid {server.pid}); "
              f"RSS {mb(rss_tree_bytes(server.pid))}")
        browser = launch_chromium(pw)
        try:
            # 1. Navigation to the first drawn map: cold (fresh server), then warm.
            ctx = browser.new_context(viewport=VIEWPORT)
            cold = time_to_drawn_map(ctx.new_page(), url)
            ctx.close()
            warm, marks = [], []
            for _ in range(max(1, args.warm_loads)):
                ctx = browser.new_context(viewport=VIEWPORT)
                m: dict = {}
                warm.append(time_to_drawn_map(ctx.new_page(), url, marks=m))
                marks.append(m)
                ctx.close()
            # A returning visitor: same browser context, so Streamlit's JavaScript is in the HTTP cache.
            ctx = browser.new_context(viewport=VIEWPORT)
            page = ctx.new_page()
            time_to_drawn_map(page, url)
            returning = []
            for _ in range(max(1, args.warm_loads)):
                returning.append(time_to_drawn_map(page, url))
            ctx.close()
            w, r = statistics.median(warm), statistics.median(returning)
            print(f"navigation → first drawn map, cold first load (server caches empty): {cold:6.2f} s")
            print(f"navigation → first drawn map, warm server, new visitor (median of {len(warm)}): {w:6.2f} s "
                  f"[min {min(warm):.2f}, max {max(warm):.2f}; title at "
                  f"{statistics.median(x.get('title', float('nan')) for x in marks):.2f} s, map element at "
                  f"{statistics.median(x.get('map element', float('nan')) for x in marks):.2f} s]   "
                  f"target ≤ 2 s: {verdict(w <= 2.0)}")
            print(f"navigation → first drawn map, warm server, returning visitor (median of {len(returning)}): "
                  f"{r:6.2f} s [min {min(returning):.2f}, max {max(returning):.2f}]   target ≤ 2 s: {verdict(r <= 2.0)}")

            # 2. Indicator switch → redrawn map.
            ctx = browser.new_context(viewport=VIEWPORT)
            page = ctx.new_page()
            time_to_drawn_map(page, url)
            wait_settled(page)
            canvas = Canvas(page)
            firsts, shown = [], []
            for i in range(max(1, args.switches)):
                f, s = switch_indicator(page, canvas, OTHER_INDICATORS[i % len(OTHER_INDICATORS)])
                firsts.append(f)
                shown.append(s)
                wait_settled(page)
            ctx.close()
            s_med = statistics.median(shown)
            print(f"indicator switch → redrawn map (median of {len(shown)}): {s_med:6.2f} s "
                  f"[min {min(shown):.2f}, max {max(shown):.2f}; first pixel change median "
                  f"{statistics.median(firsts):.2f} s]   target ≤ 0.5 s: {verdict(s_med <= 0.5)}")

            # 3. Bytes for the landing page, server warm: a new visitor (empty browser cache) and a
            #    returning one (static files cached by the browser).
            ctx = browser.new_context(viewport=VIEWPORT)
            fresh = landing_bytes(ctx, url)
            again = landing_bytes(ctx, url)
            ctx.close()
            for label, b in (("new visitor", fresh), ("returning visitor", again)):
                wire = b["http_bytes"] + b["ws_received_deflated"] + b["ws_sent_payload"]
                print(f"landing page bytes, {label:17s}: HTTP {mb(b['http_bytes'])} in {b['http_requests']} "
                      f"responses; WebSocket received {mb(b['ws_received_payload'])} inflated "
                      f"(≈{mb(b['ws_received_deflated'])} deflated) in {b['ws_frames']} frames; "
                      f"total on the wire ≈{mb(wire)}   target ≤ 1 MB: {verdict(wire <= 1e6)}")

            # 4. Server memory with concurrent visitors.
            n = max(1, args.contexts)
            m = concurrent_landing(browser, url, n, server.pid)
            print(f"server RSS with {n} contexts loading the landing page: before {mb(m['before'])}, "
                  f"peak {mb(m['peak'])}, after {mb(m['settled'])} (all settled in {m['seconds']:.1f} s; "
                  f"{m['drawn']}/{n} maps drawn)   target ≤ 500 MB: {verdict(m['peak'] <= 500e6)}")

            # 5. Verdict first: a typed postcode to the verdict card, and the profile's first row.
            cards, paints = [], []
            for _ in range(max(1, args.warm_loads)):
                ctx = browser.new_context(viewport=VIEWPORT)
                cards.append(postcode_to_verdict(ctx.new_page(), server.url))
                paints.append(profile_first_paint(ctx.new_page(), server.url))
                ctx.close()
            c_med, p_med = statistics.median(cards), statistics.median(paints)
            print(f"home: typed postcode → verdict card (median of {len(cards)}): {c_med:6.2f} s "
                  f"[min {min(cards):.2f}, max {max(cards):.2f}]   target ≤ 2 s: {verdict(c_med <= 2.0)}")
            print(f"profile (Leeds) → first spine row (median of {len(paints)}): {p_med:6.2f} s "
                  f"[min {min(paints):.2f}, max {max(paints):.2f}]   target ≤ 2 s: {verdict(p_med <= 2.0)}")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
