"""A second process writing residents' responses, for the concurrency tests and the benchmark.

    python -m tests.support.priorities_worker URL AREACD PREFIX COUNT [SHARED [CLIENT LIMIT]]

writes COUNT responses with session tokens PREFIX-0 … for AREACD, then tries SHARED tokens that every
worker also tries (only one may win each); with CLIENT and LIMIT ('10/hour'), every response is sent as
from a client under that shared rate limit (CLIENT may list several, comma-separated, taken in turn). Prints "stored=<n> duplicates=<n> limited=<n>".
"""
from __future__ import annotations

import os
import sys
import time

from indicators.priorities import AlreadyAnswered, RateLimited, ResponseStore, THEMES
from indicators.priorities.store import submission


def main(argv: list[str]) -> int:
    url, areacd, prefix, count = argv[0], argv[1], argv[2], int(argv[3])
    shared = int(argv[4]) if len(argv) > 4 else 0
    clients, limit = (argv[5].split(","), argv[6]) if len(argv) > 6 else ([None], None)
    store = ResponseStore(url, rate_limit=limit)
    stored = duplicates = limited = 0
    store.count()  # connect before the start, so the first write is not slowed by connecting
    time.sleep(max(float(os.environ.get("PRIORITIES_WORKER_START_AT", "0")) - time.time(), 0))
    tokens = [f"{prefix}-worker-token-{i:05d}" for i in range(count)] + \
             [f"shared-token-number-{i:05d}" for i in range(shared)]
    for i, token in enumerate(tokens):
        ratings = {t: (i + k) % 11 for k, t in enumerate(THEMES)}
        try:
            store.submit(submission(areacd=areacd, session_token=token, ratings=ratings, free_text=f"{prefix} {i}"),
                         client=clients[i % len(clients)])
            stored += 1
        except AlreadyAnswered:
            duplicates += 1
        except RateLimited:
            limited += 1
    store.dispose()
    print(f"stored={stored} duplicates={duplicates} limited={limited}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
