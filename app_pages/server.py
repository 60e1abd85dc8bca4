"""Start the dashboard with its data already in memory.

    python -m app_pages.server [streamlit run options, e.g. --server.port 8501]

`streamlit run app.py` imports the engine and loads the snapshot on the first page view, so the
first visitor to a new server (a fresh replica, a restarted container) waits several seconds more
than everyone after. This command does that work first, in the process that then runs Streamlit:
the engine's caches are per process (indicators.query keeps one context per snapshot), so every
session finds them warm. The health endpoint answers only once the server listens, i.e. after the
warm-up, so a replica takes traffic only when it can serve a page at full speed.

A snapshot that cannot be loaded does not stop the server: the first page view meets the same
error and shows its banner (app_pages.common.pinned_context).
"""
from __future__ import annotations

import logging
import socket
import sys
import time
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "asgi.py"  # app.py behind the first paint
WARM_LEVEL = "ltla"  # the map explorer's and the profile's default level

log = logging.getLogger("good_growth.server")


def warm() -> float:
    """Import the page code and build what the first page view would: the query context, the
    default level's boundaries, one place's profile (which fills the per-indicator caches every
    profile reads: about 2 CPU-seconds the first visitor would otherwise wait for) and the smaller
    fonts (app_pages.web.fonts, built by a child process meanwhile); start compressing the static
    assets a first visit to the map or a profile loads (in the background: the server does not wait
    for it). Returns the seconds it took."""
    t0 = time.perf_counter()
    from app_pages.web import compressed_assets, first_paint, fonts
    fonts.start()
    compressed_assets.warm(name for page in first_paint.PAGE_CHUNKS for name in first_paint.chunk_files(page))
    import altair  # noqa: F401 - imported here so the first page view does not pay for it
    import pydeck  # noqa: F401

    from app_pages import common  # noqa: F401
    from indicators import geo, profile, query

    ctx = query.context()
    geo.boundaries(ctx, WARM_LEVEL)
    geo.borders(ctx, WARM_LEVEL)
    place = str(query.current_areas(ctx, WARM_LEVEL)["areacd"].iloc[0])
    profile.profile(ctx, place, WARM_LEVEL, profile.default_benchmark(place))
    fonts.warm()  # waits for the child; a failure there is logged and leaves Streamlit's fonts
    return time.perf_counter() - t0


def send_small_writes_at_once() -> None:
    """Turn Nagle's algorithm off on the server's connections (TCP_NODELAY).

    Streamlit's server binds its listening socket itself, as `socket.socket(family)`, so the socket's
    protocol number reads 0 and asyncio, which sets TCP_NODELAY only on sockets that say they are
    TCP, leaves every accepted connection with Nagle on. The server writes a response's headers and
    body separately; the body then waits for the browser's delayed acknowledgement of the headers,
    about 40 ms on Linux, on every response. A first visit makes about a hundred requests over six
    connections, so the page waited most of a second for nothing. Connections accepted from a
    listening socket inherit TCP_NODELAY, so it is set there."""
    from streamlit.web.server.starlette import starlette_server

    bind = starlette_server._bind_socket
    if getattr(bind, "sets_nodelay", False):
        return

    def bind_without_nagle(address: str, port: int, backlog: int) -> socket.socket:
        sock = bind(address, port, backlog)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    bind_without_nagle.sets_nodelay = True  # type: ignore[attr-defined]
    starlette_server._bind_socket = bind_without_nagle


def keep_compiled_scripts() -> None:
    """Keep app.py and the pages compiled when the last visitor leaves, unless a file watcher is on.

    Streamlit empties its cache of compiled scripts whenever no session is left, so that without a
    file watcher an edited script is picked up on the next visit. A deployed dashboard never edits
    its scripts, and every full page load closes the visitor's old session first: a lone visitor
    paid for reading and compiling app.py and the page again on each page (about a fifth of the
    server's CPU for a page whose data is cached). Developers who want edits picked up run with
    `--server.fileWatcherType auto` (or `runOnSave`), and then the cache is emptied as before."""
    from streamlit import config
    from streamlit.runtime.scriptrunner import script_cache

    clear = script_cache.ScriptCache.clear
    if getattr(clear, "keeps_when_unwatched", False):
        return

    def clear_only_when_watched(self: script_cache.ScriptCache) -> None:
        if config.get_option("server.fileWatcherType") == "none" and not config.get_option("server.runOnSave"):
            return
        clear(self)

    clear_only_when_watched.keeps_when_unwatched = True  # type: ignore[attr-defined]
    script_cache.ScriptCache.clear = clear_only_when_watched  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        log.info("data loaded in %.1f s; starting the server", warm())
    except Exception as exc:  # noqa: BLE001 - any failure is shown by the first page view instead
        log.warning("data not preloaded (%s: %s); the first page view will report it", type(exc).__name__, exc)
    send_small_writes_at_once()
    keep_compiled_scripts()
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", "run", str(APP), *args]
    streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    main()
