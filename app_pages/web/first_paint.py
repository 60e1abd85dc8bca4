"""The place profile's first paint, in the HTML itself.

Streamlit sends an empty page shell: nothing is on screen until its JavaScript has loaded, the
websocket is open and the script has run, about a second even on a fast connection. A reader who
followed a link to a place's profile should see which place it is at once, as on ONS Explore Local
Statistics, whose pages arrive rendered. So the shell for /profile?place=<code> is sent with the
place's heading and parent areas already in it, and with a page title and description naming the
place (what a shared link's preview shows). The block covers the shell while Streamlit starts and
hides itself, by CSS alone, as soon as Streamlit has drawn the page's own heading or a message, so
it needs no script of its own.

Nothing here computes a figure: the block says who the place is (indicators.views.place_facts),
and the profile's numbers arrive with the page.

The map's and the profile's shells also name, as module preloads, the script chunks their first
screen draws with (a select box, raw HTML, a download button...). Streamlit fetches a widget's
code only when the first message that uses it arrives, one wave after another; preloaded, the
chunks download beside Streamlit's main bundle instead. The chunks are named by their file name's
stem in the installed Streamlit (PAGE_CHUNKS); a name an upgrade has dropped is only a preload
lost, and tests/unit/test_first_paint.py says which.

Every page's shell (SHELL_PAGES) also tells Streamlit's front end where its server is. Opened at
/profile, the front end first asks /profile/_stcore/health, in case the app is served under that
path; the 404 makes it wait 100 ms before it asks the app's root, so every deep link started
that much later. BACKEND_JS sets Streamlit's own `window.__streamlit.BACKEND_BASE_URL` (its setting
for a front end served apart from its server) to the app's root, worked out from the script's own
URL, so the first question is the right one. It is a same-origin file, not an inline script, so
the hosted copy's Content-Security-Policy ('self') admits it, and `defer` runs it, in document
order, just before Streamlit's module script.
"""
from __future__ import annotations

import html
import logging
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs

from app_pages.web.respond import App, Receive, Scope, Send, send_body, under

log = logging.getLogger(__name__)


PROFILE_PATH = "profile"  # app.py's url_path for the place profile

# The chunks each page's first screen loads after Streamlit's own (found by recording a first visit).
_SELECTBOX = ("Selectbox", "useMenuTrigger", "Autocomplete", "useLoadMoreSentinel", "useCollator", "Input",
              "useSyncComboBoxEnterTargetFocus", "sortBy", "_baseMap", "useFormValidation", "useFormReset",
              "useTextField", "useField", "useFilter", "ErrorOutline.esm", "Cancel.esm", "WidgetLabel",
              "styled-components", "WidgetLabelHelpIcon", "useBasicWidgetState", "requiredField")
_DOWNLOAD = ("DownloadButton", "createDownloadLinkElement")
PAGE_CHUNKS: dict[str, tuple[str, ...]] = {
    PROFILE_PATH: _SELECTBOX + ("PageLink", "Html", "purify.es") + _DOWNLOAD,
    "map": _SELECTBOX + ("TextInput", "TextField", "InputInstructions", "inputUtils", "useDebouncedCallback",
                         "useUpdateUiValue", "Radio", "useSlot", "WidgetLabelHelpIconInline", "Button",
                         "rehype-raw", "hastscript", "web-namespaces") + _DOWNLOAD,
}
# Every page of app.py by url_path and title (tests/unit/test_first_paint.py checks them against app.py).
SHELL_PAGES = {"home": "Home", "map": "Map explorer", PROFILE_PATH: "Place profile", "compare": "Compare places",
               "good-growth": "Good growth", "plan": "Plan evaluation", "prevention": "Prevention value",
               "local-data": "Local data", "priorities": "What matters here?", "data": "Data & methods"}
BACKEND_PATH = "static/good-growth-backend.js"  # under Streamlit's static path, answered by the middleware
BACKEND_JS = b"""/* Good Growth: tell Streamlit's front end that its server is at the app's root (this file is
   <root>/static/good-growth-backend.js), so that on a deep link such as /profile it does not first
   try /profile/_stcore/health and wait 100 ms after the 404. A host that sets it itself wins. */
(function () {
  var settings = window.__streamlit || {};
  if (settings.BACKEND_BASE_URL || !document.currentScript) return;
  var root = new URL("..", document.currentScript.src).href;
  window.__streamlit = Object.assign({}, settings, {BACKEND_BASE_URL: root});
})();
"""
BACKEND_TAG = f'<script defer src="./{BACKEND_PATH}"></script>'
AREA_CODE = re.compile(r"^[A-Z][0-9]{8}$")
HIDE_AFTER_S = 20  # if Streamlit never draws (a lost connection), the shell's own messages show

