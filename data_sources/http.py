"""The one HTTP client every source goes through.

Why one place: retries, timeouts, size limits, conditional GET and the
"is this really data?" check are policy, and policy must not drift between sources.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Literal
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .errors import FetchError, NotFoundError
from .settings import Settings

log = logging.getLogger(__name__)

USER_AGENT = "good-growth/0.1 (+https://github.com/good-growth/good-growth; public-statistics dashboard)"
Kind = Literal["csv", "json", "rda"]
# Compressed R data files (`save()` output) start with one of these signatures.
RDA_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"RDX2\n", b"RDX3\n")
RETRY_STATUSES = (429, 500, 502, 503, 504)


@dataclass(frozen=True)
class Fetched:
    """One download, or the server's word that the copy we hold is still current."""

    url: str
    not_modified: bool
    body: bytes | None
    etag: str | None
    last_modified: str | None
    sha256: str | None
    size: int
    fetched_at: str
    final_url: str | None = None  # where the bytes came from, after same-host or allowed redirects


class _CappedRetry(Retry):
    """Retry that honours Retry-After but never sleeps longer than MAX_RETRY_AFTER seconds."""

    def get_retry_after(self, response):  # type: ignore[no-untyped-def]
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, MAX_RETRY_AFTER)


MAX_RETRY_AFTER = 60.0


