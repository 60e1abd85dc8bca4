"""The smaller fonts in a real browser: the server sends the copies (app_pages.web.fonts), and every
Material icon on the pages still draws as one glyph, not as its name spelt out in letters."""
from __future__ import annotations

import base64
import html
import io

import pytest

from app_pages.web import fonts
from tests.support.browser import SCREENSHOTS, exceptions_shown, new_context, open_app, screenshot_full

pytestmark = pytest.mark.browser

MEDIA = fonts.static_dir() / fonts.MEDIA
ICON_FILE = next(MEDIA.glob("MaterialSymbols-Rounded.*.woff2"))
UPRIGHT_FILE = next(MEDIA.glob("SourceSansVF-Upright.ttf.*.woff2"))
ITALIC_FILE = next(MEDIA.glob("SourceSansVF-Italic.ttf.*.woff2"))

# Each Material icon on the page: its name, font size and the drawn width of its text. A ligature is one
# glyph 1 em wide; the same name in letters is one em per letter.
ICONS_JS = """async () => {
  await document.fonts.ready;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.children.length || !el.textContent.trim()) continue;
    const style = getComputedStyle(el);
    if (!style.fontFamily.includes('Material Symbols')) continue;
    const box = el.getBoundingClientRect();
    if (!box.width && !box.height) continue;  // not displayed (a collapsed menu)
    const range = document.createRange();
    range.selectNodeContents(el);
    out.push({name: el.textContent.trim(), em: parseFloat(style.fontSize), width: range.getBoundingClientRect().width,
              testid: el.dataset.testid || ''});
  }
  return {icons: out, loaded: [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)};
}"""


def _icons(page) -> dict:
    return page.evaluate(ICONS_JS)


def _font_sizes(page) -> dict[str, int]:
    """Body sizes of the woff2 fonts the page downloaded, by file name."""
    sizes: dict[str, int] = {}
    page.on("response", lambda r: sizes.__setitem__(r.url.rsplit("/", 1)[-1], len(r.body()))
            if r.url.endswith(".woff2") and r.status == 200 else None)
    return sizes


