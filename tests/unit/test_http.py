"""Unit tests for data_sources.http over real HTTP, against a local Mirror serving tiny hand-written files."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
import time
from pathlib import Path

import pytest

from data_sources.errors import FetchError, NotFoundError
from data_sources.http import USER_AGENT, Fetched, check_body, fetch, make_session
from data_sources.settings import Settings
from tests.support.mirror import Fault, Mirror

CSV = b"areacd,areanm,period,value\nE06000001,Hartlepool,2021,12.5\nE06000002,Middlesbrough,2021,13.1\n"
JSON = b'{"meta": {"slug": "tiny"}, "data": [{"areacd": "E06000001", "value": 12.5}]}\n'


def fast_settings(**extra) -> Settings:
    options = {
        "http_retries": 2,
        "http_backoff": 0.0,
        "http_connect_timeout": 2.0,
        "http_read_timeout": 2.0,
        "max_download_bytes": 1 << 20,
        **extra,
    }
    return Settings(**options)


@pytest.fixture(scope="module")
def _served(tmp_path_factory: pytest.TempPathFactory):
    """One server per module: shutting a Mirror down costs up to half a second (serve_forever's poll)."""
    folder = tmp_path_factory.mktemp("root")
    with Mirror(folder) as m:
        yield m


@pytest.fixture
def mirror(_served: Mirror) -> Mirror:
    """The module's Mirror with fresh files, no faults and zeroed counters."""
    state = _served.state
    for child in state.root.iterdir():
        child.unlink()
    (state.root / "tiny.csv").write_bytes(CSV)
    (state.root / "tiny.json").write_bytes(JSON)
    with state.lock:
        state.faults.clear()
        state.hits.clear()
        state.conditional_hits.clear()
    return _served


@pytest.fixture
def root(mirror: Mirror) -> Path:
    return mirror.state.root


@pytest.fixture
def settings() -> Settings:
    return fast_settings()


@pytest.fixture
def session(settings: Settings):
    s = make_session(settings)
    yield s
    s.close()


def get(mirror: Mirror, session, settings: Settings, path: str, expect: str = "csv", **kwargs) -> Fetched:
    return fetch(session, mirror.url + path.lstrip("/"), settings, expect=expect, **kwargs)


# --------------------------------------------------------------------------
# identity and successful downloads
# --------------------------------------------------------------------------


def test_session_user_agent_names_the_project(settings: Settings) -> None:
    session = make_session(settings)
    assert "good-growth" in session.headers["User-Agent"]
    assert session.headers["User-Agent"] == USER_AGENT


def test_requests_sent_by_fetch_carry_the_project_user_agent(mirror, session, settings) -> None:
    sent = []
    session.hooks["response"].append(lambda resp, *a, **k: sent.append(dict(resp.request.headers)))
    get(mirror, session, settings, "tiny.json", expect="json")
    assert sent and "good-growth" in sent[-1]["User-Agent"]
    assert sent[-1]["Accept"] == "application/json"


def test_ok_response_returns_body_checksum_size_and_validators(mirror, session, settings) -> None:
    got = get(mirror, session, settings, "tiny.csv")
    assert got.url == mirror.url + "tiny.csv"
    assert got.not_modified is False
    assert got.body == CSV
    assert got.sha256 == hashlib.sha256(CSV).hexdigest()
    assert got.size == len(CSV)
    assert got.etag == '"' + hashlib.sha1(CSV).hexdigest() + '"'
    assert got.last_modified and got.last_modified.endswith("GMT")
    assert got.fetched_at
    assert mirror.state.hits["/tiny.csv"] == 1


def test_json_file_is_accepted_when_json_is_expected(mirror, session, settings) -> None:
    got = get(mirror, session, settings, "tiny.json", expect="json")
    assert got.body == JSON


# --------------------------------------------------------------------------
# conditional GET
# --------------------------------------------------------------------------


def test_unchanged_file_is_not_downloaded_twice_when_etag_is_sent(mirror, session, settings) -> None:
    first = get(mirror, session, settings, "tiny.csv")
    again = get(mirror, session, settings, "tiny.csv", etag=first.etag)
    assert again.not_modified is True
    assert again.body is None
    assert again.sha256 is None
    assert again.size == 0
    assert again.etag == first.etag
    assert mirror.state.conditional_hits["/tiny.csv"] == 1
    assert mirror.state.hits["/tiny.csv"] == 2


def test_if_modified_since_alone_gives_not_modified(mirror, session, settings) -> None:
    first = get(mirror, session, settings, "tiny.csv")
    again = get(mirror, session, settings, "tiny.csv", last_modified=first.last_modified)
    assert again.not_modified is True
    assert again.body is None
    assert again.last_modified == first.last_modified
    assert mirror.state.conditional_hits["/tiny.csv"] == 1


def test_changed_file_is_downloaded_again_despite_old_etag(mirror, root, session, settings) -> None:
    first = get(mirror, session, settings, "tiny.csv")
    changed = CSV + b"E06000003,Redcar and Cleveland,2021,9.9\n"
    (root / "tiny.csv").write_bytes(changed)
    again = get(mirror, session, settings, "tiny.csv", etag=first.etag)
    assert again.not_modified is False
    assert again.body == changed
    assert again.etag != first.etag
    assert mirror.state.conditional_hits.get("/tiny.csv", 0) == 0


# --------------------------------------------------------------------------
# HTTP errors and retries
# --------------------------------------------------------------------------


def test_missing_file_raises_not_found_without_retrying(mirror, session, settings) -> None:
    with pytest.raises(NotFoundError) as info:
        get(mirror, session, settings, "absent.csv")
    assert info.value.status == 404
    assert info.value.url == mirror.url + "absent.csv"
    assert "404" in str(info.value)
    assert mirror.state.hits["/absent.csv"] == 1


def test_persistent_server_error_raises_after_all_retries(mirror, session, settings) -> None:
    mirror.state.faults["/tiny.csv"] = Fault(kind="status", status=500)
    with pytest.raises(FetchError) as info:
        get(mirror, session, settings, "tiny.csv")
    assert not isinstance(info.value, NotFoundError)
    message = str(info.value)
    assert mirror.url + "tiny.csv" in message
    assert "HTTP 500" in message
    assert info.value.status == 500
    assert mirror.state.hits["/tiny.csv"] == settings.http_retries + 1


def test_flaky_server_succeeds_within_the_retry_budget(mirror, session, settings) -> None:
    mirror.state.faults["/tiny.csv"] = Fault(kind="flaky", status=503, times=2)
    started = time.monotonic()
    got = get(mirror, session, settings, "tiny.csv")
    assert got.body == CSV
    assert mirror.state.hits["/tiny.csv"] == 3
    assert time.monotonic() - started < 2.0  # Retry-After: 0 honoured, no long sleeps


def test_flaky_server_beyond_the_retry_budget_fails(mirror, session, settings) -> None:
    mirror.state.faults["/tiny.csv"] = Fault(kind="flaky", status=503, times=3)
    with pytest.raises(FetchError, match="HTTP 503"):
        get(mirror, session, settings, "tiny.csv")
    assert mirror.state.hits["/tiny.csv"] == 3


def test_slow_server_raises_timed_out(mirror) -> None:
    settings = fast_settings(http_retries=1, http_read_timeout=0.2)
    mirror.state.faults["/tiny.csv"] = Fault(kind="timeout", delay=1.0)
    session = make_session(settings)
    with pytest.raises(FetchError, match="timed out") as info:
        get(mirror, session, settings, "tiny.csv")
    assert mirror.url + "tiny.csv" in str(info.value)
    assert mirror.state.hits["/tiny.csv"] == settings.http_retries + 1  # read timeouts are retried too
    session.close()


def test_truncated_body_raises(mirror, session, settings) -> None:
    mirror.state.faults["/tiny.csv"] = Fault(kind="truncate", body=CSV)
    with pytest.raises(FetchError, match="truncated"):
        get(mirror, session, settings, "tiny.csv")


def test_trickling_source_fails_at_the_download_deadline_not_never(mirror) -> None:
    """Every read succeeds within the read timeout, so only an overall deadline can end the download."""
    settings = fast_settings(http_read_timeout=2.0, download_deadline=1.0)
    mirror.state.faults["/tiny.csv"] = Fault(kind="trickle", body=CSV * 20, step=4, delay=0.05)
    session = make_session(settings)
    started = time.monotonic()
    with pytest.raises(FetchError, match="deadline") as info:
        get(mirror, session, settings, "tiny.csv")
    assert time.monotonic() - started < 2.5
    assert mirror.url + "tiny.csv" in str(info.value)
    session.close()


def test_a_caller_deadline_sooner_than_the_download_deadline_wins(mirror) -> None:
    settings = fast_settings(download_deadline=60.0)
    mirror.state.faults["/tiny.csv"] = Fault(kind="trickle", body=CSV * 20, step=4, delay=0.05)
    session = make_session(settings)
    started = time.monotonic()
    with pytest.raises(FetchError, match="deadline"):
        get(mirror, session, settings, "tiny.csv", deadline=time.monotonic() + 0.5)
    assert time.monotonic() - started < 2.0
    session.close()


def test_slow_but_steady_source_within_the_deadline_is_accepted(mirror, session) -> None:
    settings = fast_settings(download_deadline=10.0)
    mirror.state.faults["/tiny.csv"] = Fault(kind="trickle", body=CSV, step=40, delay=0.02)
    assert get(mirror, session, settings, "tiny.csv").body == CSV


# --------------------------------------------------------------------------
# redirects
# --------------------------------------------------------------------------

@pytest.fixture
def foreign(tmp_path: Path):
    """Another server on another port serving the same file name with values ×100."""
    (tmp_path / "tiny.csv").write_bytes(CSV.replace(b"12.5", b"1250").replace(b"13.1", b"1310"))
    with Mirror(tmp_path) as m:
        yield m


def test_redirect_on_the_same_host_and_port_is_followed_and_the_final_url_recorded(mirror, root, session,
                                                                                   settings) -> None:
    (root / "moved.csv").write_bytes(CSV)
    mirror.state.faults["/tiny.csv"] = Fault(kind="redirect", location="/moved.csv")
    got = get(mirror, session, settings, "tiny.csv")
    assert got.body == CSV
    assert got.url == mirror.url + "tiny.csv" and got.final_url == mirror.url + "moved.csv"


def test_redirect_to_another_host_port_is_refused(mirror, foreign, session, settings) -> None:
    mirror.state.faults["/tiny.csv"] = Fault(kind="redirect", location=foreign.url + "tiny.csv")
    with pytest.raises(FetchError, match="refused a redirect to another host") as info:
        get(mirror, session, settings, "tiny.csv")
    assert foreign.url + "tiny.csv" in str(info.value)
    assert foreign.state.hits == {}  # nothing was even asked of the foreign server


def test_redirect_to_an_allowed_host_is_followed(mirror, foreign, session) -> None:
    port = foreign.server.server_address[1]
    settings = fast_settings(redirect_allowed_hosts=[f"127.0.0.1:{port}"])
    mirror.state.faults["/tiny.csv"] = Fault(kind="redirect", location=foreign.url + "tiny.csv")
    got = get(mirror, session, settings, "tiny.csv")
    assert b"1250" in got.body and got.final_url == foreign.url + "tiny.csv"


def test_redirect_loop_is_refused(mirror, session, settings) -> None:
    mirror.state.faults["/tiny.csv"] = Fault(kind="redirect", location="/tiny.csv")
    with pytest.raises(FetchError, match="redirects"):
        get(mirror, session, settings, "tiny.csv")


def test_allowed_hosts_are_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("GOOD_GROWTH_REDIRECT_ALLOWED_HOSTS", '["objects.example.org"]')
    monkeypatch.setenv("GOOD_GROWTH_DOWNLOAD_DEADLINE", "42")
    s = Settings()
    assert s.redirect_allowed_hosts == ["objects.example.org"] and s.download_deadline == 42.0


# --------------------------------------------------------------------------
# bodies that are not the data asked for
# --------------------------------------------------------------------------


def test_html_error_page_served_with_200_is_refused(mirror, session, settings) -> None:
    mirror.state.faults["/tiny.csv"] = Fault(kind="html")
    with pytest.raises(FetchError, match="HTML page"):
        get(mirror, session, settings, "tiny.csv")


def test_html_body_labelled_as_text_is_refused(mirror, session, settings) -> None:
    mirror.state.faults["/tiny.csv"] = Fault(kind="body", body=b"\n  <html><body>Rate limited</body></html>")
    with pytest.raises(FetchError, match="HTML page"):
        get(mirror, session, settings, "tiny.csv")


def test_binary_bytes_are_refused(mirror, session, settings) -> None:
    mirror.state.faults["/tiny.csv"] = Fault(kind="body", body=b"PK\x03\x04\x00\x00\x08\x00\xff\xfe\x00garbage")
    with pytest.raises(FetchError, match="binary"):
        get(mirror, session, settings, "tiny.csv")


def test_non_utf8_text_is_refused(mirror, session, settings) -> None:
    mirror.state.faults["/tiny.csv"] = Fault(kind="body", body=b"areacd,areanm\nW06000001,Ynys M\xf4n\n")
    with pytest.raises(FetchError, match="not UTF-8"):
        get(mirror, session, settings, "tiny.csv")


def test_empty_body_is_refused(mirror, session, settings) -> None:
    mirror.state.faults["/tiny.csv"] = Fault(kind="body", body=b"")
    with pytest.raises(FetchError, match="empty body"):
        get(mirror, session, settings, "tiny.csv")


def test_csv_body_is_refused_when_json_is_expected(mirror, session, settings) -> None:
    with pytest.raises(FetchError, match="expected JSON"):
        get(mirror, session, settings, "tiny.csv", expect="json")


def test_body_larger_than_the_download_limit_is_refused(mirror) -> None:
    settings = fast_settings(max_download_bytes=16)
    session = make_session(settings)
    with pytest.raises(FetchError, match="exceeds"):
        get(mirror, session, settings, "tiny.csv")
    session.close()


def test_body_exactly_at_the_download_limit_is_accepted(mirror) -> None:
    settings = fast_settings(max_download_bytes=len(CSV))
    session = make_session(settings)
    assert get(mirror, session, settings, "tiny.csv").body == CSV
    session.close()


def test_progress_callback_reports_the_final_byte_count(mirror, session, settings) -> None:
    calls = []
    got = get(mirror, session, settings, "tiny.csv", on_bytes=lambda url, n, total: calls.append((url, n, total)))
    assert calls
    assert calls[-1] == (mirror.url + "tiny.csv", len(CSV), len(CSV))
    assert got.size == calls[-1][1]


# --------------------------------------------------------------------------
# compressed transfer (the Mirror never compresses, so a tiny server of our own)
# --------------------------------------------------------------------------


class _GzipHandler(http.server.BaseHTTPRequestHandler):
    """Answers every GET with CSV gzip-compressed on the wire, as CDNs do when asked (requests asks by default)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        wire = gzip.compress(CSV)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(wire)))  # RFC 9110: the length of the encoded body
        self.end_headers()
        self.wfile.write(wire)


@pytest.fixture(scope="module")
def gzip_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _GzipHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tiny.csv"
    server.shutdown()
    server.server_close()


def test_gzip_encoded_response_is_decoded_and_accepted(gzip_url: str, session, settings) -> None:
    got = fetch(session, gzip_url, settings, expect="csv")
    assert got.body == CSV
    assert got.size == len(CSV)


# --------------------------------------------------------------------------
# check_body on its own
# --------------------------------------------------------------------------


def test_check_body_accepts_bom_prefixed_csv() -> None:
    check_body("u", b"\xef\xbb\xbfareacd,value\nE06000001,1\n", "csv")


def test_check_body_accepts_bom_prefixed_json() -> None:
    check_body("u", b'\xef\xbb\xbf  {"a": 1}', "json")


def test_check_body_refuses_doctype_html_after_leading_whitespace() -> None:
    with pytest.raises(FetchError, match="HTML page") as info:
        check_body("http://example.test/x.csv", b"  \r\n\t<!doctype html><html></html>", "csv")
    assert info.value.url == "http://example.test/x.csv"


def test_check_body_refuses_anything_served_as_text_html() -> None:
    with pytest.raises(FetchError, match="HTML page"):
        check_body("u", b"areacd,value\n", "csv", "text/html; charset=utf-8")
