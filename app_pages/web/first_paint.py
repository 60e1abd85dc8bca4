"""The place profile's first paint, in the HTML itself.

Streamlit sends an empty page shell: nothing is on screen until its JavaScript has loaded, the
websocket is open and the script has run, about a second even on a fast connection. A reader who
followed a link to a place's profile should see which place it is at once, as on ONS Explore Local
Statistics, whose pages arrive rendered. So the shell for /profile?place=<code> is sent with the
place's heading and parent areas already in it, and with a page title and description naming the
place (what a shared link's preview shows). The block covers the shell while Streamlit starts and
hides itself, by CSS alone, as soon as Streamlit has drawn the page's own heading or a message, so
no script is added (the hosted copy's Content-Security-Policy allows only Streamlit's own).

Nothing here computes a figure: the block says who the place is (indicators.views.place_facts),
and the profile's numbers arrive with the page.
"""
from __future__ import annotations

import html
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]

PROFILE_PATH = "profile"  # app.py's url_path for the place profile
AREA_CODE = re.compile(r"^[A-Z][0-9]{8}$")
HIDE_AFTER_S = 20  # if Streamlit never draws (a lost connection), the shell's own messages show

# Streamlit's main column: the block disappears once it holds a heading or a message. The animation
# is the fallback above; without JavaScript (noscript) the block stays, as it is then the page.
STYLE = f"""<style>
#gg-first-paint{{position:fixed;inset:0;z-index:1000000;overflow:auto;background:#fff;color:#31333f;
 font-family:"Source Sans",sans-serif;padding:3.5rem 1rem 2rem;animation:gg-first-paint-hide 0s {HIDE_AFTER_S}s forwards}}
#gg-first-paint .gg-fp-main{{max-width:46rem;margin:0 auto}}
@media (min-width:992px){{#gg-first-paint{{padding:6rem 5rem 2rem calc(300px + 5rem)}}
 #gg-first-paint .gg-fp-main{{max-width:none;margin:0}}}}
#gg-first-paint h1{{font-size:2.75rem;font-weight:700;line-height:1.2;margin:0;padding:1.25rem 0 1rem}}
#gg-first-paint h2{{font-size:2.25rem;font-weight:600;line-height:1.2;margin:0;padding:1rem 0}}
#gg-first-paint p{{font-size:.875rem;color:rgba(49,51,63,.6);margin:0 0 1rem}}
@keyframes gg-first-paint-hide{{to{{visibility:hidden}}}}
body:has([data-testid="stMain"] :is(h2,[role="alert"],[data-testid="stException"])) #gg-first-paint,
body:has([role="dialog"]) #gg-first-paint{{display:none}}
</style>"""
NOSCRIPT = ("<noscript><style>#gg-first-paint{animation:none}#gg-first-paint [role=status]{display:none}</style>"
            "<p>The place's indicators need JavaScript to show.</p></noscript>")


def _streamlit_index() -> str:
    from streamlit import file_util
    return (Path(file_util.get_static_dir()) / "index.html").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _shell() -> tuple[str, str]:
    """Streamlit's index.html split where the block goes, title removed. The block comes after
    Streamlit's root element, so once the app has drawn, its own h1 is the page's first."""
    page = re.sub(r"<title>.*?</title>", "", _streamlit_index(), count=1, flags=re.S)
    head, sep, tail = page.partition("</body>")
    if not sep:
        raise RuntimeError("Streamlit's index.html has no </body> tag")
    return head, sep + tail


@lru_cache(maxsize=2048)
def _place(snapshot_key: str, areacd: str) -> tuple[str, str, tuple[str, ...]] | None:
    """(name, parents line, notices) of a current place, or None for a code the snapshot lacks."""
    from indicators import query, views
    from indicators.errors import UnknownAreaError
    try:
        facts = views.place_facts(query.context(), areacd)
    except UnknownAreaError:
        return None
    parents = " · ".join(f"{k}: {v}" for k, v in facts["parents"].items())
    return facts["areanm"], parents, tuple(facts["notices"])


def _snapshot_key() -> str:
    from indicators import query
    return str(query.context().snapshot.manifest["created_at"])


def profile_page(query_string: str) -> str:
    """The profile's HTML shell for this query string, with its first paint."""
    head, tail = _shell()
    params = parse_qs(query_string, max_num_fields=20)
    code = (params.get("place") or [""])[0].strip().upper()
    place = _place(_snapshot_key(), code) if AREA_CODE.match(code) else None
    if place is None:
        title, description = "Place profile · Good Growth", "Every indicator for one place, with its confidence interval and comparison."
        block = "<h1>Place profile</h1>"
    else:
        name, parents, notices = place
        title = f"{name} ({code}) · Place profile · Good Growth"
        description = (f"{name}: public-service outcomes and economic indicators, each with its confidence "
                       "interval and comparison with a benchmark.")
        block = (f"<h1>Place profile</h1><h2>{html.escape(name)} ({code})</h2>"
                 + (f"<p>{html.escape(parents)}</p>" if parents else "")
                 + "".join(f"<p>{html.escape(n)}</p>" for n in notices))
    meta = (f"<title>{html.escape(title)}</title>"
            f'<meta name="description" content="{html.escape(description, quote=True)}">{STYLE}')
    head = head.replace("</head>", meta + "</head>", 1)
    first = (f'<div id="gg-first-paint"><main class="gg-fp-main" aria-busy="true">{block}{NOSCRIPT}'
             f'<p role="status">Loading the profile…</p></main></div>')
    return f"{head}{first}{tail}"


class FirstPaintMiddleware:
    """ASGI middleware: answers GET/HEAD for the profile page with the shell from profile_page;
    every other request, and any failure to build it, goes to Streamlit unchanged."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], base_url_path: str = "") -> None:
        self.app = app
        base = base_url_path.strip("/")
        self.path = f"/{base}/{PROFILE_PATH}" if base else f"/{PROFILE_PATH}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        try:
            page = profile_page(scope.get("query_string", b"").decode("latin-1")).encode("utf-8")
        except Exception:  # noqa: BLE001 - the plain shell still works; the log keeps the detail
            log.exception("first paint not built for %s; serving Streamlit's shell", scope["path"])
            await self.app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(page)).encode()),
            (b"cache-control", b"no-cache")]})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else page})
