"""A rate limit per client on submitting responses, with the `limits` package.

Why: the one-per-session rule stops a double click, not a script that opens a new session for every
response. A moving window per client (by default 5 a minute and 30 an hour) bounds what one client can
add. The counters live in memory, so on several replicas each keeps its own: the proxy pins a browser to
one replica, and the bound per client is then at most the replica count times the limit.
"""
from __future__ import annotations

from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from .errors import InvalidResponse, RateLimited

NAMESPACE = "priorities"


class ClientLimiter:
    """`check(client)` counts one submission for the client, or raises :class:`RateLimited`."""

    def __init__(self, spec: str) -> None:
        try:
            self.items = parse_many(spec)
        except ValueError as exc:
            raise InvalidResponse(f"rate limit {spec!r} is not in the form '5/minute;30/hour'") from exc
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def check(self, client: str) -> None:
        for item in self.items:  # refuse before counting, so a refused attempt uses none of the budget
            if not self.limiter.test(item, NAMESPACE, client):
                raise RateLimited(f"too many responses from this connection: at most {item} — please try later")
        for item in self.items:
            self.limiter.hit(item, NAMESPACE, client)
