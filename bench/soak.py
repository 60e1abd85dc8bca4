"""Benchmark: does the server's memory level off under steady use, and come back after visitors leave?

Five browser contexts (separate visitors) keep opening Compare places and Place profile for
different places, round-robin, for N minutes against a freshly started server on 127.0.0.1.
Prints the server's resident memory (the server and its children) every 15 s, then for
`--after` seconds once every context has closed. Streamlit keeps a disconnected session for
`server.disconnectedSessionTTL` (120 s by default) in case the visitor comes back, so memory held
per session can only be given back after that. A server whose caches are bounded levels off; one
that keeps something per place or per session grows for the whole run.

    python bench/soak.py [--minutes 4] [--contexts 5] [--every 15] [--after 150]
"""
from __future__ import annotations

import argparse
import itertools
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.browser import mb, rss_tree_bytes  # noqa: E402
from data_sources.store import read_table  # noqa: E402
from tests.support.browser import VIEWPORT, StreamlitServer, launch_chromium, wait_settled  # noqa: E402


def place_urls(limit: int = 120) -> list[str]:
    """Compare and profile views over many districts, so per-place caches would fill if unbounded."""
    areas = read_table(ROOT / "data", "areas", columns=["areacd", "level", "has_data"])
    codes = sorted(areas.loc[(areas["level"] == "ltla") & areas["has_data"], "areacd"].astype(str).unique())
    codes = codes[:: max(1, len(codes) // limit)][:limit]
    urls = []
    for i, code in enumerate(codes):
        urls.append(f"/profile?place={code}")
        trio = ",".join(codes[(i + k) % len(codes)] for k in (0, 7, 19))
        urls.append(f"/compare?places={trio}")
    return urls


class Reporter:
    """Print the server's RSS every `every` seconds from a background thread."""

    def __init__(self, pid: int, every: float, started: float) -> None:
        self.pid, self.every, self.started = pid, every, started
        self.views = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def line(self, label: str) -> None:
        print(f"{time.monotonic() - self.started:7.0f} s  {label:<18} RSS {mb(rss_tree_bytes(self.pid))}  "
              f"views {self.views}", flush=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.line("under load")

    def __enter__(self) -> "Reporter":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=4.0)
    ap.add_argument("--contexts", type=int, default=5)
    ap.add_argument("--every", type=float, default=15.0, help="seconds between memory readings")
    ap.add_argument("--after", type=float, default=150.0,
                    help="seconds to keep reading after the contexts close (past the session TTL)")
    args = ap.parse_args()
    urls = itertools.cycle(place_urls())
    log = ROOT / "test-output" / "bench-soak-server.log"
    with StreamlitServer(log_path=log) as server, sync_playwright() as pw:
        started = time.monotonic()
        browser = launch_chromium(pw)
        reporter = Reporter(server.pid, args.every, started)
        reporter.line("server started")
        try:
            contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(args.contexts)]
            pages = [c.new_page() for c in contexts]
            end = started + args.minutes * 60
            with reporter:
                while time.monotonic() < end:
                    for p in pages:  # every visitor asks at once, then each waits for its page
                        p.goto(server.url + next(urls), wait_until="commit", timeout=120_000)
                    for p in pages:
                        wait_settled(p, timeout_ms=180_000)
                        reporter.views += 1
            reporter.line("load ended")
            for c in contexts:
                c.close()
            reporter.line("contexts closed")
            for _ in range(max(1, round(args.after / args.every))):
                time.sleep(args.every)
                reporter.line("after close")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
