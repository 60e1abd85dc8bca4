"""Smaller copies of the two fonts Streamlit's front end loads on every page.

Streamlit ships the whole Material Symbols icon font (about 3,800 icons, 375 kB) and Source Sans
with Latin, Greek, Cyrillic and Vietnamese (170 kB upright, 138 kB italic). Fonts do not compress,
so on a first visit these were more than a third of the bytes on the wire. A page of this dashboard
shows a few dozen icons and English text, so each font is cut down (fontTools.subset) to what can
appear, and served under Streamlit's own URL for it:

- Material Symbols draws an icon from its name: the text "home" is replaced by the home glyph by a
  ligature (GSUB). The copy keeps the ligatures of every icon name this code uses
  (`:material/<name>:` in app.py and app_pages/) and of every name Streamlit's own
  front end and Python code can ask for (every `:material/<name>:` and every quoted string in the
  installed bundles that is an icon name, a deliberate over-inclusion), plus the letters, so a
  name that is no icon still reads as its letters, as with the full font.
- Source Sans keeps the weight axis (every weight still works) and the characters in SOURCE_SANS_TEXT
  plus every character of the UI's own text files; a browser draws any other character from its
  next font, character by character, so nothing can go missing. It keeps the default OpenType
  features and the numeric ones CSS can switch on (font-variant-numeric, font-variant-position);
  Streamlit's CSS and ours ask for no others.

Glyph outlines, metrics and variations are the original's, and a browser draws the same pixels
(tests/browser/test_fonts_browser.py compares them glyph by glyph), save that FreeType's autohinter
(Chromium on Linux), which chooses a glyph's hinting by the scripts the font covers, sets the
f-ligatures (ff, ft, fft) and ª º µ ∆ up to a pixel row apart in their anti-aliasing.

Caching: Streamlit serves its hashed files as immutable for a year, but the copy's content depends on
this code's icon list as well as on the Streamlit version in the URL, so a copy is sent with
`no-cache` and a strong ETag of its bytes: a returning browser revalidates (a 304 without a body)
and never keeps an old copy once the icon list has changed.

The copies are built once per process, in a child process (fontTools would leave the server some
70 MB larger): at server start (app_pages.server builds them alongside the data and listens once
both are ready) or, if the app was started otherwise, on the first font
request, in a background thread while Streamlit answers with the originals. If
building fails the original is served, with one log line.
"""
from __future__ import annotations

import hashlib
import io
import logging
import re
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from app_pages.web.respond import App, Receive, Scope, Send, send_body, under

log = logging.getLogger(__name__)


ROOT = Path(__file__).resolve().parents[2]
MEDIA = "static/media"  # inside Streamlit's static folder, and in its URLs
ICON_FONT = re.compile(r"MaterialSymbols-Rounded\.[A-Za-z0-9_-]+\.woff2")
TEXT_FONT = re.compile(r"SourceSansVF-(?:Upright|Italic)\.ttf\.[A-Za-z0-9_-]+\.woff2")

ICON_REF = re.compile(r":material/([a-z0-9_]+):")
QUOTED = re.compile(r"""[`"']([a-z0-9_]+)[`"']""")
# Where this dashboard's icon names and its interface text live (the pages, the catalogue's labels).
OUR_CODE = ("app.py", "app_pages/**/*.py")
OUR_TEXT = (*OUR_CODE, "indicators/**/*.yaml", "data_sources/**/*.yaml")

# Latin (Basic, Latin-1 Supplement, Extended-A: every UK place name, Welsh included), general
# punctuation (– — ‘ ’ “ ” … • ‰ ′ ″), super- and subscripts, € £ ×, arrows and the maths the pages
# print. Characters of our own text files are added to these at build time.
SOURCE_SANS_TEXT = "".join(chr(c) for c in (
    *range(0x20, 0x7F), *range(0xA0, 0x180), *range(0x2010, 0x2028), *range(0x2030, 0x203B),
    *range(0x2070, 0x20A0), 0x20AC, 0x2122, *range(0x2190, 0x2196), 0x2206, 0x2212, 0x2215, 0x221A, 0x221E,
    0x2248, 0x2260, 0x2264, 0x2265, 0x25B2, 0x25BC, 0x25CF))
# OpenType features CSS can turn on (font-variant-numeric / -position), kept on top of fontTools' defaults.
TEXT_FEATURES = ("tnum", "lnum", "pnum", "onum", "zero", "ordn", "sups", "subs", "sinf")


@dataclass(frozen=True)
class Subset:
    """One font's smaller copy, ready to send."""
    body: bytes
    etag: str
    original_size: int


def static_dir() -> Path:
    from streamlit import file_util
    return Path(file_util.get_static_dir())


def _read(paths: Iterable[Path]) -> Iterable[str]:
    for p in paths:
        yield p.read_text(encoding="utf-8", errors="replace")


