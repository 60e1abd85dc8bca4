"""app_pages.server: the data is loaded before Streamlit starts, and a broken snapshot does not stop it."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from app_pages import server


@pytest.fixture
def fake_streamlit(monkeypatch):
    """Record what Streamlit's command line would have been asked to run, instead of serving."""
    calls: list[list[str]] = []
    import streamlit.web.cli as cli
    monkeypatch.setattr(cli, "main", lambda prog_name=None: calls.append(list(sys.argv)))
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    return calls


def test_the_server_runs_the_asgi_app_with_the_options_given(fake_streamlit, monkeypatch):
    monkeypatch.setattr(server, "warm", lambda: 0.1)
    server.main(["--server.port", "8599"])
    assert fake_streamlit == [["streamlit", "run", str(server.APP), "--server.port", "8599"]]
    assert server.APP.name == "asgi.py" and server.APP.exists()


def test_streamlit_finds_app_py_behind_the_first_paint_in_asgi_py():
    """`streamlit run asgi.py` serves the st.App it finds there, whose script is app.py."""
    from streamlit.web.server.app_discovery import discover_asgi_app
    found = discover_asgi_app(server.APP)
    assert found.is_asgi_app and found.app_name == "app"
    source = server.APP.read_text(encoding="utf-8")
    assert '"app.py"' in source and "FirstPaintMiddleware" in source


def test_warming_fills_the_engine_cache_the_pages_read():
    from app_pages.web import fonts
    from indicators import query
    server.warm()
    assert fonts.SUBSETS.get(next(iter(fonts.warm()))) is not None  # the smaller fonts are ready too
    before = query._context.cache_info().hits
    query.context()
    assert query._context.cache_info().hits == before + 1


def test_a_snapshot_that_cannot_load_still_starts_the_server(fake_streamlit, monkeypatch, caplog):
    def broken() -> float:
        raise OSError("snapshot missing")
    monkeypatch.setattr(server, "warm", broken)
    with caplog.at_level(logging.WARNING, logger="good_growth.server"):
        server.main([])
    assert len(fake_streamlit) == 1
    assert "snapshot missing" in caplog.text


def test_connections_send_small_writes_at_once(monkeypatch):
    """Streamlit binds its own listening socket with protocol 0, so asyncio never sets TCP_NODELAY on
    the connections: each response's body then waits ~40 ms for the browser's delayed ACK of its
    headers. The server sets it on the listening socket, and accepted connections inherit it."""
    import socket

    from streamlit.web.server.starlette import starlette_server
    monkeypatch.setattr(starlette_server, "_bind_socket", starlette_server._bind_socket)  # restored after
    server.send_small_writes_at_once()
    server.send_small_writes_at_once()  # a second call does not wrap it twice
    assert starlette_server._bind_socket.sets_nodelay
    listening = starlette_server._bind_socket("127.0.0.1", 0, 8)
    try:
        listening.setblocking(True)
        client = socket.create_connection(listening.getsockname()[:2])
        accepted, _ = listening.accept()
        assert listening.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        accepted.close()
        client.close()
    finally:
        listening.close()


def test_main_turns_nagle_off_before_streamlit_starts(fake_streamlit, monkeypatch):
    from streamlit.web.server.starlette import starlette_server
    monkeypatch.setattr(starlette_server, "_bind_socket", starlette_server._bind_socket)
    monkeypatch.setattr(server, "warm", lambda: 0.1)
    server.main([])
    assert starlette_server._bind_socket.sets_nodelay


@pytest.mark.parametrize("watcher, run_on_save, kept", [("none", False, True), ("auto", False, False),
                                                        ("poll", False, False), ("none", True, False)])
def test_compiled_scripts_stay_when_the_last_visitor_leaves_unless_files_are_watched(monkeypatch, watcher,
                                                                                       run_on_save, kept):
    """Every full page load ends the visitor's old session first; with no session left Streamlit
    empties its compiled scripts, so a lone visitor paid for compiling app.py and the page each time."""
    from streamlit import config
    from streamlit.runtime.scriptrunner import script_cache
    monkeypatch.setattr(script_cache.ScriptCache, "clear", script_cache.ScriptCache.clear)  # restored after
    server.keep_compiled_scripts()
    server.keep_compiled_scripts()  # a second call does not wrap it twice
    assert script_cache.ScriptCache.clear.keeps_when_unwatched
    from streamlit.testing.v1.util import patch_config_options
    with patch_config_options({"server.fileWatcherType": watcher, "server.runOnSave": run_on_save}):
        assert config.get_option("server.fileWatcherType") == watcher
        cache = script_cache.ScriptCache()
        page = str(Path(server.__file__).resolve().parent.parent / "app.py")
        compiled = cache.get_bytecode(page)
        cache.clear()
        assert (cache.get_bytecode(page) is compiled) == kept


def test_main_keeps_compiled_scripts_before_streamlit_starts(fake_streamlit, monkeypatch):
    from streamlit.runtime.scriptrunner import script_cache
    monkeypatch.setattr(script_cache.ScriptCache, "clear", script_cache.ScriptCache.clear)
    monkeypatch.setattr(server, "warm", lambda: 0.1)
    server.main([])
    assert script_cache.ScriptCache.clear.keeps_when_unwatched
