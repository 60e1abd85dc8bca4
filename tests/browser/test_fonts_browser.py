"""The smaller fonts in a real browser: the server sends the copies (app_pages.web.fonts), and every
Material icon on the pages still draws as one glyph, not as its name spelt out in letters."""
from __future__ import annotations

import pytest

from tests.support.browser import SCREENSHOTS, exceptions_shown, open_app, screenshot_full

pytestmark = pytest.mark.browser

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
