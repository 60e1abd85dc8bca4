"""Benchmark: the residents' priorities store on SQLite and on PostgreSQL.

Prints, for each database: 1,000 responses submitted through the storage layer by 20 concurrent
writers (threads, each with its own engine, as 20 app sessions on different replicas would be) —
throughput, median and 95th-percentile latency, and whether every response was stored exactly once;
the same again with each writer a client under the shared rate limit (its cost);
then community weights for every place from 100,000 stored responses (target ≤ 1 s), aggregated in
the database (what the page does), beside reading every row into pandas.

PostgreSQL is a throwaway server started here from Debian's binaries (tests/support/postgres.py),
as an unprivileged user; it is skipped with a note where they are not installed.

    python bench/priorities.py
"""
from __future__ import annotations

import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from indicators.priorities import ResponseStore, THEMES, migrate  # noqa: E402
from indicators.priorities.models import Response  # noqa: E402
from indicators.priorities.store import submission  # noqa: E402
from indicators.priorities.weights import summarise  # noqa: E402
from tests.support.postgres import PostgresServer, bin_dir  # noqa: E402

WRITERS, RESPONSES, STORED, PLACES = 20, 1_000, 100_000, 361
LIMIT = "1000/minute;10000/hour"  # counted and recorded, never reached
rng = np.random.default_rng(20261130)
PLACE_CODES = [f"E0{7000000 + i:07d}" for i in range(PLACES)]


def concurrent_writes(url: str, limited: bool = False) -> None:
    """With `limited`, each writer is its own client under the shared rate limit (a budget none reaches),
    so the difference from the plain run is the limit's cost: the lock, the count and the event row."""
    per_writer = RESPONSES // WRITERS
    tag = "limited" if limited else "plain"
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(WRITERS + 1)

    def writer(w: int) -> None:
        store = ResponseStore(url, rate_limit=LIMIT if limited else None)
        client = f"203.0.113.{w}" if limited else None
        mine = []
        subs = [submission(areacd=PLACE_CODES[(w * per_writer + i) % PLACES],
                           session_token=f"bench-{tag}-w{w:02d}-{i:05d}-x",
                           ratings={t: int(v) for t, v in zip(THEMES, rng.integers(0, 11, len(THEMES)))},
                           free_text=f"answer {tag} {w}-{i}") for i in range(per_writer)]
        start.wait()
        for sub in subs:
            t = time.perf_counter()
            try:
                store.submit(sub, client=client)
            except Exception as exc:  # noqa: BLE001 - counted and printed, never hidden
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
            mine.append(time.perf_counter() - t)
        store.dispose()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for th in threads:
        th.start()
    start.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    store = ResponseStore(url)
    frame = store.export()
    frame = frame.loc[frame["free_text"].str.startswith(f"answer {tag} ")]
    once = len(frame) == RESPONSES and frame["free_text"].nunique() == RESPONSES
    store.dispose()
    lat = np.array(latencies) * 1000
    how = " under the shared rate limit" if limited else ""
    print(f"  {RESPONSES:,} responses by {WRITERS} concurrent writers{how}: {RESPONSES / wall:,.0f} responses/s "
          f"({wall:.2f} s); latency median {np.median(lat):.1f} ms, p95 {np.percentile(lat, 95):.1f} ms, "
          f"max {lat.max():.0f} ms; errors {len(errors)}; every response stored once: {'yes' if once else 'NO'} "
          f"({len(frame):,} rows)")
    for e in errors[:3]:
        print("   ", e)


def community_for_every_place(url: str) -> None:
    store = ResponseStore(url)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    ratings = rng.integers(0, 11, size=(STORED, len(THEMES)))
    places = rng.integers(0, PLACES, size=STORED)
    rows = [{"areacd": PLACE_CODES[p], "session_token": f"bulk-{i:07d}-token", "created_at": base + timedelta(minutes=i),
             "free_text": None, "text_hidden": False, **dict(zip(THEMES, map(int, r)))}
            for i, (p, r) in enumerate(zip(places, ratings))]
    with store.engine.begin() as conn:
        for k in range(0, STORED, 10_000):
            conn.execute(insert(Response), rows[k:k + 10_000])
    total = store.count()
    sql, pandas_path, cpu = [], [], []
    for _ in range(3):
        c0 = time.process_time()
        t0 = time.perf_counter()
        out = store.summary()
        t1 = time.perf_counter()
        cpu.append(time.process_time() - c0)
        summarise(store.ratings())
        t2 = time.perf_counter()
        sql.append(t1 - t0)
        pandas_path.append(t2 - t1)
    print(f"  community weights for every place ({len(out)} places) from {total:,} stored responses: "
          f"{min(sql) * 1000:.0f} ms aggregated in the database (best of 3; target ≤ 1,000 ms; CPU time in this "
          f"process {min(cpu) * 1000:.0f} ms, which holds SQLite's work but not a server's); reading every "
          f"row into pandas instead: {min(pandas_path) * 1000:.0f} ms")
    store.dispose()


def run(name: str, url: str) -> None:
    print(f"{name}:")
    migrate(url)
    concurrent_writes(url)
    concurrent_writes(url, limited=True)
    community_for_every_place(url)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="good-growth-bench-") as folder:
        run("SQLite (WAL, one file)", f"sqlite:///{Path(folder) / 'priorities.db'}")
    if bin_dir() is None:
        print("PostgreSQL: skipped — Debian's postgresql binaries are not installed "
              "(bash tests/support/setup_services.sh)")
        return
    with PostgresServer() as pg:
        run("PostgreSQL (local throwaway server, fsync off)", pg.create_database())


if __name__ == "__main__":
    main()