@pytest.mark.parametrize("path, expected", [
    ("/", {"home", "map", "location_on", "compare_arrows", "trending_up", "checklist", "description"}),
    ("/map", {"zoom_in", "zoom_out", "fit_screen"}),
    ("/profile?place=E08000035", {"search"}),
], ids=["home", "map", "profile"])
def test_icons_draw_as_one_glyph_from_the_smaller_font(fresh_page, app_url, path, expected):
    page = fresh_page
    sizes = _font_sizes(page)
    open_app(page, app_url + path)
    found = _icons(page)
    assert "Material Symbols Rounded" in found["loaded"]
    names = {i["name"] for i in found["icons"]}
    assert expected <= names, f"icons on {path}: {sorted(names)}"
    # the sidebar's navigation: every page's icon
    assert {"home", "map", "location_on", "savings", "how_to_vote", "upload_file"} <= names
    spelt_out = [i for i in found["icons"] if not 0.5 * i["em"] <= i["width"] <= 1.25 * i["em"]]
    assert spelt_out == [], f"icons drawn as letters (width not ~1 em): {spelt_out}"
    # and the fonts that drew them were the server's small copies, not Streamlit's originals
    icon_font = [n for n in sizes if n.startswith("MaterialSymbols-Rounded.")]
    text_font = [n for n in sizes if n.startswith("SourceSansVF-Upright.")]
    assert icon_font and sizes[icon_font[0]] < 100_000, sizes
    assert text_font and sizes[text_font[0]] < 60_000, sizes
    assert exceptions_shown(page) == []
    name = "fonts-" + (path.strip("/").split("?")[0] or "home")
    screenshot_full(page, name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator('[data-testid="stSidebar"]').screenshot(path=str(SCREENSHOTS / f"{name}-sidebar.png"))


# ------------------------------------------------------------------ the copies draw exactly as the originals

PADDING = 24  # px around each copy, so glyphs overhanging their line box stay in their own screenshot


def _font_face(family: str, data: bytes, style: str = "normal", weight: str = "400") -> str:
    return (f"@font-face{{font-family:'{family}';font-style:{style};font-weight:{weight};font-display:block;"
            f"src:url(data:font/woff2;base64,{base64.b64encode(data).decode()}) format('woff2')}}")


def _pixels_of_both(chromium, faces: str, body_css: str, content: str) -> tuple[bytes, bytes]:
    """Screenshots of the same content set in family 'full' and in family 'small'."""
    ctx = new_context(chromium, {"width": 1200, "height": 800})
    try:
        page = ctx.new_page()
        page.set_content(f"<style>{faces} body{{margin:8px}} .s{{{body_css};padding:{PADDING}px 0;margin-bottom:{PADDING}px}}"
                         f" #full{{font-family:'full'}}"
                         f" #small{{font-family:'small'}}</style><div id=full class=s>{content}</div>"
                         f"<div id=small class=s>{content}</div>")
        page.evaluate("document.fonts.ready")
        page.wait_for_function("[...document.fonts].every(f => f.status === 'loaded')")
        return page.locator("#full").screenshot(), page.locator("#small").screenshot()
    finally:
        ctx.close()


def test_every_kept_icon_draws_pixel_for_pixel_as_with_the_full_font(chromium):
    original = ICON_FILE.read_bytes()
    names = sorted(fonts.icon_names())
    small = fonts.icon_subset(original, names)
    faces = _font_face("full", original) + _font_face("small", small)
    content = " ".join(f"<span>{n}</span>" for n in names)
    css = "font-size:24px;line-height:1;font-feature-settings:'liga';word-wrap:normal;width:1150px"
    full_png, small_png = _pixels_of_both(chromium, faces, css, content)
    assert full_png == small_png


# FreeType's autohinter (Chromium on Linux) picks a glyph's hinting by the scripts the font's characters
# cover, so without Cyrillic and Greek these few glyphs land up to a pixel row apart (the f-ligatures'
# crossbar, the raised ordinals): anti-aliasing, not a different letter. Every other glyph is identical.
AUTOHINTED_DIFFERENTLY = {"ª", "º", "µ", "∆", "ft", "ff", "fft", "ffi"}
CELL = 56  # px: one character per cell, so a difference can be traced to its character


@pytest.mark.parametrize("path, style", [(UPRIGHT_FILE, "normal"), (ITALIC_FILE, "italic")], ids=["upright", "italic"])
@pytest.mark.parametrize("weight", [400, 700])
def test_every_kept_character_draws_pixel_for_pixel_as_with_the_full_font(chromium, path, style, weight):
    from PIL import Image, ImageChops
    from fontTools.ttLib import TTFont

    original = path.read_bytes()
    small = fonts.text_subset(original, fonts.ui_text())
    items = [chr(u) for u in sorted(TTFont(io.BytesIO(small)).getBestCmap()) if u > 0x20]
    items += ["ft", "ff", "fft", "fi", "fl", "ffi"]
    per_row = 20
    cells = "".join(f"<span style='display:inline-block;width:{CELL}px;height:{CELL}px;overflow:hidden'>"
                    f"{html.escape(x)}</span>" for x in items)
    faces = _font_face("full", original, style, "100 900") + _font_face("small", small, style, "100 900")
    css = (f"font-size:16px;font-weight:{weight};font-style:{style};width:{per_row * CELL}px;"
           f"line-height:{CELL}px")
    full_png, small_png = _pixels_of_both(chromium, faces, css, cells)
    diff = ImageChops.difference(Image.open(io.BytesIO(full_png)).convert("L"),
                                 Image.open(io.BytesIO(small_png)).convert("L"))
    top = PADDING
    differ = {x for i, x in enumerate(items)
              if diff.crop(((i % per_row) * CELL, top + (i // per_row) * CELL,
                            (i % per_row + 1) * CELL, top + (i // per_row + 1) * CELL)).getbbox()}
    assert len(items) > 350
    assert differ <= AUTOHINTED_DIFFERENTLY, sorted(differ - AUTOHINTED_DIFFERENTLY)
