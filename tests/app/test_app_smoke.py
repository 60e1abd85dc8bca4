"""The app's landing page (home) runs on the committed snapshot; a missing snapshot is explained, not thrown."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def test_landing_page_is_home_with_search_and_attribution():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value == "Good Growth"
    assert at.text_input(key="home_search").value == ""
    assert any("good growth" in m.value.lower() for m in at.markdown)
    assert any("Open Government Licence" in c.value for c in at.caption)


def test_app_explains_a_missing_snapshot_without_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("GOOD_GROWTH_SNAPSHOT_DIR", str(tmp_path / "nothing-here"))
    from data_sources.settings import get_settings
    get_settings.cache_clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    finally:
        get_settings.cache_clear()
    assert not at.exception
    assert any("could not" in e.value.lower() or "sorry" in e.value.lower() for e in at.error)