# Streamlit's main column: the block disappears once it holds a heading or a message (every page
# starts with its title; a profile without a place shows a message). The animation
# is the fallback above; without JavaScript (noscript) the block stays, as it is then the page.
STYLE = f"""<style>
#gg-first-paint{{position:fixed;inset:0;z-index:1000000;overflow:auto;background:#fff;color:#31333f;
 font-family:"Source Sans",sans-serif;padding:3.5rem 1rem 2rem;animation:gg-first-paint-hide 0s {HIDE_AFTER_S}s forwards}}
#gg-first-paint .gg-fp-main{{max-width:46rem;margin:0 auto}}
@media (min-width:992px){{#gg-first-paint{{padding:6rem 5rem 2rem calc(300px + 5rem)}}
 #gg-first-paint .gg-fp-main{{max-width:none;margin:0}}}}
#gg-first-paint h1{{font-size:2.75rem;font-weight:700;line-height:1.2;margin:0;padding:1.25rem 0 1rem}}
#gg-first-paint h2{{font-size:2.25rem;font-weight:600;line-height:1.2;margin:0;padding:1rem 0}}
#gg-first-paint p{{font-size:.875rem;color:#555867;margin:0 0 1rem}}
@keyframes gg-first-paint-hide{{to{{visibility:hidden}}}}
body:has([data-testid="stMain"] :is(h1,h2,[role="alert"],[data-testid="stAlert"],[data-testid="stException"])) #gg-first-paint,
body:has([role="dialog"]) #gg-first-paint{{display:none}}
</style>"""
NOSCRIPT = ("<noscript><style>#gg-first-paint{animation:none}#gg-first-paint [role=status]{display:none}</style>"
            "<p>The place's indicators need JavaScript to show.</p></noscript>")


def _streamlit_index() -> str:
    from streamlit import file_util
    return (Path(file_util.get_static_dir()) / "index.html").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _shell() -> tuple[str, str]:
    """Streamlit's index.html split where the block goes, title removed and BACKEND_TAG first in its
    head (before Streamlit's module script, which a deferred script precedes in document order).
    The block comes after Streamlit's root element, so once the app has drawn, its own h1 is the
    page's first."""
    page = re.sub(r"<title>.*?</title>", "", _streamlit_index(), count=1, flags=re.S)
    page, found = re.subn(r"<head[^>]*>", lambda m: m.group(0) + BACKEND_TAG, page, count=1)
    if not found:
        raise RuntimeError("Streamlit's index.html has no <head> tag")
    head, sep, tail = page.partition("</body>")
    if not sep:
        raise RuntimeError("Streamlit's index.html has no </body> tag")
    return head, sep + tail


@lru_cache(maxsize=32)
def chunk_files(page: str) -> tuple[str, ...]:
    """The page's chunks that exist in this Streamlit and that its index.html does not already
    preload, as paths under Streamlit's static folder (js/<name>)."""
    from streamlit import file_util
    folder = Path(file_util.get_static_dir()) / "static" / "js"
    head, _ = _shell()
    found = []
    for stem in PAGE_CHUNKS.get(page, ()):
        pattern = re.compile(rf"^{re.escape(stem)}\.[A-Za-z0-9_-]{{8}}\.js$")
        for name in sorted(f.name for f in folder.glob(f"{stem}.*.js") if pattern.match(f.name)):
            if f"./static/js/{name}" not in head:
                found.append(f"js/{name}")
    return tuple(found)


def preloads(page: str) -> str:
    """Module preload links for chunk_files(page)."""
    return "".join(f'<link rel="modulepreload" crossorigin href="./static/{name}">' for name in chunk_files(page))


def _with_head(head: str, title: str, extra: str) -> str:
    return head.replace("</head>", f"<title>{html.escape(title)}</title>{extra}</head>", 1)


def page_shell(page: str) -> str:
    """A page's HTML shell: Streamlit's, titled and with the page's chunks (if any) preloaded."""
    head, tail = _shell()
    return _with_head(head, f"{SHELL_PAGES[page]} · Good Growth", preloads(page)) + tail


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
    meta = f'<meta name="description" content="{html.escape(description, quote=True)}">{STYLE}'
    head = _with_head(head, title, meta + preloads(PROFILE_PATH))
    first = (f'<div id="gg-first-paint"><main class="gg-fp-main" aria-busy="true">{block}{NOSCRIPT}'
             f'<p role="status">Loading the profile…</p></main></div>')
    return f"{head}{first}{tail}"


class FirstPaintMiddleware:
    """ASGI middleware: answers GET/HEAD for every page of the app but its root (the profile with
    profile_page, the others with page_shell) and for BACKEND_PATH; every other request, and any
    failure to build a shell, goes to Streamlit unchanged. The root needs no shell: opened there,
    Streamlit's front end asks the right path first."""

    def __init__(self, app: App, base_url_path: str = "") -> None:
        self.app = app
        self.pages = {under(base_url_path, page): page for page in SHELL_PAGES}
        self.backend_script = under(base_url_path, BACKEND_PATH)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else None
        if path is None or scope["method"] not in ("GET", "HEAD") or (
                path not in self.pages and path != self.backend_script):
            await self.app(scope, receive, send)
            return
        if path == self.backend_script:
            await send_body(scope, send, BACKEND_JS, [(b"content-type", b"text/javascript; charset=utf-8"),
                                                      (b"cache-control", b"public, max-age=3600")])
            return
        page_name = self.pages[path]
        try:
            query_string = scope.get("query_string", b"").decode("latin-1")
            page = (profile_page(query_string) if page_name == PROFILE_PATH else page_shell(page_name)).encode("utf-8")
        except Exception:  # noqa: BLE001 - the plain shell still works; the log keeps the detail
            log.exception("first paint not built for %s; serving Streamlit's shell", scope["path"])
            await self.app(scope, receive, send)
            return
        await send_body(scope, send, page, [(b"content-type", b"text/html; charset=utf-8"),
                                            (b"cache-control", b"no-cache")])

