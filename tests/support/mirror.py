"""A local HTTP mirror of the public sources, with faults on demand.

Tests and CI serve the offline copy of the ONS repositories from 127.0.0.1 through this
server and point the project's configurable URLs at it, so refresh runs over real HTTP.
`faults` maps a URL path to what should go wrong for it.
"""
from __future__ import annotations

import argparse
import hashlib
import http.server
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit


@dataclass
class Fault:
    """kind: status | flaky | timeout | truncate | html | body | shrink | redirect | trickle.

    shrink:   the real file cut to its header and first `rows` data rows, served as a normal 200
    redirect: 302 to `location` (e.g. the same path on another Mirror, a foreign host:port)
    trickle:  the real file (or `body`) announced in full, then sent `step` bytes every `delay` seconds
    """

    kind: str
    status: int = 500
    times: int = 1  # flaky: fail this many times, then serve normally
    delay: float = 0.0
    body: bytes = b""
    rows: int = 3
    location: str = ""
    step: int = 1


@dataclass
class MirrorState:
    root: Path
    faults: dict[str, Fault] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    conditional_hits: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(http.server.BaseHTTPRequestHandler):
    state: MirrorState
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = unquote(urlsplit(self.path).path)
        with self.state.lock:
            self.state.hits[path] = self.state.hits.get(path, 0) + 1
            count = self.state.hits[path]
            fault = self.state.faults.get(path)
        file = (self.state.root / path.lstrip("/")).resolve()
        if fault and self._apply(fault, count, file):
            return
        if not file.is_relative_to(self.state.root.resolve()) or not file.is_file():
            return self._send(404, b"404: Not Found", "text/plain")
        body = file.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        mtime = int(file.stat().st_mtime)
        last_modified = formatdate(mtime, usegmt=True)
        if self._not_modified(etag, mtime):
            with self.state.lock:
                self.state.conditional_hits[path] = self.state.conditional_hits.get(path, 0) + 1
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(200, body, "text/plain; charset=utf-8", {"ETag": etag, "Last-Modified": last_modified})

    def _not_modified(self, etag: str, mtime: int) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return inm == etag
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                return mtime <= parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def _apply(self, fault: Fault, count: int, file: Path) -> bool:
        if fault.kind == "status":
            self._send(fault.status, f"{fault.status} error".encode(), "text/plain")
        elif fault.kind == "flaky":
            if count > fault.times:
                return False
            self._send(fault.status, b"temporarily unavailable", "text/plain", {"Retry-After": "0"})
        elif fault.kind == "timeout":
            time.sleep(fault.delay)
            self._send(200, b"late", "text/plain")
        elif fault.kind == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(fault.body) * 2))
            self.end_headers()
            self.wfile.write(fault.body)
            self.wfile.flush()
            self.close_connection = True
        elif fault.kind == "html":
            self._send(200, b"<!DOCTYPE html><html><body><h1>Service unavailable</h1></body></html>", "text/html")
        elif fault.kind == "body":
            self._send(200, fault.body, "text/plain; charset=utf-8")
        elif fault.kind == "shrink":
            lines = file.read_bytes().splitlines(keepends=True)
            self._send(200, b"".join(lines[: 1 + fault.rows]), "text/plain; charset=utf-8")
        elif fault.kind == "redirect":
            self._send(302, b"moved", "text/plain", {"Location": fault.location})
        elif fault.kind == "trickle":
            self._trickle(fault.body or file.read_bytes(), fault.step, fault.delay)
        else:
            raise ValueError(fault.kind)
        return True

    def _trickle(self, body: bytes, step: int, delay: float) -> None:
        """Announce the whole body, then send it a few bytes at a time: every read succeeds, slowly."""
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(0, len(body), step):
                self.wfile.write(body[i:i + step])
                self.wfile.flush()
                time.sleep(delay)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class Mirror:
    """A threaded server on a free port of 127.0.0.1; use as a context manager."""

    def __init__(self, root: Path) -> None:
        self.state = MirrorState(root=Path(root))
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> "Mirror":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def settings_overrides(self) -> dict[str, str]:
        """URLs for a mirror laid out like the offline copy of the public repositories."""
        return url_overrides(self.url)


def url_overrides(base: str) -> dict[str, str]:
    base = base.rstrip("/") + "/"
    return {
        "source_base_url": base + "ons-local-stats/",
        "fallback_base_url": base + "ons-local-stats-fallback/app-individual-datasets/",
        "boundaries_url": base + "geography/topo.json",
        "boundary_changes_url": base + "geography/changes.csv",
        "geo_metadata_url": base + "ons-local-stats-app/geo-metadata.json",
        "areas_list_url": base + "ons-local-stats-app/areas-list.json",
        "clusters_base_url": base + "ons-local-stats-app/clusters/",
        "imd_base_url": base + "deprivation/",
        "geographr_base_url": base + "deprivation/",
        "oflog_asc_url": base + "oflog-adult-social-care/ASC_data.csv",
    }


def cli_flags(base: str) -> list[str]:
    names = {
        "source_base_url": "--source-url", "fallback_base_url": "--fallback-url",
        "boundaries_url": "--boundaries-url", "boundary_changes_url": "--changes-url",
        "geo_metadata_url": "--geo-metadata-url", "areas_list_url": "--areas-list-url",
        "clusters_base_url": "--clusters-url", "imd_base_url": "--imd-url",
        "geographr_base_url": "--geographr-url", "oflog_asc_url": "--asc-url",
    }
    flags: list[str] = []
    for key, url in url_overrides(base).items():
        flags += [names[key], url]
    return flags


def main() -> int:
    parser = argparse.ArgumentParser(description="Serve an offline copy of the sources and refresh from it.")
    parser.add_argument("command", choices=["serve", "refresh"])
    parser.add_argument("--root", type=Path, required=True, help="folder laid out like the offline copy")
    args, rest = parser.parse_known_args()
    args.rest = [a for a in rest if a != "--"]
    if not (args.root / "ons-local-stats").is_dir():
        print(f"error: {args.root} does not hold an ons-local-stats folder", file=sys.stderr)
        return 2
    with Mirror(args.root) as mirror:
        if args.command == "serve":
            print(mirror.url, flush=True)
            try:
                mirror.thread.join()
            except KeyboardInterrupt:
                pass
            return 0
        note = ("offline byte-exact copy of the public ONS repositories (explore-local-statistics-data, "
                "explore-local-statistics-app, uk-topojson, humaniverse IMD and geographr, Oflog's "
                "oflog-automated-text) served from a local HTTP mirror; the copy's "
                "PROVENANCE.md names the upstream commits")
        cmd = [sys.executable, "-m", "data_sources", "refresh", *cli_flags(mirror.url), "--source-note", note,
               *args.rest]
        return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
