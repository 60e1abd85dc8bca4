"""Benchmark: many visitors at once on one public-mode server, on loopback.

Drives N concurrent Playwright browser contexts (default 20) in Debian's Chromium through a
scripted visit (home, the map, a place profile, compare, good growth) against one server started
with GOOD_GROWTH_PUBLIC_MODE=true, and prints errors, p50/p95 page-ready time, the server's
peak memory and its CPU-seconds per page view (each page alone first, then under load).
Targets (2-core machine): 0 errors, p95 ≤ 5 s, ≤ 1 GB, ≤ 0.1 CPU-s per page view.

    python bench/load.py [--visitors 20]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.async_api import async_playwright  # noqa: E402

from tests.support.browser import (  # noqa: E402
    _SETTLED_JS, BUSY, CHROMIUM_ARGS, EXCEPTION, StreamlitServer, chromium_path,
)

PLACES = ["E08000035", "E06000001", "E09000033", "S12000036", "W06000015", "E07000008", "N09000003",
          "E08000025", "E06000023", "E07000117"]
# Places the single-visitor measurement views first (none is in PLACES, so the concurrent visitors
# still meet places the server has not seen): a unitary authority, a London borough, a district.
FIRST_VIEWS = ["E06000047", "E09000022", "E07000178"]


def visit(place: str) -> list[tuple[str, str]]:
    return [
        ("home", f"/?place={place}"),
        ("map", "/map"),
        ("place profile", f"/profile?place={place}"),
        ("compare", f"/compare?places={place},E08000025"),
        ("good growth", f"/good-growth?place={place}"),
    ]


def rss_mb(pid: int) -> float:
    """Resident memory of the server and its children (from /proc)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the server process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time every process on the machine has used so far (all cores, idle and iowait excluded)."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(parts[:8]) - parts[3] - parts[4]) / os.sysconf("SC_CLK_TCK")


class MemoryWatch(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop_flag = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.2)


async def one_visitor(browser, base: str, place: str, timings: list[tuple[str, float]], errors: list[str]) -> None:
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await context.new_page()
    try:
        for name, path in visit(place):
            start = time.perf_counter()
            try:
                await page.goto(base + path, wait_until="domcontentloaded", timeout=120_000)
                await page.wait_for_selector('[data-testid="stMain"] h1', timeout=120_000)
                await page.wait_for_function(_SETTLED_JS, arg=[BUSY, 500], timeout=120_000, polling=100)
                timings.append((name, time.perf_counter() - start))
                if await page.locator(EXCEPTION).count():
                    errors.append(f"{place} {name}: exception shown")
                alerts = await page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
                errors += [f"{place} {name}: {a[:120]}" for a in alerts]
            except Exception as exc:  # noqa: BLE001 - a benchmark counts failures, it does not stop on them
                errors.append(f"{place} {name}: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
    finally:
        await context.close()


async def cpu_per_page(browser, server: StreamlitServer, places: list[str], label: str) -> None:
    """Server CPU-seconds for each page of the visit, loaded one at a time by one visitor, so every
    CPU-second the server spends belongs to that page view; averaged over `places` (one place's
    figure moves by a few hundredths from run to run: the kernel counts CPU time in 10 ms ticks)."""
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await context.new_page()
    try:
        costs: dict[str, list[float]] = {}
        for place in places:
            for name, path in visit(place):
                before = cpu_seconds(server.pid)
                await page.goto(server.url + path, wait_until="domcontentloaded", timeout=120_000)
                await page.wait_for_selector('[data-testid="stMain"] h1', timeout=120_000)
                await page.wait_for_function(_SETTLED_JS, arg=[BUSY, 500], timeout=120_000, polling=100)
                costs.setdefault(name, []).append(cpu_seconds(server.pid) - before)
        means = {name: statistics.mean(c) for name, c in costs.items()}
        print(f"server CPU per page view, one visitor, {label} ({len(places)} places): "
              + ", ".join(f"{n} {c:.2f}" for n, c in means.items())
              + f" CPU-s; mean {statistics.mean(means.values()):.2f}   (target ≤ 0.1)")
    finally:
        await context.close()


async def run(visitors: int) -> None:
    server = StreamlitServer(env={"GOOD_GROWTH_PUBLIC_MODE": "true", "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "none"})
    server.start()
    watch = MemoryWatch(server.pid)
    watch.start()
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            warm: list[tuple[str, float]] = []
            await one_visitor(browser, server.url, PLACES[0], warm, [])  # fill the server's caches once
            print(f"warm-up visit by one visitor: {sum(t for _, t in warm):.1f} s")
            await cpu_per_page(browser, server, FIRST_VIEWS, "places not viewed before")
            await cpu_per_page(browser, server, FIRST_VIEWS, "the same places again, caches warm")
            timings: list[tuple[str, float]] = []
            errors: list[str] = []
            t0 = time.perf_counter()
            cpu0, busy0 = cpu_seconds(server.pid), machine_busy_seconds()
            await asyncio.gather(*(one_visitor(browser, server.url, PLACES[i % len(PLACES)], timings, errors)
                                   for i in range(visitors)))
            wall = time.perf_counter() - t0
            server_cpu, machine_cpu = cpu_seconds(server.pid) - cpu0, machine_busy_seconds() - busy0
            await browser.close()
    finally:
        watch.stop_flag.set()
        watch.join(timeout=2)
        server.stop()
    secs = sorted(t for _, t in timings)
    p = lambda q: secs[min(len(secs) - 1, int(round(q * (len(secs) - 1))))] if secs else float("nan")  # noqa: E731
    print(f"{visitors} concurrent visitors, {len(timings)} page loads in {wall:.1f} s")
    print(f"errors: {len(errors)}   (target 0)")
    for e in errors[:10]:
        print("  ", e)
    print(f"page-ready p50 {p(0.5):.2f} s   p95 {p(0.95):.2f} s   max {secs[-1] if secs else float('nan'):.2f} s"
          f"   (target p95 ≤ 5 s)")
    for name in dict(visit("x")):
        by = sorted(t for n, t in timings if n == name)
        if by:
            print(f"   {name:14s} median {statistics.median(by):.2f} s")
    print(f"server peak memory: {watch.peak:.0f} MB   (target ≤ 1024 MB)")
    print(f"server CPU per page view under load: {server_cpu / max(len(timings), 1):.2f} CPU-s "
          f"({server_cpu:.0f} s over {len(timings)} page loads)   (target ≤ 0.1)")
    # Where the time went: browsers and server share the machine's cores on loopback.
    cores = os.cpu_count() or 1
    print(f"CPU during the visits: machine {machine_cpu:.0f} s of {wall * cores:.0f} s available ({cores} cores); "
          f"server {server_cpu:.0f} s ({server_cpu / max(machine_cpu, 1e-9):.0%}), browsers and the rest "
          f"{machine_cpu - server_cpu:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(max(1, min(args.visitors, 50))))


if __name__ == "__main__":
    main()
