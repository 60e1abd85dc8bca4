"""A second process writing residents' responses, for the concurrency tests and the benchmark.

    python -m tests.support.priorities_worker URL AREACD PREFIX COUNT [SHARED]

writes COUNT responses with session tokens PREFIX-0 … for AREACD, then tries SHARED tokens that every
worker also tries (only one may win each); prints "stored=<n> duplicates=<n>".
"""
from __future__ import annotations

import sys

from indicators.priorities import AlreadyAnswered, ResponseStore, THEMES
from indicators.priorities.store import submission


def main(argv: list[str]) -> int:
    url, areacd, prefix, count = argv[0], argv[1], argv[2], int(argv[3])
    shared = int(argv[4]) if len(argv) > 4 else 0
    store = ResponseStore(url)
    stored = duplicates = 0
    tokens = [f"{prefix}-worker-token-{i:05d}" for i in range(count)] + \
             [f"shared-token-number-{i:05d}" for i in range(shared)]
    for i, token in enumerate(tokens):
        ratings = {t: (i + k) % 11 for k, t in enumerate(THEMES)}
        try:
            store.submit(submission(areacd=areacd, session_token=token, ratings=ratings, free_text=f"{prefix} {i}"))
            stored += 1
        except AlreadyAnswered:
            duplicates += 1
    store.dispose()
    print(f"stored={stored} duplicates={duplicates}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
