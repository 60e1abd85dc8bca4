"""The profile's first paint: the place is named in the HTML shell, before Streamlit has started."""
from __future__ import annotations

import re

import pytest

from app_pages.web import first_paint
from tests.support.asgi_call import request, streamlit_stand_in


def _request(path: str, method: str = "GET", base_url_path: str = ""):
    return request(first_paint.FirstPaintMiddleware(streamlit_stand_in, base_url_path=base_url_path), path, method)


def test_a_place_is_named_in_the_title_heading_and_description():
    page = first_paint.profile_page("place=E08000035&benchmark=region")
    assert "<title>Leeds (E08000035) · Place profile · Good Growth</title>" in page
    assert "<h2>Leeds (E08000035)</h2>" in page
    assert 'name="description" content="Leeds: public-service outcomes' in page
    assert "Region: Yorkshire and The Humber (E12000003)" in page
    assert page.count("<title>") == 1  # Streamlit's own "Streamlit" title is replaced


def test_the_shell_keeps_streamlits_own_page_intact():
    """Streamlit's scripts, styles and root element are all still there, and the one script added is a
    same-origin file the hosted copy's Content-Security-Policy ('self') admits, run before Streamlit's."""
    page = first_paint.profile_page("place=E08000035")
    original = first_paint._streamlit_index()
    for tag in re.findall(r"<(?:script|link)[^>]*>", original):
        assert tag in page
    assert '<div id="root"></div>' in page
    assert page.count("<script") == original.count("<script") + 1
    assert page.count(first_paint.BACKEND_TAG) == 1
    assert re.search(r'<script defer src="\./static/[\w.-]+\.js"></script>', first_paint.BACKEND_TAG)
    assert page.index(first_paint.BACKEND_TAG) < page.index('<script type="module"')
    assert page.index('id="root"') < page.index('id="gg-first-paint"') < page.index("</body>")


def test_every_page_of_the_app_gets_a_shell_with_its_title():
    """SHELL_PAGES is app.py's pages: a page added there and not here would miss the faster start."""
    from pathlib import Path
    app = (Path(first_paint.__file__).resolve().parents[2] / "app.py").read_text(encoding="utf-8")
    pages = dict((path, title) for title, path in re.findall(
        r'st\.Page\("[^"]+",\s*title="([^"]+)",[^)]*?url_path="([^"]+)"', app, flags=re.S))
    assert pages == first_paint.SHELL_PAGES
    for path, title in pages.items():
        shell = first_paint.page_shell(path)
        assert f"<title>{title.replace('&', '&amp;')} · Good Growth</title>" in shell
        assert first_paint.BACKEND_TAG in shell


@pytest.mark.parametrize("query", ["", "place=", "place=E99999999", "place=not-a-code", "place=<b>x</b>",
                                   "place=E08000035" + "0" * 5000])
def test_no_known_place_gives_the_plain_page_heading(query):
    page = first_paint.profile_page(query)
    assert "<h1>Place profile</h1>" in page and "<h2>" not in page
    assert "<title>Place profile · Good Growth</title>" in page
    assert "<b>" not in page


def test_a_lower_case_code_is_the_same_place():
    assert "<h2>Leeds (E08000035)</h2>" in first_paint.profile_page("place=e08000035")


def test_names_are_escaped(monkeypatch):
    monkeypatch.setattr(first_paint, "_place", lambda *_: ("A & <B>", "Region: <R>", ("<notice>",)))
    page = first_paint.profile_page("place=E08000035")
    assert "<h2>A &amp; &lt;B&gt; (E08000035)</h2>" in page and "Region: &lt;R&gt;" in page
    assert "&lt;notice&gt;" in page and "<notice>" not in page


def test_the_middleware_answers_the_pages_and_the_backend_script_only():
    r = _request("/profile?place=E08000035")
    assert r.status == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache"
    assert int(r.headers["content-length"]) == len(r.text.encode())
    assert "<h2>Leeds (E08000035)</h2>" in r.text
    assert _request("/profile?place=E08000035", method="HEAD").text == ""
    r = _request("/map?indicator=gross-median-weekly-pay")
    assert "<title>Map explorer · Good Growth</title>" in r.text and 'id="gg-first-paint"' not in r.text
    r = _request("/compare?places=E08000035,E08000025")
    assert "<title>Compare places · Good Growth</title>" in r.text and 'id="gg-first-paint"' not in r.text
    script = _request("/static/good-growth-backend.js")
    assert script.status == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "BACKEND_BASE_URL" in script.text and "document.currentScript" in script.text
    for path in ("/", "/profile/x", "/_stcore/health", "/static/js/index.js", "/static/other.js"):
        assert _request(path).text == f"streamlit {path}"
    assert _request("/profile", method="POST").text == "streamlit /profile"


def test_the_middleware_follows_the_base_url_path():
    assert "<h2>Leeds" in _request("/good-growth/profile?place=E08000035", base_url_path="/good-growth/").text
    assert _request("/profile?place=E08000035", base_url_path="/good-growth/").text == "streamlit /profile"
    assert "BACKEND_BASE_URL" in _request("/good-growth/static/good-growth-backend.js", base_url_path="good-growth").text
    assert _request("/static/good-growth-backend.js", base_url_path="/good-growth/").text == (
        "streamlit /static/good-growth-backend.js")


def test_a_failure_serves_streamlits_plain_shell_and_logs_why(monkeypatch, caplog):
    def broken(_query: str) -> str:
        raise OSError("snapshot unreadable")
    monkeypatch.setattr(first_paint, "profile_page", broken)
    r = _request("/profile?place=E08000035")
    assert r.text == "streamlit /profile"
    assert "first paint not built" in caplog.text and "snapshot unreadable" in caplog.text


def test_the_block_hides_once_streamlit_draws_and_stays_without_javascript():
    page = first_paint.profile_page("place=E08000035")
    assert 'body:has([data-testid="stMain"] :is(h1,h2,[role="alert"],[data-testid="stAlert"]' in page
    assert f"gg-first-paint-hide 0s {first_paint.HIDE_AFTER_S}s forwards" in page
    assert "<noscript><style>#gg-first-paint{animation:none}" in page


@pytest.mark.parametrize("page", sorted(first_paint.PAGE_CHUNKS))
def test_every_chunk_a_page_preloads_exists_in_this_streamlit(page):
    """A Streamlit upgrade renames its chunks: the preload is then merely lost, and this test names
    the stems to record again (a first visit's requests for /static/js/ after index.html's own)."""
    from streamlit import file_util
    from pathlib import Path
    names = {f.name for f in (Path(file_util.get_static_dir()) / "static" / "js").glob("*.js")}
    missing = [stem for stem in first_paint.PAGE_CHUNKS[page]
               if not any(re.match(rf"^{re.escape(stem)}\.[A-Za-z0-9_-]{{8}}\.js$", n) for n in names)]
    assert missing == []


def test_preloads_are_module_links_not_already_in_streamlits_page():
    original = first_paint._streamlit_index()
    links = re.findall(r'<link rel="modulepreload" crossorigin href="(\./static/js/[^"]+)">',
                       first_paint.preloads("profile"))
    assert len(links) >= len(first_paint.PAGE_CHUNKS["profile"]) - 1 and len(set(links)) == len(links)
    assert not any(href in original for href in links)
    page = first_paint.profile_page("place=E08000035")
    assert all(href in page for href in links) and page.index(links[0]) < page.index("</head>")
    assert first_paint.preloads("nowhere") == ""