def our_files(patterns: Iterable[str] = OUR_CODE, root: Path = ROOT) -> list[Path]:
    return sorted({p for pattern in patterns for p in root.glob(pattern) if p.is_file()})


def our_icon_names(root: Path = ROOT) -> set[str]:
    """Every `:material/<name>:` in this dashboard's code."""
    return {n for text in _read(our_files(OUR_CODE, root)) for n in ICON_REF.findall(text)}


def streamlit_icon_names() -> set[str]:
    """Every icon name Streamlit can draw by itself: `:material/<name>:` and quoted icon names in the
    installed front-end bundles, and `:material/<name>:` in its Python code (status icons ...)."""
    import streamlit
    from streamlit.material_icon_names import ALL_MATERIAL_ICONS

    names: set[str] = set()
    for text in _read((static_dir() / "static" / "js").glob("*.js")):
        names.update(ICON_REF.findall(text))
        names.update(n for n in QUOTED.findall(text) if n in ALL_MATERIAL_ICONS)
    for text in _read(Path(streamlit.__file__).parent.rglob("*.py")):
        names.update(ICON_REF.findall(text))
    return names


def icon_names() -> set[str]:
    return our_icon_names() | streamlit_icon_names()


def ui_text(root: Path = ROOT) -> str:
    """The characters Source Sans keeps: SOURCE_SANS_TEXT and every character of our UI's files."""
    chars = set(SOURCE_SANS_TEXT)
    for text in _read(our_files(OUR_TEXT, root)):
        chars.update(ch for ch in text if ch.isprintable())
    return "".join(sorted(chars))


def ligatures(font: Any) -> dict[tuple[str, ...], str]:
    """(component glyph names, in order) → ligature glyph, for the font's GSUB ligatures, first wins
    as in shaping."""
    out: dict[tuple[str, ...], str] = {}
    for lookup in font["GSUB"].table.LookupList.Lookup:
        for table in lookup.SubTable:
            table = getattr(table, "ExtSubTable", table)
            if type(table).__name__ != "LigatureSubst":
                continue
            for first, ligs in table.ligatures.items():
                for lig in ligs:
                    out.setdefault((first, *lig.Component), lig.LigGlyph)
    return out


def icon_glyphs(font: Any, names: Iterable[str]) -> dict[str, str]:
    """Icon name → its ligature glyph, for the names the font draws (others are skipped)."""
    cmap, ligs = font.getBestCmap(), ligatures(font)
    out = {}
    for name in names:
        seq = tuple(cmap.get(ord(ch)) for ch in name)
        if None not in seq and seq in ligs:
            out[name] = ligs[seq]
    return out


def _subset(font: Any, *, unicodes: Iterable[int] = (), glyphs: Iterable[str] = (), closure: bool = True,
            features: Iterable[str] = ()) -> bytes:
    from fontTools import subset
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # at INFO it lists every glyph, slowly
    opts = subset.Options()
    opts.flavor = "woff2"
    opts.layout_features = [*opts.layout_features, *features]
    opts.layout_closure = closure  # False: only the glyphs asked for, so only their ligatures survive
    opts.name_IDs, opts.name_languages = ["*"], ["*"]  # the names carry the licence and copyright
    opts.notdef_outline = True
    opts.glyph_names = False
    subsetter = subset.Subsetter(opts)
    subsetter.populate(unicodes=unicodes, glyphs=glyphs)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def icon_subset(original: bytes, names: Iterable[str]) -> bytes:
    """Material Symbols with only the ligatures of `names`, and the letters they are spelt with."""
    from fontTools.ttLib import TTFont
    font = TTFont(io.BytesIO(original), recalcTimestamp=False)  # same bytes every build: a stable ETag
    glyphs = set(icon_glyphs(font, names).values())
    cmap = font.getBestCmap()
    # the letters of every name (and space), and the private-use code points of the kept icons
    unicodes = [u for u, g in cmap.items() if u < 0x80 or g in glyphs]
    return _subset(font, unicodes=unicodes, glyphs=sorted(glyphs), closure=False)


def text_subset(original: bytes, text: str) -> bytes:
    """Source Sans (variable weight axis kept) for the characters of `text`."""
    from fontTools.ttLib import TTFont
    font = TTFont(io.BytesIO(original), recalcTimestamp=False)  # same bytes every build: a stable ETag
    return _subset(font, unicodes=sorted({ord(c) for c in text}), features=TEXT_FEATURES)


def _subset_of(body: bytes, original: Path) -> Subset:
    return Subset(body, f'"gg-{hashlib.sha256(body).hexdigest()[:32]}"', original.stat().st_size)


