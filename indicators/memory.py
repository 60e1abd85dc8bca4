"""Giving freed memory back to the operating system (glibc only; a no-op elsewhere).

Why: the server's resident memory is what a host bills and what the public deployment is
sized by. glibc keeps freed heap pages, and gives each thread that allocates (Streamlit runs
every session's script in its own thread) an arena of its own, so memory freed after loading
the snapshot, or by one visitor's page, stays resident. Capping the arenas and trimming after
the big one-off allocations keeps the server near what it actually holds.
"""
from __future__ import annotations

import ctypes
from functools import lru_cache

_M_ARENA_MAX = -8  # from glibc's malloc.h


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    """The C library already loaded into this process. Not ctypes.util.find_library: on Linux
    that runs ldconfig (or a compiler) in a subprocess on every call."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def limit_arenas(count: int = 2) -> bool:
    """Cap glibc's malloc arenas for threads started from now on. True if applied."""
    libc = _libc()
    return bool(libc is not None and hasattr(libc, "mallopt") and libc.mallopt(_M_ARENA_MAX, count) == 1)


def release_freed() -> bool:
    """Return freed heap pages to the OS. True if any memory was released."""
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))
