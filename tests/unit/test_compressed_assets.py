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
    store = ca.BrotliStore(tmp_path, quality=5, compressor=ca.compress_files)
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


def test_files_queued_together_are_compressed_in_one_batch(tmp_path):
    batches: list[list[str]] = []
    gate = __import__("threading").Event()

    def compressor(root, names, quality):
        gate.wait(5)
        batches.append(list(names))
        return ca.compress_files(root, names, quality)
    for name in ("a.js", "b.js", "c.css"):
        (tmp_path / name).write_text("x" * 100)
    store = ca.BrotliStore(tmp_path, quality=1, compressor=compressor)
    store.request("a.js")  # the thread takes this one and waits at the gate
    store.request_all(["b.js", "c.css", "b.js", "missing.js"])
    gate.set()
    store.wait()
    assert sorted(sum(batches, [])) == ["a.js", "b.js", "c.css"] and len(batches) <= 2
    assert all(brotli.decompress(store.get(n)) == b"x" * 100 for n in ("a.js", "b.js", "c.css"))


def test_the_child_process_writes_the_same_bytes_as_compressing_here(tmp_path):
    """The server compresses in a child process, so the allocator's buffers go when it exits."""
    (tmp_path / "js").mkdir()
    for i in range(3):
        (tmp_path / "js" / f"f{i}.js").write_text(f"const v{i} = 1;\n" * 500)
    names = ["js/f0.js", "js/f1.js", "js/f2.js"]
    assert ca.compress_in_subprocess(tmp_path, names, 5) == ca.compress_files(tmp_path, names, 5)
    with pytest.raises(RuntimeError, match="No such file"):
        ca.compress_in_subprocess(tmp_path, ["js/missing.js"], 5)


@pytest.mark.parametrize("value, ok", [("br", True), ("gzip, br;q=0.5", True), ("BR", True), ("br;q=0", False),
                                       ("brotli", False), ("gzip", False), ("br;q=x", False)])
def test_accept_encoding_is_read_with_its_weights(value, ok):
    assert ca.accepts_brotli([(b"accept-encoding", value.encode())]) is ok


def test_warming_queues_every_asset_streamlits_index_page_loads(monkeypatch):
    queued: list[str] = []

    class Store:
        def request_all(self, names) -> None:
            queued.extend(names)
    monkeypatch.setattr(ca, "store", lambda: Store())
    assert ca.warm(["js/extra.js"]) == len(queued) > 10 and queued[-1] == "js/extra.js"
    assert any(n.startswith("js/index.") for n in queued) and any(n.endswith(".css") for n in queued)
    assert all((ca.static_root() / n).is_file() for n in queued[:-1])
