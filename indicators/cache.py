"""A bounded, thread-safe least-recently-used cache for the shared query context.

Why bounded: one query context serves every session of the server. An unbounded dict of
per-area splits (several MB each) grew by one entry per place anyone looked at and never
shrank, so a server that had seen every area held hundreds of MB more than it needed.
Each kind of entry (the first element of its key tuple) has its own limit, so a burst of
one kind cannot evict every entry of another.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable

DEFAULT_LIMIT = 256


class BoundedCache:
    """dict-like (`in`, `get`, `[]`, `[]=`, `len`); each kind keeps at most its limit of entries."""

    def __init__(self, limits: dict[str, int] | None = None, default: int = DEFAULT_LIMIT) -> None:
        if default < 1 or any(v < 1 for v in (limits or {}).values()):
            raise ValueError("cache limits must be at least 1")
        self.limits, self.default = dict(limits or {}), default
        self._kinds: dict[Hashable, OrderedDict[Hashable, Any]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _kind(key: Hashable) -> Hashable:
        return key[0] if isinstance(key, tuple) and key else key

    def limit(self, kind: Hashable) -> int:
        return self.limits.get(kind, self.default) if isinstance(kind, str) else self.default

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            entries = self._kinds.get(self._kind(key))
            if entries is None or key not in entries:
                return default
            entries.move_to_end(key)
            return entries[key]

    def __getitem__(self, key: Hashable) -> Any:
        missing = object()
        value = self.get(key, missing)
        if value is missing:
            raise KeyError(key)
        return value

    def __setitem__(self, key: Hashable, value: Any) -> None:
        kind = self._kind(key)
        with self._lock:
            entries = self._kinds.setdefault(kind, OrderedDict())
            entries[key] = value
            entries.move_to_end(key)
            while len(entries) > self.limit(kind):
                entries.popitem(last=False)

    def setdefault_by(self, key: Hashable, make: "Callable[[], Any]") -> Any:
        """The cached value, made and stored on a miss. Why not `if key in …: return cache[key]`:
        another thread may evict the entry between the test and the read."""
        missing = object()
        value = self.get(key, missing)
        if value is missing:
            value = make()
            self[key] = value
        return value

    def __contains__(self, key: object) -> bool:
        with self._lock:
            entries = self._kinds.get(self._kind(key))  # type: ignore[arg-type]
            return entries is not None and key in entries

    def __len__(self) -> int:
        with self._lock:
            return sum(len(e) for e in self._kinds.values())

    def count(self, kind: Hashable) -> int:
        with self._lock:
            return len(self._kinds.get(kind, ()))

    def clear(self) -> None:
        with self._lock:
            self._kinds.clear()
