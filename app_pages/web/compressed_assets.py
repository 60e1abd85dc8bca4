"""Streamlit's static assets, Brotli-compressed once per process and served from memory.

Streamlit sends its scripts and styles uncompressed (its gzip middleware skips /static on purpose),
so a first visit to `make run` moves about 3.4 MB; behind the hosted proxy they are compressed on
the fly at a fast zstd level. Assets are hashed and never change while the server runs, so each is
worth compressing once at Brotli's highest quality (about a fifth smaller than the proxy's zstd):
a request for one not yet compressed is answered by Streamlit as before and queues the file, and
the assets a first visit loads are queued when the server starts. The proxy passes a response
that is already encoded through as it is.

The compressing is done by a short-lived child process (`python -m app_pages.web.compressed_assets`),
one per batch of queued files: Brotli's highest quality works in large buffers that the allocator
kept, leaving the server some 30 MB larger for good; the server keeps only the compressed bytes.
"""
from __future__ import annotations

import logging
import mimetypes
import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable

from app_pages.web.respond import App, Receive, Scope, Send, send_body, under

log = logging.getLogger(__name__)


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


Compressor = Callable[[Path, list[str], int], dict[str, bytes]]


def compress_files(root: Path, names: list[str], quality: int = QUALITY) -> dict[str, bytes]:
    """Each file (relative to root) Brotli-compressed, in this process."""
    import brotli
    return {name: brotli.compress((root / name).read_bytes(), quality=quality) for name in names}


def compress_in_subprocess(root: Path, names: list[str], quality: int = QUALITY,
                           timeout_s: float = 600) -> dict[str, bytes]:
    """compress_files in a child process (this module's main), which writes <i>.br per name."""
    from app_pages.web.child_process import run_module
    return run_module(__name__, [str(root), str(quality), *names],
                      lambda folder: {name: (folder / f"{i}.br").read_bytes() for i, name in enumerate(names)},
                      timeout_s)


class BrotliStore:
    """Compressed copies of the files under one folder: queued names are compressed in batches,
    by one background thread handing each batch to `compressor`."""

    def __init__(self, root: Path, quality: int = QUALITY, compressor: Compressor = compress_in_subprocess) -> None:
        self.root = root.resolve()
        self.quality = quality
        self.compressor = compressor
        self._done: dict[str, bytes] = {}
        self._queued: set[str] = set()
        self._pending: list[str] = []
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
            self._pending.append(name)
            if len(self._pending) > 1:
                return  # a batch is already waiting for the thread: this name joins it
        self._pool.submit(self._compress_pending)

    def request_all(self, names: Iterable[str]) -> None:
        for name in names:
            self.request(name)

    def _compress_pending(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            self._done.update(self.compressor(self.root, batch, self.quality))
        except Exception:  # noqa: BLE001 - those files stay uncompressed; the detail is logged
            log.exception("could not compress %s; served uncompressed", ", ".join(batch))

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


def warm(more: Iterable[str] = ()) -> int:
    """Queue every asset Streamlit's index.html loads, and `more` (paths relative to the static
    folder), so early visitors get them compressed. Returns how many were named; does not wait."""
    index = (static_root().parent / "index.html").read_text(encoding="utf-8")
    names = _ASSET_REFS.findall(index) + list(more)
    store().request_all(names)
    return len(names)


class CompressedAssetsMiddleware:
    """ASGI middleware: GET/HEAD of a compressible file under /static/ from a client that accepts
    Brotli gets the compressed copy once it exists; everything else goes to Streamlit unchanged."""

    def __init__(self, app: App, base_url_path: str = "") -> None:
        self.app = app
        self.prefix = under(base_url_path, "static/")

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
        await send_body(scope, send, body, [
            (b"content-type", kind.encode() + (b"; charset=utf-8" if kind.startswith("text/") else b"")),
            (b"content-encoding", b"br"), (b"vary", b"Accept-Encoding"),
            (b"cache-control", IMMUTABLE if HASHED.search(name) else REVALIDATE)])


def main(argv: list[str] | None = None) -> None:
    """python -m app_pages.web.compressed_assets OUTPUT_FOLDER ROOT QUALITY NAME...: writes <i>.br
    for the i-th name (compress_in_subprocess runs this)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3:
        raise SystemExit("usage: python -m app_pages.web.compressed_assets OUTPUT_FOLDER ROOT QUALITY NAME...")
    out, root, quality, names = Path(args[0]), Path(args[1]), int(args[2]), args[3:]
    for i, body in enumerate(compress_files(root, names, quality).values()):
        (out / f"{i}.br").write_bytes(body)


if __name__ == "__main__":
    main()
