"""A rate limit per client on submitting responses, held in the responses database and shared by every
process that uses it, with a cheap per-process first line from the `limits` package.

Why: the one-per-session rule stops a double click, not a script that opens a new session for every
response. A moving window per client (by default 5 a minute and 30 an hour) bounds what one client can
add. Hosted replicas share one database, so the limit lives there (:class:`SharedLimit`): each accepted
response records a submission event keyed by a keyed hash of the client's address (HMAC-SHA-256 with a
random key the migration stores in the database; never the address itself), the count and the insert
happen in the response's own transaction under a per-client lock, and events older than the longest
window are deleted as responses arrive. A client therefore gets one budget however many replicas it
reaches. :class:`ClientLimiter` keeps the same budget in one process's memory: a client already over it
on this replica is refused without a database round trip.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Engine, case, delete, func, select, text
from sqlalchemy.orm import Session

from .errors import InvalidResponse, PrioritiesError, RateLimited
from .models import RateLimitKey, SubmissionEvent

NAMESPACE = "priorities"
# The first key of PostgreSQL's two-key advisory locks: this limit's own space (the migration lock uses
# the one-key form), the second key a client's hash.
PG_LOCK_SPACE = 7_413


def parse(spec: str) -> list[RateLimitItem]:
    """The limits in `spec` ('5/minute;30/hour'), or :class:`InvalidResponse` naming the setting."""
    try:
        items = parse_many(spec)
    except ValueError as exc:
        raise InvalidResponse(f"rate limit {spec!r} is not in the form '5/minute;30/hour'") from exc
    if not items:
        raise InvalidResponse(f"rate limit {spec!r} is not in the form '5/minute;30/hour'")
    return items


def _refusal(item: RateLimitItem) -> RateLimited:
    return RateLimited(f"too many responses from this connection: at most {item} — please try later")


def window_words(spec: str) -> str:
    """How long a submission event is kept, in words ('1 hour'): the longest window in `spec`."""
    item = max(parse(spec), key=lambda i: i.get_expiry())
    name = item.GRANULARITY.name
    return f"{item.multiples} {name}{'' if item.multiples == 1 else 's'}"


class ClientLimiter:
    """The limit in this process's memory. `check(client)` counts one submission or raises
    :class:`RateLimited`; `test` only asks, and `hit` counts one the database has accepted."""

    def __init__(self, spec: str) -> None:
        self.items = parse(spec)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def test(self, client: str) -> None:
        for item in self.items:  # refuse before counting, so a refused attempt uses none of the budget
            if not self.limiter.test(item, NAMESPACE, client):
                raise _refusal(item)

    def hit(self, client: str) -> None:
        for item in self.items:
            self.limiter.hit(item, NAMESPACE, client)

    def check(self, client: str) -> None:
        self.test(client)
        self.hit(client)


class SharedLimit:
    """The limit kept in the database: `admit(session, client, now)` inside the transaction that stores a
    response locks the client, deletes stale events, counts the client's events in each window, raises
    :class:`RateLimited` when one is full and otherwise records this submission. If the response is then
    refused (already answered), the transaction rolls back and the event with it: only stored responses
    use the budget."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.items = parse(spec)
        self.windows = [timedelta(seconds=i.get_expiry()) for i in self.items]
        self.longest = max(self.windows)
        self._key: bytes | None = None

    def _load_key(self, engine: Engine) -> bytes:
        """The database's hashing key, read once (in its own short connection) and kept."""
        if self._key is None:
            with engine.connect() as conn:
                key = conn.execute(select(RateLimitKey.key).where(RateLimitKey.id == 1)).scalar_one_or_none()
            if key is None:
                raise PrioritiesError("the priorities database has no rate-limit key: run its migrations")
            self._key = key.encode("ascii")
        return self._key

    def client_hash(self, engine: Engine, client: str) -> str:
        """The keyed hash that stands for `client` in the database (64 hex characters)."""
        return hmac.new(self._load_key(engine), client.encode("utf-8"), hashlib.sha256).hexdigest()

    @staticmethod
    def _lock(session: Session, client_hash: str) -> None:
        """Serialise this client's check-and-insert across processes until the transaction ends.

        SQLite: BEGIN IMMEDIATE takes the database's one write lock before the count (writers queue on
        the busy timeout). PostgreSQL: a transaction-scoped advisory lock on the client's hash, so only
        the same client's submissions wait for each other."""
        conn = session.connection()
        dialect = conn.dialect.name
        if dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif dialect == "postgresql":
            objid = int(client_hash[:8], 16) - 2**31  # a signed 32-bit int
            conn.execute(text("SELECT pg_advisory_xact_lock(:space, :objid)"), {"space": PG_LOCK_SPACE, "objid": objid})

    def admit(self, session: Session, client: str, now: datetime) -> None:
        """Count this submission for `client` at `now`, or raise :class:`RateLimited` (nothing recorded).

        Must run first in a fresh transaction (SQLite's lock is the transaction's BEGIN)."""
        # The key comes from its own connection, before this transaction issues anything: on SQLite the
        # lock must be the transaction's first statement.
        key = self.client_hash(session.get_bind(), client)
        self._lock(session, key)
        session.execute(delete(SubmissionEvent).where(SubmissionEvent.created_at <= now - self.longest))
        counts = [func.coalesce(func.sum(case((SubmissionEvent.created_at > now - w, 1), else_=0)), 0)
                  for w in self.windows]
        used = session.execute(select(*counts).where(SubmissionEvent.client_hash == key,
                                                     SubmissionEvent.created_at > now - self.longest)).one()
        for item, n in zip(self.items, used):
            if int(n) >= item.amount:
                raise _refusal(item)
        session.add(SubmissionEvent(client_hash=key, created_at=now))
