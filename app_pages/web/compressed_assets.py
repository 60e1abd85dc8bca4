"""Streamlit's static assets, Brotli-compressed once per process and served from memory.

Streamlit sends its scripts and styles uncompressed (its gzip middleware skips /static on purpose),
so a first visit to `make run` moves about 3.4 MB; behind the hosted proxy they are compressed on
the fly at a fast zstd level. Assets are hashed and never change while the server runs, so each is
worth compressing once at Brotli's highest quality (about a fifth smaller than the proxy's zstd):
a request for one not yet compressed is answered by Streamlit as before and queues the file for a
background thread, and the assets index.html loads are queued when the server starts. The proxy
passes a response that is already encoded through as it is.
"""
from __future__ import annotations

import logging
import mimetypes
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Awaitable, Callable

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]

COMPRESSIBLE = frozenset({".js", ".css", ".svg", ".json", ".txt", ".html"})
QUALITY = 11
HASHED = re.compile(r"\.[A-Za-z0-9_-]{8}\.[a-z0-9]+$")  # Vite's content hash: safe to cache for a year
IMMUTABLE, REVALIDATE = b"public, immutable, max-age=31536000", b"no-cache"
_ASSET_REFS = re.compile(r'(?:src|href)="\./static/([^"]+)"')


def accepts_brotli(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether Accept-Encoding lists br with a non-zero weight."""
    for name, value in headers:
        if name.lower() == b"accept-encoding":
            for part in value.decode("latin-1").lower().split(","):
                coding, _, params = part.strip().partition(";")
                if coding.strip() == "br":
                    q = params.strip().removeprefix("q=")
                    try:
                        return not params or float(q) > 0
                    except ValueError:
                        return False
    return False


class BrotliStore:
    """Compressed copies of the files under one folder, made by one background thread."""

    def __init__(self, root: Path, quality: int = QUALITY) -> None:
        self.root = root.resolve()
        self.quality = quality
        self._done: dict[str, bytes] = {}
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="brotli-assets")

    def get(self, name: str) -> bytes | None:
        return self._done.get(name)

    def request(self, name: str) -> None:
        """Queue one file (a path relative to root) unless it is queued, done, or not a real file in root
        (so made-up names neither reach the disk twice nor grow the queue)."""
        if name in self._queued:
            return
        path = (self.root / name).resolve()
        if path.suffix not in COMPRESSIBLE or not path.is_relative_to(self.root) or not path.is_file():
            return
        with self._lock:
            if name in self._queued:
                return
            self._queued.add(name)
        self._pool.submit(self._compress, name, path)

    def _compress(self, name: str, path: Path) -> None:
        import brotli
        try:
            self._done[name] = brotli.compress(path.read_bytes(), quality=self.quality)
        except Exception:  # noqa: BLE001 - that file stays uncompressed; the detail is logged
            log.exception("could not compress %s; it is served uncompressed", name)

    def wait(self) -> None:
        """Block until everything queued so far is done (tests and benchmarks)."""
        self._pool.submit(lambda: None).result()


_store: BrotliStore | None = None
_store_lock = threading.Lock()


def static_root() -> Path:
    from streamlit import file_util
    return Path(file_util.get_static_dir()) / "static"


def store() -> BrotliStore:
    """The process's one store of Streamlit's static assets."""
    global _store
    with _store_lock:
        if _store is None:
            _store = BrotliStore(static_root())
        return _store


def warm() -> int:
    """Queue every asset Streamlit's index.html loads, so early visitors get them compressed.
    Returns how many were queued; does not wait for them."""
    index = (static_root().parent / "index.html").read_text(encoding="utf-8")
    names = _ASSET_REFS.findall(index)
    for name in names:
        store().request(name)
    return len(names)


class CompressedAssetsMiddleware:
    """ASGI middleware: GET/HEAD of a compressible file under /static/ from a client that accepts
    Brotli gets the compressed copy once it exists; everything else goes to Streamlit unchanged."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], base_url_path: str = "") -> None:
        self.app = app
        base = base_url_path.strip("/")
        self.prefix = f"/{base}/static/" if base else "/static/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or not path.startswith(self.prefix)
                or Path(path).suffix not in COMPRESSIBLE or not accepts_brotli(scope.get("headers", []))
                or any(name.lower() == b"range" for name, _ in scope.get("headers", []))):
            await self.app(scope, receive, send)
            return
        name = path[len(self.prefix):]
        body = store().get(name)
        if body is None:
            store().request(name)
            await self.app(scope, receive, send)
            return
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", kind.encode() + (b"; charset=utf-8" if kind.startswith("text/") else b"")),
            (b"content-encoding", b"br"), (b"vary", b"Accept-Encoding"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", IMMUTABLE if HASHED.search(name) else REVALIDATE)]})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
