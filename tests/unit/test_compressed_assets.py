"""Streamlit's static assets compressed once with Brotli and served from memory."""
from __future__ import annotations

import brotli
import pytest

from app_pages.web import compressed_assets as ca
from tests.support.asgi_call import request, streamlit_stand_in

BR = {"Accept-Encoding": "gzip, deflate, br, zstd"}


@pytest.fixture
def assets(tmp_path, monkeypatch):
    """A static folder of our own behind the middleware, with a fresh store."""
    (tmp_path / "js").mkdir()
    script = ("export const x = 1;\n" * 2000).encode()
    (tmp_path / "js" / "index.AbCd12_-.js").write_bytes(script)
    (tmp_path / "js" / "plain.js").write_bytes(script)
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "font.Ab12Cd34.woff2").write_bytes(b"\x00" * 100)
    (tmp_path.parent / "secret.js").write_bytes(b"secret")
    store = ca.BrotliStore(tmp_path, quality=5)
    monkeypatch.setattr(ca, "store", lambda: store)
    return store, script


def _get(path: str, headers=BR, method: str = "GET", base: str = ""):
    return request(ca.CompressedAssetsMiddleware(streamlit_stand_in, base_url_path=base), path, method, headers)


def test_the_first_request_is_streamlits_and_later_ones_are_compressed(assets):
    store, script = assets
    path = "/static/js/index.AbCd12_-.js"
    assert _get(path).text == f"streamlit {path}"
    store.wait()
    r = _get(path)
    assert r.headers["content-encoding"] == "br" and r.headers["vary"] == "Accept-Encoding"
    assert brotli.decompress(r.body) == script and len(r.body) < len(script) / 20
    assert int(r.headers["content-length"]) == len(r.body)
    assert "javascript" in r.headers["content-type"]
    assert r.headers["cache-control"] == "public, immutable, max-age=31536000"
    assert _get(path, method="HEAD").body == b""


def test_an_unhashed_name_is_revalidated(assets):
    store, _ = assets
    _get("/static/js/plain.js")
    store.wait()
    assert _get("/static/js/plain.js").headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("headers", [{}, {"Accept-Encoding": "gzip, deflate"}, {"Accept-Encoding": "br;q=0"},
                                     {"Accept-Encoding": "gzip, br", "Range": "bytes=0-10"}])
def test_clients_without_brotli_and_range_requests_get_streamlits_answer(assets, headers):
    store, _ = assets
    _get("/static/js/index.AbCd12_-.js")
    store.wait()
    assert _get("/static/js/index.AbCd12_-.js", headers=headers).text == "streamlit /static/js/index.AbCd12_-.js"


@pytest.mark.parametrize("path", ["/static/media/font.Ab12Cd34.woff2", "/static/../secret.js",
                                  "/static/js/../../secret.js", "/static/js/missing.js", "/profile", "/static"])
def test_other_paths_pass_through_and_queue_nothing(assets, path):
    store, _ = assets
    assert _get(path).text == f"streamlit {path}"
    store.wait()
    assert store._queued == set() and store._done == {}


def test_the_base_url_path_is_followed(assets):
    store, _ = assets
    _get("/gg/static/js/index.AbCd12_-.js", base="/gg/")
    store.wait()
    assert _get("/gg/static/js/index.AbCd12_-.js", base="/gg/").headers["content-encoding"] == "br"
    assert _get("/static/js/index.AbCd12_-.js", base="/gg/").text.startswith("streamlit")


def test_a_file_that_cannot_be_compressed_stays_streamlits(assets, monkeypatch, caplog):
    store, _ = assets
    monkeypatch.setattr(brotli, "compress", lambda *a, **k: (_ for _ in ()).throw(MemoryError("no room")))
    _get("/static/js/index.AbCd12_-.js")
    store.wait()
    assert _get("/static/js/index.AbCd12_-.js").text.startswith("streamlit")
    assert "could not compress js/index.AbCd12_-.js" in caplog.text


@pytest.mark.parametrize("value, ok", [("br", True), ("gzip, br;q=0.5", True), ("BR", True), ("br;q=0", False),
                                       ("brotli", False), ("gzip", False), ("br;q=x", False)])
def test_accept_encoding_is_read_with_its_weights(value, ok):
    assert ca.accepts_brotli([(b"accept-encoding", value.encode())]) is ok


def test_warming_queues_every_asset_streamlits_index_page_loads(monkeypatch):
    queued: list[str] = []

    class Store:
        def request(self, name: str) -> None:
            queued.append(name)
    monkeypatch.setattr(ca, "store", lambda: Store())
    assert ca.warm() == len(queued) > 10
    assert any(n.startswith("js/index.") for n in queued) and any(n.endswith(".css") for n in queued)
    assert all((ca.static_root() / n).is_file() for n in queued)