def build(static: Path | None = None) -> dict[str, Subset]:
    """File name → its smaller copy, for every Material Symbols and Source Sans woff2 Streamlit ships."""
    media = (static or static_dir()) / MEDIA
    names, text = None, None
    out: dict[str, Subset] = {}
    for path in sorted(media.glob("*.woff2")):
        if ICON_FONT.fullmatch(path.name):
            names = icon_names() if names is None else names
            body = icon_subset(path.read_bytes(), names)
        elif TEXT_FONT.fullmatch(path.name):
            text = ui_text() if text is None else text
            body = text_subset(path.read_bytes(), text)
        else:
            continue
        out[path.name] = _subset_of(body, path)
    if not out:
        raise FileNotFoundError(f"no Material Symbols or Source Sans woff2 in {media}")
    return out


def build_in_subprocess(timeout_s: float = 300) -> dict[str, Subset]:
    """`build` in a child process (`python -m app_pages.web.fonts DIR`). Why: fontTools and the
    bundles it reads leave the server process some 70 MB larger for good, and a child runs on
    another core while the server loads its data."""
    from app_pages.web.child_process import run_module
    media = static_dir() / MEDIA
    out = run_module(__name__, [], lambda folder: {p.name: _subset_of(p.read_bytes(), media / p.name)
                                                   for p in folder.glob("*.woff2")}, timeout_s)
    if not out:
        raise RuntimeError("the font subsetter wrote no fonts")
    return out


class Subsets:
    """The process's font copies: built once, on demand or at start; None until ready or if building failed."""

    def __init__(self, builder: Callable[[], dict[str, Subset]] = build_in_subprocess) -> None:
        self._builder = builder
        self._build_lock = threading.Lock()  # held while building: one build per process
        self._start_lock = threading.Lock()  # held only to claim the background start, never while building
        self._fonts: dict[str, Subset] | None = None
        self._started = False

    def warm(self) -> dict[str, Subset]:
        """Build now (once; later calls return at once) and return what was built ({} on failure)."""
        with self._start_lock:
            self._started = True
        with self._build_lock:
            if self._fonts is None:
                try:
                    fonts = self._builder()
                    log.info("fonts subset: %s", ", ".join(
                        f"{k} {v.original_size // 1000} kB → {len(v.body) // 1000} kB" for k, v in fonts.items()))
                except Exception as exc:  # noqa: BLE001 - Streamlit's own fonts still work
                    log.warning("fonts not subset (%s: %s); serving Streamlit's originals", type(exc).__name__, exc)
                    fonts = {}
                self._fonts = fonts
            return self._fonts

    def start(self) -> None:
        """Build in a background thread, unless a build has already started."""
        with self._start_lock:
            start, self._started = not self._started, True
        if start:
            threading.Thread(target=self.warm, name="font-subsets", daemon=True).start()

    def get(self, name: str) -> Subset | None:
        """The copy of this file if it is ready; never waits (it runs on the server's event loop), and
        starts a build in the background if none has started."""
        fonts = self._fonts
        if fonts is None:
            self.start()
            return None
        return fonts.get(name)


SUBSETS = Subsets()


def start() -> None:
    """Start building this process's font copies in the background (app_pages.server, at warm-up)."""
    SUBSETS.start()


def warm() -> dict[str, Subset]:
    """This process's font copies, built now or waited for if a build is under way."""
    return SUBSETS.warm()


class FontSubsetMiddleware:
    """ASGI middleware: answers GET/HEAD for Streamlit's Material Symbols and Source Sans woff2 files
    with their smaller copies; every other request, and those fonts until their copies are ready
    (or if building them failed), go to Streamlit unchanged."""

    def __init__(self, app: App, base_url_path: str = "", subsets: Subsets | None = None) -> None:
        self.app = app
        self.prefix = under(base_url_path, f"{MEDIA}/")
        self.subsets = subsets or SUBSETS

    def _subset_for(self, scope: Scope) -> Subset | None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return None
        path: str = scope["path"]
        if not path.startswith(self.prefix):
            return None
        name = path[len(self.prefix):]
        if not (ICON_FONT.fullmatch(name) or TEXT_FONT.fullmatch(name)):
            return None
        return self.subsets.get(name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        font = self._subset_for(scope)
        if font is None:
            await self.app(scope, receive, send)
            return
        headers = [(b"content-type", b"font/woff2"), (b"cache-control", b"no-cache"),
                   (b"etag", font.etag.encode())]
        if _etag_matches(scope, font.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send_body(scope, send, font.body, headers)


def _etag_matches(scope: Scope, etag: str) -> bool:
    """Whether If-None-Match names this ETag (weak or strong) or is '*'."""
    for key, value in scope.get("headers", []):
        if key.lower() == b"if-none-match":
            tags = {t.strip().removeprefix("W/") for t in value.decode("latin-1").split(",")}
            return "*" in tags or etag in tags
    return False


def main(argv: list[str] | None = None) -> None:
    """Write the smaller copies into the folder given (build_in_subprocess runs this)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m app_pages.web.fonts OUTPUT_FOLDER")
    for name, font in build().items():
        (Path(args[0]) / name).write_bytes(font.body)


if __name__ == "__main__":
    main()
