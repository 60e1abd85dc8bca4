"""Smaller copies of Streamlit's icon and text fonts: every icon that can appear still draws as its
glyph, every character of the interface is still there, and the middleware serves the copies only
for those two fonts, falling back to Streamlit's originals whenever it cannot."""
from __future__ import annotations

import io
import logging
import subprocess
import threading
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from app_pages.web import fonts
from tests.support.asgi_call import Answer, request, streamlit_stand_in

MEDIA = fonts.static_dir() / fonts.MEDIA


def _one(pattern: str) -> Path:
    found = sorted(MEDIA.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in Streamlit's static files, found {found}"
    return found[0]


ICON_FILE = _one("MaterialSymbols-Rounded.*.woff2")
UPRIGHT_FILE = _one("SourceSansVF-Upright.ttf.*.woff2")
ITALIC_FILE = _one("SourceSansVF-Italic.ttf.*.woff2")


@pytest.fixture(scope="module")
def built() -> dict[str, fonts.Subset]:
    return fonts.build()


@pytest.fixture(scope="module")
def icon_fonts(built) -> tuple[TTFont, TTFont]:
    return TTFont(ICON_FILE), TTFont(io.BytesIO(built[ICON_FILE.name].body))


def shape(font: TTFont, text: str) -> list[str]:
    """The glyphs the ligature lookups make of `text`, applied as a shaper does: at each position the
    first subtable covering the glyph, and in it the first ligature whose components follow."""
    cmap = font.getBestCmap()
    glyphs = [cmap.get(ord(ch), ".notdef") for ch in text]
    tables = [getattr(t, "ExtSubTable", t) for lookup in font["GSUB"].table.LookupList.Lookup
              for t in lookup.SubTable]
    for table in (t for t in tables if type(t).__name__ == "LigatureSubst"):
        out, i = [], 0
        while i < len(glyphs):
            for lig in table.ligatures.get(glyphs[i], []):
                n = len(lig.Component)
                if glyphs[i + 1:i + 1 + n] == lig.Component:
                    out.append(lig.LigGlyph)
                    i += n + 1
                    break
            else:
                out.append(glyphs[i])
                i += 1
        glyphs = out
    return glyphs


def outline(font: TTFont, glyph: str) -> tuple:
    g = font["glyf"][glyph]
    g.expand(font["glyf"])
    if g.numberOfContours == 0:
        return ()
    coords, ends, _flags = g.getCoordinates(font["glyf"])
    return tuple(coords), tuple(ends)


def test_the_pages_use_only_icons_the_font_draws():
    """A typo in a `:material/...:` name would show the name in letters, with or without the copy."""
    full = TTFont(ICON_FILE)
    ours = fonts.our_icon_names()
    assert {"home", "map", "location_on", "search"} <= ours
    assert sorted(n for n in ours if len(shape(full, n)) != 1) == []


def test_streamlits_own_icons_are_found_in_its_bundles():
    names = fonts.streamlit_icon_names()
    # the sidebar's collapse/expand buttons, expanders, status and alert icons, the file uploader
    assert {"keyboard_double_arrow_left", "keyboard_double_arrow_right", "expand_more", "expand_less",
            "check", "error", "check_circle", "info", "upload", "close", "visibility", "content_copy"} <= names


def test_every_icon_that_can_appear_draws_as_the_same_single_glyph(icon_fonts):
    full, small = icon_fonts
    names = fonts.icon_names()
    drawn = [n for n in names if len(shape(full, n)) == 1]
    assert len(drawn) > 400 and fonts.our_icon_names() <= set(drawn)
    wrong = []
    for name in drawn:
        glyphs = shape(small, name)
        if len(glyphs) != 1 or not outline(small, glyphs[0]) \
                or outline(small, glyphs[0]) != outline(full, shape(full, name)[0]):
            wrong.append((name, glyphs))
    assert wrong == []


def test_icons_nobody_uses_are_gone(icon_fonts):
    full, small = icon_fonts
    for unused in ("rocket_launch", "pets", "sailing_boat"):
        assert unused not in fonts.icon_names()
    assert len(shape(full, "rocket_launch")) == 1 and len(shape(small, "rocket_launch")) > 1
    assert len(shape(full, "pets")) == 1
    assert shape(small, "pets") == [small.getBestCmap()[ord(c)] for c in "pets"]  # its letters, as for any non-icon
    assert small["maxp"].numGlyphs < full["maxp"].numGlyphs / 5


def test_the_icon_copy_keeps_the_fonts_metrics(icon_fonts):
    full, small = icon_fonts
    for table, attrs in {"head": ("unitsPerEm",), "hhea": ("ascent", "descent", "lineGap"),
                         "OS/2": ("sTypoAscender", "sTypoDescender", "usWinAscent", "usWinDescent")}.items():
        for a in attrs:
            assert getattr(small[table], a) == getattr(full[table], a), (table, a)
    glyph = shape(small, "home")[0]
    assert small["hmtx"][glyph] == full["hmtx"][shape(full, "home")[0]]


def test_the_copies_are_much_smaller(built):
    sizes = {name: (s.original_size, len(s.body)) for name, s in built.items()}
    assert set(sizes) == {ICON_FILE.name, UPRIGHT_FILE.name, ITALIC_FILE.name}
    assert sizes[ICON_FILE.name][1] < sizes[ICON_FILE.name][0] / 4
    for name in (UPRIGHT_FILE.name, ITALIC_FILE.name):
        assert sizes[name][1] < sizes[name][0] / 2
    for s in built.values():
        assert s.body[:4] == b"wOF2"


@pytest.mark.parametrize("path", [UPRIGHT_FILE, ITALIC_FILE], ids=["upright", "italic"])
def test_source_sans_keeps_every_interface_character_the_axis_and_the_metrics(built, path):
    full, small = TTFont(path), TTFont(io.BytesIO(built[path.name].body))
    full_cmap, small_cmap = full.getBestCmap(), small.getBestCmap()
    wanted = {ord(c) for c in fonts.ui_text()} & set(full_cmap)
    assert wanted - set(small_cmap) == set()
    for ch in "£€–—‘’“”…•←→↑↓×≤≥±−·":
        assert ord(ch) in small_cmap, ch
    assert [(a.axisTag, a.minValue, a.maxValue) for a in small["fvar"].axes] == \
        [(a.axisTag, a.minValue, a.maxValue) for a in full["fvar"].axes]
    assert {"gvar", "HVAR", "GPOS", "GSUB"} <= set(small.keys())
    for u in wanted:
        assert small["hmtx"][small_cmap[u]] == full["hmtx"][full_cmap[u]]
    assert outline(small, small_cmap[ord("g")]) == outline(full, full_cmap[ord("g")])
    assert ord("Ж") not in small_cmap  # Cyrillic is left to the browser's next font


def test_interface_text_includes_the_pages_own_symbols(tmp_path):
    (tmp_path / "app_pages").mkdir()
    (tmp_path / "app.py").write_text('st.write("Δ ≈ ⚠")', encoding="utf-8")
    (tmp_path / "app_pages" / "p.py").write_text('st.title(":material/savings: Ŵ")', encoding="utf-8")
    text = fonts.ui_text(tmp_path)
    assert {"Δ", "≈", "⚠", "Ŵ", "£"} <= set(text)
    assert fonts.our_icon_names(tmp_path) == {"savings"}


def test_a_different_icon_list_makes_a_different_etag():
    original = ICON_FILE.read_bytes()
    a, b = fonts.icon_subset(original, {"home"}), fonts.icon_subset(original, {"home", "map"})
    assert a != b and len(a) < len(b)
    # the same list gives the same bytes (so the same ETag) in every process and on every replica
    assert fonts.icon_subset(original, {"home"}) == a


# ------------------------------------------------------------------ the middleware


FAKE = fonts.Subset(b"wOF2 small icons", '"gg-abc"', 375_000)


def ready(fonts_by_name: dict[str, fonts.Subset]) -> fonts.Subsets:
    subsets = fonts.Subsets(lambda: fonts_by_name)
    subsets.warm()
    return subsets


def _request(path: str, subsets: fonts.Subsets, method: str = "GET", base_url_path: str = "",
             headers: list[tuple[bytes, bytes]] | None = None) -> Answer:
    middleware = fonts.FontSubsetMiddleware(streamlit_stand_in, base_url_path=base_url_path, subsets=subsets)
    return request(middleware, path, method, {k.decode(): v.decode() for k, v in headers or []})


def test_the_middleware_serves_the_copy_with_the_headers_a_browser_needs():
    subsets = ready({"MaterialSymbols-Rounded.nEdyypZU.woff2": FAKE})
    r = _request("/static/media/MaterialSymbols-Rounded.nEdyypZU.woff2", subsets)
    assert r.status == 200 and r.body == FAKE.body
    assert r.headers["content-type"] == "font/woff2"
    assert r.headers["content-length"] == str(len(FAKE.body))
    assert r.headers["etag"] == FAKE.etag and r.headers["cache-control"] == "no-cache"
    head = _request("/static/media/MaterialSymbols-Rounded.nEdyypZU.woff2", subsets, method="HEAD")
    assert head.body == b"" and head.headers["content-length"] == str(len(FAKE.body))


def test_a_browser_with_the_same_copy_gets_a_304_and_one_with_another_gets_the_new_copy():
    subsets = ready({"MaterialSymbols-Rounded.nEdyypZU.woff2": FAKE})
    path = "/static/media/MaterialSymbols-Rounded.nEdyypZU.woff2"
    same = _request(path, subsets, headers=[(b"if-none-match", b'W/"gg-old", "gg-abc"')])
    assert same.status == 304 and same.body == b"" and same.headers["etag"] == FAKE.etag
    other = _request(path, subsets, headers=[(b"if-none-match", b'"gg-old"')])
    assert other.status == 200 and other.body == FAKE.body


def test_everything_else_goes_to_streamlit():
    subsets = ready({"MaterialSymbols-Rounded.nEdyypZU.woff2": FAKE, "SourceSansVF-Upright.ttf.BsWL4Kly.woff2": FAKE})
    for path in ("/", "/map", "/static/js/index.js", "/static/media/KaTeX_Main-Regular.B22Nviop.woff2",
                 "/static/media/SourceCodeVF-Upright.ttf.BjWn63N-.woff2",
                 "/static/media/SourceSerifVariable-Roman.ttf.mdpVL9bi.woff2",
                 "/static/media/MaterialSymbols-Rounded.OTHERHASH.woff2",  # not a file this Streamlit has
                 "/static/media/MaterialSymbols-Rounded.nEdyypZU.woff2/x",
                 "/x/static/media/MaterialSymbols-Rounded.nEdyypZU.woff2"):
        assert _request(path, subsets).body == f"streamlit {path}".encode(), path
    assert _request("/static/media/MaterialSymbols-Rounded.nEdyypZU.woff2", subsets, method="POST").status == 200
    assert _request("/static/media/MaterialSymbols-Rounded.nEdyypZU.woff2", subsets, method="POST").body \
        == b"streamlit /static/media/MaterialSymbols-Rounded.nEdyypZU.woff2"
    assert _request("/static/media/SourceSansVF-Upright.ttf.BsWL4Kly.woff2", subsets).body == FAKE.body


def test_the_middleware_follows_the_base_url_path():
    subsets = ready({"MaterialSymbols-Rounded.nEdyypZU.woff2": FAKE})
    path = "/good-growth/static/media/MaterialSymbols-Rounded.nEdyypZU.woff2"
    assert _request(path, subsets, base_url_path="/good-growth/").body == FAKE.body
    plain = "/static/media/MaterialSymbols-Rounded.nEdyypZU.woff2"
    assert _request(plain, subsets, base_url_path="/good-growth/").body == f"streamlit {plain}".encode()


def test_until_the_copies_are_ready_streamlit_serves_its_originals_and_the_build_starts():
    gate, calls = threading.Event(), []

    def slow() -> dict[str, fonts.Subset]:
        calls.append(1)
        gate.wait(10)
        return {"MaterialSymbols-Rounded.nEdyypZU.woff2": FAKE}

    subsets = fonts.Subsets(slow)
    path = "/static/media/MaterialSymbols-Rounded.nEdyypZU.woff2"
    assert _request(path, subsets).body == f"streamlit {path}".encode()
    assert _request(path, subsets).body == f"streamlit {path}".encode()
    gate.set()
    assert subsets.warm() == {"MaterialSymbols-Rounded.nEdyypZU.woff2": FAKE}
    assert calls == [1]  # built once, however many requests came first
    assert _request(path, subsets).body == FAKE.body


def test_a_failure_to_subset_serves_streamlits_fonts_and_logs_one_line(caplog):
    def broken() -> dict[str, fonts.Subset]:
        raise ValueError("bad GSUB")

    subsets = fonts.Subsets(broken)
    with caplog.at_level(logging.INFO, logger=fonts.log.name):
        assert subsets.warm() == {}
        assert subsets.warm() == {}  # not retried on every request
    lines = [r for r in caplog.records if r.name == fonts.log.name]
    assert len(lines) == 1 and "bad GSUB" in lines[0].getMessage() and lines[0].levelno == logging.WARNING
    path = "/static/media/MaterialSymbols-Rounded.nEdyypZU.woff2"
    assert _request(path, subsets).body == f"streamlit {path}".encode()


def test_the_server_builds_the_same_copies_in_a_child_process(built):
    """The child keeps fontTools' memory out of the server; what it writes is what `build` makes."""
    assert fonts.build_in_subprocess() == built


def test_a_failing_child_process_is_reported_by_its_last_line(monkeypatch):
    def failed(*args, **kwargs):
        return subprocess.CompletedProcess(args, 1, "", "Traceback ...\nKeyError: 'GSUB'\n")
    from app_pages.web import child_process
    monkeypatch.setattr(child_process.subprocess, "run", failed)
    with pytest.raises(RuntimeError, match="KeyError: 'GSUB'"):
        fonts.build_in_subprocess()


def test_the_child_process_needs_its_output_folder():
    with pytest.raises(SystemExit, match="usage"):
        fonts.main([])


def test_build_fails_clearly_without_streamlits_fonts(tmp_path):
    (tmp_path / "static" / "media").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no Material Symbols or Source Sans"):
        fonts.build(tmp_path)


def test_the_asgi_app_puts_the_fonts_in_front_of_streamlit():
    source = (fonts.ROOT / "asgi.py").read_text(encoding="utf-8")
    assert "Middleware(FontSubsetMiddleware" in source and "Middleware(FirstPaintMiddleware" in source