def make_session(settings: Settings) -> requests.Session:
    """A Session whose adapter retries idempotent GETs with exponential back-off, honouring Retry-After."""
    retry = _CappedRetry(
        total=settings.http_retries,
        connect=settings.http_retries,
        read=settings.http_retries,
        status=settings.http_retries,
        backoff_factor=settings.http_backoff,
        backoff_max=30,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def fetch(
    session: requests.Session,
    url: str,
    settings: Settings,
    *,
    expect: Kind,
    etag: str | None = None,
    last_modified: str | None = None,
    on_bytes: Callable[[str, int, int | None], None] | None = None,
    deadline: float | None = None,
) -> Fetched:
    """GET a CSV or JSON file, conditionally when validators from the previous snapshot are given.

    The whole download, redirects and retries included, must end within `settings.download_deadline`
    seconds (or by the monotonic `deadline`, if sooner): the read timeout alone bounds one read, so a
    source trickling a byte at a time would otherwise hold the refresh for ever. Redirects are followed
    only to the same host and port, or to a host on `settings.redirect_allowed_hosts`.

    Raises NotFoundError for 404 and FetchError for every other failure, each naming the URL.
    """
    headers = {"Accept": {"json": "application/json", "rda": "application/octet-stream, */*;q=0.1"}.get(
        expect, "text/csv, text/plain;q=0.9, */*;q=0.1")}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    own_deadline = time.monotonic() + settings.download_deadline
    deadline = own_deadline if deadline is None else min(deadline, own_deadline)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    current = url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            remaining = _remaining(url, deadline)
            timeout = (min(settings.http_connect_timeout, remaining), min(settings.http_read_timeout, remaining))
            with session.get(current, headers=headers, timeout=timeout, stream=True, allow_redirects=False) as resp:
                if resp.is_redirect:
                    current = _redirect_target(url, current, resp.headers["Location"], settings)
                    continue
                if resp.status_code == 304:
                    return Fetched(url, True, None, etag, last_modified, None, 0, now, final_url=current)
                if resp.status_code == 404:
                    raise NotFoundError(url, _via("not found (HTTP 404)", url, current), 404)
                if resp.status_code >= 400:
                    reason = f"HTTP {resp.status_code} {resp.reason or ''}".strip()
                    raise FetchError(url, _via(reason, url, current), resp.status_code)
                body = _read_limited(resp, url, settings.max_download_bytes, on_bytes, deadline)
                check_body(url, body, expect, resp.headers.get("Content-Type", ""))
                return Fetched(
                    url=url,
                    not_modified=False,
                    body=body,
                    etag=resp.headers.get("ETag"),
                    last_modified=resp.headers.get("Last-Modified"),
                    sha256=hashlib.sha256(body).hexdigest(),
                    size=len(body),
                    fetched_at=now,
                    final_url=current,
                )
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")
    except FetchError:
        raise
    except requests.exceptions.Timeout as exc:
        if time.monotonic() >= deadline:
            raise FetchError(url, _overdue(settings)) from exc
        raise FetchError(url, f"timed out after retries ({exc.__class__.__name__})") from exc
    except requests.exceptions.RetryError as exc:
        raise FetchError(url, "gave up after repeated server errors") from exc
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
            urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as exc:
        raise FetchError(url, "truncated or corrupt body") from exc
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise FetchError(url, "timed out while reading the body") from exc
    except requests.exceptions.ConnectionError as exc:
        text = str(exc)
        reason = ("truncated body" if "IncompleteRead" in text
                  else "timed out after retries" if "timed out" in text.lower() else "could not connect")
        raise FetchError(url, reason) from exc
    except requests.exceptions.RequestException as exc:
        raise FetchError(url, str(exc)) from exc


MAX_REDIRECTS = 5


def _remaining(url: str, deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(url, "download deadline passed before the request could start")
    return left


def _overdue(settings: Settings) -> str:
    return (f"download did not finish within its deadline ({settings.download_deadline:g} s, "
            "GOOD_GROWTH_DOWNLOAD_DEADLINE) or the refresh deadline")


def _via(reason: str, url: str, final: str) -> str:
    return reason if final == url else f"{reason} (redirected to {final})"


def _host_port(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def _redirect_target(original: str, current: str, location: str, settings: Settings) -> str:
    """The URL a redirect points to, if it stays on the source's own host and port or goes to an
    allowed host. Why refuse the rest: a redirect to an unknown server could hand us anyone's numbers
    under the source's name, and the manifest would credit the source for them."""
    target = urljoin(current, location)
    scheme, host, port = _host_port(target)
    o_scheme, o_host, o_port = _host_port(original)
    if scheme not in ("http", "https"):
        raise FetchError(original, f"refused a redirect to {target}: not an HTTP URL")
    if o_scheme == "https" and scheme == "http":
        raise FetchError(original, f"refused a redirect from HTTPS to plain HTTP ({target})")
    allowed = {h.lower() for h in settings.redirect_allowed_hosts}
    if (host, port) == (o_host, o_port) or host in allowed or f"{host}:{port}" in allowed:
        return target
    raise FetchError(original, f"refused a redirect to another host ({host}:{port}, {target}); "
                               "add it to GOOD_GROWTH_REDIRECT_ALLOWED_HOSTS if that host is trusted")


def _read_limited(resp: requests.Response, url: str, limit: int,
                  on_bytes: Callable[[str, int, int | None], None] | None = None,
                  deadline: float | None = None) -> bytes:
    """The body, refused if larger than `limit` or still arriving at `deadline`.

    Why read1 and not iter_content: iter_content waits until a whole chunk has arrived, so a source
    sending one byte a second never gets back to the deadline check; read1 returns whatever came."""
    announced = resp.headers.get("Content-Length")
    total_expected = int(announced) if announced and announced.isdigit() else None
    if announced and announced.isdigit() and int(announced) > limit:
        raise FetchError(url, f"body of {int(announced):,} bytes exceeds the {limit:,}-byte limit")
    chunks, total = [], 0
    while True:
        if deadline is not None and time.monotonic() > deadline:
            raise FetchError(url, f"download still arriving at its deadline after {total:,} bytes "
                                  "(GOOD_GROWTH_DOWNLOAD_DEADLINE / GOOD_GROWTH_REFRESH_DEADLINE)")
        chunk = resp.raw.read1(1 << 16, decode_content=True)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise FetchError(url, f"body exceeds the {limit:,}-byte limit")
        chunks.append(chunk)
        if on_bytes:
            on_bytes(url, total, total_expected)
    body = b"".join(chunks)
    # Content-Length counts bytes on the wire, which differ from the body when it was gzipped.
    on_wire = resp.raw.tell() if resp.headers.get("Content-Encoding") else len(body)
    if total_expected is not None and on_wire != total_expected:
        raise FetchError(url, f"truncated body: got {on_wire:,} of {total_expected:,} bytes")
    return body


def check_body(url: str, body: bytes, expect: Kind, content_type: str = "") -> None:
    """Refuse bodies that cannot be the data asked for: an HTML error page served with 200 is a fault."""
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if "text/html" in content_type.lower() or head.startswith((b"<!doctype", b"<html", b"<head", b"<body")):
        raise FetchError(url, f"expected {expect.upper()} but got an HTML page")
    if not body.strip():
        raise FetchError(url, "empty body")
    if expect == "rda":
        if not body.startswith(RDA_MAGIC):
            raise FetchError(url, "expected an R data file (compressed .rda) but the body starts with other bytes")
        return
    if b"\x00" in body[:65536]:
        raise FetchError(url, f"expected {expect.upper()} but got binary bytes")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FetchError(url, f"expected UTF-8 {expect.upper()} but byte {exc.start} is not UTF-8") from exc
    if expect == "json" and not head.startswith((b"{", b"[")):
        raise FetchError(url, "expected JSON but the body does not start with '{' or '['")
