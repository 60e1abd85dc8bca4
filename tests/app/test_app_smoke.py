"""The app runs on the committed snapshot and says what it holds."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def test_app_shows_what_the_snapshot_holds():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Good Growth"
    labels = [m.label for m in at.metric]
    assert "Indicators" in labels and "Districts with values" in labels
    assert any("Open Government Licence" in c.value for c in at.caption)
    assert len(at.dataframe) >= 3


def test_app_explains_a_missing_snapshot_without_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("GOOD_GROWTH_SNAPSHOT_DIR", str(tmp_path / "nothing-here"))
    from data_sources.settings import get_settings
    get_settings.cache_clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    finally:
        get_settings.cache_clear()
    assert not at.exception
    assert "could not be loaded" in at.error[0].value
